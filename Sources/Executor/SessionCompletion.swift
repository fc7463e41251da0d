import Blueprint
import CairnAPI
import Foundation
import Kube
import YAML

/// What a finished backup Job leaves behind: the session's final status, one Snapshot per volume
/// backed up, and the record the configuration keeps of its last backups: pure.
///
/// A `PartiallySucceeded` agent result (some files unreadable, the snapshot written) ends the
/// session `Succeeded` with reason `PartiallySucceeded`, a message naming the unreadable files,
/// and the files listed per volume; its snapshots are restorable, so it counts as the
/// configuration's last successful backup too.
struct SessionCompletion: Sendable {
    var status: BackupSessionStatus
    var snapshots: [Snapshot]
    /// For the configuration's `status.lastBackup`.
    var record: BackupRecord
    /// Whether the record is also the `lastSuccessfulBackup`.
    var successful: Bool

    /// The reason a partial success carries.
    static let partiallySucceeded = "PartiallySucceeded"
    /// How many unreadable files the session's message names.
    static let unreadableInMessage = 5

    /// Plans the completion of `session`, whose Job `job` ended as `ending`.
    static func plan(session: BackupSession, job: Node, ending: JobResult.Ending, configuration: BackupConfiguration?, now: Date) -> SessionCompletion {
        let claims = BackupJob.claims(of: job)
        let completionTime = ending.completionTime ?? KubeTime.time(now)
        var status = session.status ?? BackupSessionStatus()
        status.job = job.name
        status.attempts = ending.attempts
        status.completionTime = completionTime
        status.startTime = status.startTime ?? job[path: "status", "startTime"]?.string ?? completionTime
        status.duration = duration(from: status.startTime, to: completionTime)
        let outcome = decideOutcome(ending, claims: claims)
        (status.phase, status.reason, status.message) = (outcome.phase, outcome.reason, outcome.message)
        let snapshots = outcome.phase == .succeeded
            ? makeSnapshots(session: session, job: job, result: ending.result, configuration: configuration, fallbackTime: completionTime) : []
        status.volumes = volumeResults(claims: claims, result: ending.result, failure: outcome.phase == .failed ? outcome.reason : nil, snapshots: snapshots)
        let recordPhase = outcome.phase == .succeeded ? (outcome.reason == partiallySucceeded ? partiallySucceeded : "Succeeded") : "Failed"
        let record = BackupRecord(session: session.spec.session, backupSession: session.metadata.name ?? "", phase: recordPhase, time: completionTime)
        return SessionCompletion(status: status, snapshots: snapshots, record: record, successful: outcome.phase == .succeeded)
    }

    private struct Outcome {
        var phase: SessionPhase
        var reason: String
        var message: String
    }

    private static func decideOutcome(_ ending: JobResult.Ending, claims: [String]) -> Outcome {
        guard let result = ending.result else {
            let failure = ending.failure ?? SessionFailure("NoResult", "the Job ended without a result")
            return Outcome(phase: .failed, reason: failure.reason, message: failure.message)
        }
        let volumes = result.volumes ?? []
        let missing = claims.filter { claim in
            !volumes.contains { $0.pvc == claim && ($0.phase == .failed || $0.resticSnapshotID?.isEmpty == false) }
        }
        if result.phase == .failed || volumes.contains(where: { $0.phase == .failed }) {
            let failed = volumes.filter { $0.phase == .failed }.map { "\($0.pvc): \($0.error ?? "failed")" }
            let message = result.message ?? (failed.isEmpty ? "the agent reported a failure" : failed.joined(separator: "; "))
            return Outcome(phase: .failed, reason: result.reason ?? "BackupFailed", message: message)
        }
        guard missing.isEmpty else {
            return Outcome(phase: .failed, reason: "IncompleteResult",
                           message: "the agent reported no snapshot for PVC \(missing.joined(separator: ", ")), which the Job backed up; the backup is not counted")
        }
        let unreadable = volumes.flatMap { volume in (volume.unreadable ?? []).map { "\(volume.pvc)/\($0)" } }
        let omitted = volumes.reduce(0) { $0 + ($1.omittedUnreadable ?? 0) }
        guard result.phase == .partiallySucceeded || !unreadable.isEmpty || omitted > 0 else {
            let summary = volumes.map { "\($0.pvc) (snapshot \(shortID($0.resticSnapshotID)), \($0.files ?? 0) files, \($0.size ?? 0) bytes)" }
            return Outcome(phase: .succeeded, reason: "Succeeded", message: "backed up \(summary.joined(separator: ", "))")
        }
        return Outcome(phase: .succeeded, reason: partiallySucceeded, message: partialMessage(unreadable, omitted: omitted))
    }

    private static func partialMessage(_ unreadable: [String], omitted: Int) -> String {
        let total = unreadable.count + omitted
        let named = unreadable.prefix(unreadableInMessage).joined(separator: ", ")
        let more = total > min(unreadable.count, unreadableInMessage) ? " and \(total - min(unreadable.count, unreadableInMessage)) more" : ""
        return "snapshots written, but \(total) file\(total == 1 ? "" : "s") could not be read: \(named)\(more); see status.volumes[].unreadable"
    }

