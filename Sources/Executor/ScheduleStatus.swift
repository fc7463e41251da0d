import CairnAPI
import Foundation
import Kube

/// The part of a BackupConfiguration's status the scheduler owns: `nextSchedule`, `nextBackup` and
/// the `Scheduled` condition. Pure.
public enum ScheduleStatus {
    /// The condition type: True while every session's schedule is usable.
    public static let conditionType = "Scheduled"
    /// The reason when a schedule, time zone or starting deadline cannot be used.
    public static let invalidReason = "ScheduleInvalid"
    /// The reason when all can.
    public static let validReason = "ScheduleValid"

    /// `current` with the scheduler's fields set from `runs` and `errors`; nil when that changes nothing.
    public static func updated(_ current: BackupConfigurationStatus?, runs: [NextRun], errors: [ScheduleError],
                               now: Date) -> BackupConfigurationStatus? {
        var status = current ?? BackupConfigurationStatus()
        status.nextSchedule = runs.isEmpty ? nil : runs
        status.nextBackup = runs.map(\.time).min()
        status.conditions = Conditions.setting(condition(errors, now: now), in: status.conditions)
        return status == current ? nil : status
    }

    /// The `Scheduled` condition for these errors.
    static func condition(_ errors: [ScheduleError], now: Date) -> Condition {
        guard !errors.isEmpty else {
            return Condition(type: conditionType, status: .true, reason: validReason,
                             message: "every session's schedule is valid", lastTransitionTime: KubeTime.time(now))
        }
        return Condition(type: conditionType, status: .false, reason: invalidReason,
                         message: errors.map(\.description).joined(separator: "; "), lastTransitionTime: KubeTime.time(now))
    }
}
