import CairnAPI
import Foundation
import Kube
import YAML

/// What to do next for one BackupSession, decided from what was observed: pure.
///
/// The runner reads the session, then either follows its Job (whose name is deterministic, so a
/// Job found after a restart is adopted, never duplicated), or checks the session's inputs and
/// starts its Job when the concurrency limits allow.
enum SessionPlan {
    /// Where a session stands.
    enum Stage: Equatable {
        /// Succeeded, Failed or Skipped: only its history is looked after.
        case finished
        /// Its Job exists: follow it.
        case following(Node)
        /// It was Running, and its Job is gone.
        case jobGone
        /// Pending, Queued or new, with no Job: check it and start it.
        case starting
    }

    static func stage(_ session: BackupSession, job: Node?) -> Stage {
        if HistoryPlan.isFinished(session.status?.phase) { return .finished }
        // The scheduler created it to record a skipped run and writes its Skipped status itself.
        if session.metadata.annotations?[Scheduler.skippedAnnotation] != nil { return .finished }
        if let job { return .following(job) }
        return session.status?.phase == .running ? .jobGone : .starting
    }

    /// The Warning that a run goes ahead without its configuration's hooks, which this version
    /// does not run yet: loud, so nobody mistakes a file-level copy of a live database for a dump.
    static func hooksNotRunMessage(_ run: BackupRun) -> String {
        "BackupConfiguration \(run.namespace)/\(run.configuration): spec.hooks (\(run.hooksNotRun.joined(separator: ", "))) are not run by "
            + "this version of Cairn yet, so this backup copies the volumes as they are, without them"
    }

    /// The status of a session whose Job runs; the start time kept from an earlier write.
    static func running(_ session: BackupSession, job: String, node: String?, now: Date) -> BackupSessionStatus {
        var status = session.status ?? BackupSessionStatus()
        if status.phase != .running { status.startTime = KubeTime.time(now) }
        status.phase = .running
        status.reason = "JobCreated"
        status.message = "backup Job \(job) runs" + (node.map { " on node \($0), where its volumes are" } ?? "")
        status.job = job
        return status
    }

    /// What to do for a session without a Job.
    enum Start: Sendable {
        /// Fail the session for good.
        case fail(BackupSessionStatus, SessionFailure)
        /// Write this status (Queued, with the reason), or nothing when it is already written, and wait.
        case queue(BackupSessionStatus?)
        /// Bring the credentials in step, create the Job, then write the status.
        case start(BackupRun, job: Node, status: BackupSessionStatus)
    }

    /// The inputs a session was checked against, and the sessions that compete for a slot.
    struct Competition: Sendable {
        var running: [Admission.Slot]
        var waiting: [Admission.Slot]
        var limits: Admission.Limits
    }

    /// `restores`: the RestoreSessions of the session's configuration that have not finished; the
    /// session waits for them, so no backup reads a volume while it is being restored.
    /// `maintenance`: the active maintenance Jobs of its storage (`<namespace>/<name>`); the session
    /// waits for them, since restic check and prune hold the repository's exclusive lock.
    static func start(_ session: BackupSession, validation: Result<BackupRun, SessionFailure>, competition: Competition,
                      settings: BackupJob.Settings, now: Date, restores: [String] = [], maintenance: [String] = []) -> Start {
        let run: BackupRun
        switch validation {
        case .failure(let failure): return .fail(failed(session, failure, now: now), failure)
        case .success(let valid): run = valid
        }
        if !restores.isEmpty {
            var status = session.status ?? BackupSessionStatus()
            (status.phase, status.reason) = (.queued, "RestoreRunning")
            status.message = "BackupConfiguration \(run.namespace)/\(run.configuration) is being restored by RestoreSession(s) "
                + "\(restores.joined(separator: ", ")); backups of it wait until the restore finishes"
            return .queue(status == session.status ? nil : status)
        }
        if !maintenance.isEmpty {
            var status = session.status ?? BackupSessionStatus()
            (status.phase, status.reason) = (.queued, "MaintenanceRunning")
            status.message = "BackupStorage \(run.access.storage.namespace ?? run.namespace)/\(run.access.storage.name) is being checked and pruned by Job(s) "
                + "\(maintenance.joined(separator: ", ")), which hold the repository's exclusive lock; the backup starts when they finish"
            return .queue(status == session.status ? nil : status)
        }
        let key = ObjectKey(namespace: run.namespace, name: run.backupSession)
        let place: Admission.Place = run.node.map { .node($0) } ?? .anywhere
        let waiting = competition.waiting.map { $0.key == key ? Admission.Slot(key: key, created: $0.created, place: place) : $0 }
        switch Admission.decide(candidate: key, running: competition.running, waiting: waiting, limits: competition.limits) {
        case .wait(let reason, let message):
            var status = session.status ?? BackupSessionStatus()
            (status.phase, status.reason, status.message) = (.queued, reason, message)
            return .queue(status == session.status ? nil : status)
        case .start:
            let job = BackupJob.manifest(run, settings: settings)
            return .start(run, job: job, status: running(session, job: job.name, node: run.node, now: now))
        }
    }

    /// The final status of a session that failed before (or without) its Job.
    static func failed(_ session: BackupSession, _ failure: SessionFailure, now: Date) -> BackupSessionStatus {
        var status = session.status ?? BackupSessionStatus()
        (status.phase, status.reason, status.message) = (.failed, failure.reason, failure.message)
        let time = KubeTime.time(now)
        status.completionTime = time
        if let start = status.startTime { status.duration = SessionCompletion.duration(from: start, to: time) }
        return status
    }
}
