import Foundation

/// A lock seen in the repository.
struct ObservedLock: Equatable, Sendable {
    var id: String
    var exclusive: Bool
    var hostname: String
    var pid: Int
    /// How long ago restic wrote (or last refreshed) it.
    var age: Duration
    /// Whether its process runs on this host now: such a lock is never stale, whatever its age.
    var liveHere: Bool
}

/// What to do about the repository's locks before an operation.
///
/// restic 0.14 cannot remove one lock by ID. It offers `restic unlock`, which removes only what
/// restic itself proves stale (older than 30 minutes, or written on this host by a process that is
/// gone), and `restic unlock --remove-all`, which removes every lock, fresh ones included. So:
/// - no lock older than the threshold: nothing;
/// - every lock older than the threshold (none can belong to a running restic, which refreshes its
///   lock every 5 minutes, as long as the threshold is longer than that): `--remove-all`;
/// - stale and fresh locks together: only `restic unlock`, so a fresh lock is never removed; the
///   stale ones restic cannot prove stale stay, and are logged.
///
/// `--remove-all` leaves a window of one restic start between listing and removal in which a lock
/// taken by a restic starting just then would be removed too; that is the price of restic 0.14 having
/// no way to remove a single lock, and it is paid only when a stale lock is there.
enum StaleLockPlan: Equatable {
    case nothing
    case removeAll(stale: [ObservedLock])
    case resticUnlock(stale: [ObservedLock], fresh: [ObservedLock])

    /// The plan for `locks` with locks older than `threshold` counted as stale.
    static func plan(_ locks: [ObservedLock], threshold: Duration) -> StaleLockPlan {
        let stale = locks.filter { $0.age > threshold && !$0.liveHere }
        if stale.isEmpty { return .nothing }
        if stale.count == locks.count { return .removeAll(stale: stale) }
        return .resticUnlock(stale: stale, fresh: locks.filter { !stale.contains($0) })
    }
}

/// RFC 3339 times as restic and Kubernetes write them, with up to nanosecond fractions.
public enum RFC3339 {
    /// Parses `2026-11-22T06:48:09.168300391Z` or `...+01:00`; nil when it is not RFC 3339.
    public static func parse(_ text: String) -> Date? {
        var base = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            base = String(text[..<dot]) + String(text[text.index(after: dot)...].dropFirst(digits.count))
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: base).map { $0.addingTimeInterval(fraction) }
    }

    /// `2026-11-22T06:48:09Z`.
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
