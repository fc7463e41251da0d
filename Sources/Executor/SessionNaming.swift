import Blueprint
import Foundation

/// Deterministic names for what the executor creates, so a restart never creates anything twice.
public enum SessionNaming {
    /// `<config>-<session>-<yyyyMMddHHmm>` in UTC, named after the time the schedule named rather
    /// than the time it ran; shortened with a hash past 63 characters.
    public static func scheduledSession(configuration: String, session: String, scheduledTime: Date) -> String {
        Naming.shortened("\(configuration)-\(session)-\(minuteStamp(scheduledTime))")
    }

    /// The Job that runs a BackupSession: the same name, so `kubectl get jobs` lines up with
    /// `kubectl get backupsessions`.
    public static func backupJob(session: String) -> String { Naming.shortened(session) }

    /// The Job that runs a RestoreSession: `restore-<restore>`, so it never meets a backup Job's name.
    public static func restoreJob(restore: String) -> String { Naming.shortened("restore-\(restore)") }

    /// `yyyyMMddHHmm` in UTC.
    static func minuteStamp(_ time: Date) -> String {
        let parts = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute], from: time)
        return String(
            format: "%04d%02d%02d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0)
    }
}

extension Calendar {
    /// The Gregorian calendar in UTC.
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