    private static func shortID(_ id: String?) -> String { String((id ?? "?").prefix(8)) }

    private static func volumeResults(claims: [String], result: AgentResult?, failure: String?, snapshots: [Snapshot]) -> [VolumeResult] {
        claims.map { claim in
            guard let volume = result?.volumes?.first(where: { $0.pvc == claim }) else {
                var entry = VolumeResult(pvc: claim, phase: AgentPhase.failed.rawValue)
                entry.error = "no result for this volume" + (failure.map { " (\($0))" } ?? "")
                return entry
            }
            var entry = VolumeResult(pvc: claim, phase: volume.phase.rawValue)
            entry.snapshot = snapshots.first { $0.spec.pvc == claim }?.metadata.name
            entry.resticSnapshotID = volume.resticSnapshotID
            (entry.size, entry.files, entry.bytesAdded) = (volume.size, volume.files, volume.bytesAdded)
            entry.unreadable = volume.unreadable
            entry.error = volume.error
            return entry
        }
    }

    /// `<backup session>-<pvc>`, shortened past 63 characters.
    static func snapshotName(backupSession: String, claim: String) -> String { Naming.shortened("\(backupSession)-\(claim)") }

    private static func makeSnapshots(session: BackupSession, job: Node, result: AgentResult?, configuration: BackupConfiguration?, fallbackTime: String) -> [Snapshot] {
        let name = session.metadata.name ?? ""
        let arguments = (job[path: "spec", "template", "spec", "containers"]?.sequence?.first?["args"]?.sequence ?? []).compactMap(\.string)
        return (result?.volumes ?? []).compactMap { volume -> Snapshot? in
            guard volume.phase != .failed, let id = volume.resticSnapshotID, !id.isEmpty else { return nil }
            var spec = SnapshotSpec(configuration: session.spec.configuration, session: session.spec.session, backupSession: name,
                                    pvc: volume.pvc, method: .restic, time: result?.startTime ?? fallbackTime)
            spec.storage = storage(of: job)
            spec.resticSnapshotID = id
            (spec.size, spec.files, spec.bytesAdded) = (volume.size, volume.files, volume.bytesAdded)
            spec.hostname = values(of: "--host", in: arguments).first
            spec.tags = values(of: "--tag", in: arguments) + ["pvc=\(volume.pvc)"]
            var metadata = ObjectMeta(name: snapshotName(backupSession: name, claim: volume.pvc), namespace: session.metadata.namespace, labels: [
                CairnLabel.managedBy: CairnLabel.managedByValue, ExecutorLabel.configuration: Naming.labelValue(session.spec.configuration),
                ExecutorLabel.session: Naming.labelValue(session.spec.session), ExecutorLabel.backupSession: Naming.labelValue(name),
                ExecutorLabel.pvc: Naming.labelValue(volume.pvc),
            ])
            if let configuration, let uid = configuration.metadata.uid {
                metadata.ownerReferences = [OwnerReference(apiVersion: CairnGroup.apiVersion, kind: "BackupConfiguration",
                                                           name: configuration.metadata.name ?? "", uid: uid)]
            }
            return Snapshot(metadata: metadata, spec: spec)
        }
    }

    private static func storage(of job: Node) -> NamespacedRef? {
        guard let text = job.stringMap("annotations")[BackupJob.storageAnnotation], let key = ObjectKey(parsing: text) else { return nil }
        return NamespacedRef(name: key.name, namespace: key.namespace)
    }

    private static func values(of flag: String, in arguments: [String]) -> [String] {
        zip(arguments, arguments.dropFirst()).filter { $0.0 == flag }.map(\.1)
    }

    /// Go's form of the time between two RFC 3339 times, in whole seconds (`1m30s`).
    static func duration(from start: String?, to end: String) -> String? {
        guard let start, let from = KubeTime.date(start), let to = KubeTime.date(end) else { return nil }
        return KubeDuration.seconds(Int64(max(0, to.timeIntervalSince(from)).rounded())).description
    }

    /// The configuration's status with this record as its last (and last successful) backup, or
    /// nil when it already says so or records a later backup.
    func configurationStatus(_ live: BackupConfigurationStatus?) -> BackupConfigurationStatus? {
        var status = live ?? BackupConfigurationStatus()
        if Self.supersedes(record, status.lastBackup) { status.lastBackup = record }
        if successful, Self.supersedes(record, status.lastSuccessfulBackup) { status.lastSuccessfulBackup = record }
        return status == (live ?? BackupConfigurationStatus()) ? nil : status
    }

    private static func supersedes(_ record: BackupRecord, _ existing: BackupRecord?) -> Bool {
        guard let existing else { return true }
        if existing.backupSession == record.backupSession { return existing != record }
        guard let new = KubeTime.date(record.time), let old = KubeTime.date(existing.time) else { return true }
        return new >= old
    }
}
