import Foundation

/// Timestamps as the API writes them: `Time` (`2006-01-02T15:04:05Z`) and `MicroTime`
/// (`2006-01-02T15:04:05.000000Z`), always in UTC.
public enum KubeTime {
    /// Seconds precision, for `metav1.Time` fields such as an Event's `lastTimestamp`.
    public static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Reads an RFC 3339 time as the API writes it, with or without fractional seconds; nil if
    /// it is not one.
    public static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Microsecond precision, for `metav1.MicroTime` fields such as a Lease's `renewTime`.
    public static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
        let whole = time(Date(timeIntervalSince1970: seconds))
        let fraction = String(micros + 1_000_000).dropFirst()  // six digits, zero-padded
        return whole.dropLast() + "." + fraction + "Z"
    }
}
