import Blueprint
import CairnAPI
import Foundation
import Kube
import YAML

/// What the restore runner read to start one RestoreSession. A nil member was not found.
struct RestoreInputs: Sendable {
    var restore: RestoreSession
    /// The Snapshots of the restore's namespace.
    var snapshots: [Snapshot] = []
    /// The configuration restored from and what it names; nil when it does not exist.
    var repository: RepositoryInputs?
    /// The target PVC as it exists now.
    var targetClaim: Node?
    /// The PersistentVolume it is bound to.
    var persistentVolume: Node?
    /// The configuration's target workload, for the pod's `fsGroup`/`runAsUser`.
    var workload: Node?
    /// The pods of the namespace.
    var pods: [Node] = []
    /// The backup Jobs of the configuration that have not finished.
    var runningBackups: [String] = []

    var namespace: String { restore.metadata.namespace ?? "" }
    var name: String { restore.metadata.name ?? "" }
    var title: String { "RestoreSession \(namespace)/\(name)" }
}

/// Everything a restore Job is built from, once the restore checked out.
struct RestoreRun: Sendable, Equatable {
    var namespace: String
    var restoreSession: String
    var restoreSessionUID: String
    var configuration: String
    var choice: RestoreSelection.Choice
    var node: String?
    var securityContext: Node?
    var access: RepositoryAccess
    var deadlineSeconds: Int?
}

/// What to do next for one RestoreSession, decided from what was observed: pure.
enum RestorePlan {
    /// `Pending`, `Running`, `Succeeded`, `Failed`.
    enum Phase: String, Sendable {
        case pending = "Pending", running = "Running", succeeded = "Succeeded", failed = "Failed"
    }

    static func isFinished(_ phase: String?) -> Bool { phase == Phase.succeeded.rawValue || phase == Phase.failed.rawValue }

    /// What to do for a restore without a Job.
    enum Start: Sendable {
        /// Fail the restore for good.
        case fail(SessionFailure)
        /// Stay Pending with this reason and message, and look again later.
        case wait(reason: String, message: String)
        /// Record the workload's replicas on the restore when `record`, then scale it to zero.
        case scaleDown(ScaledWorkload, record: Bool)
        /// Create the PVC when given (unless it exists), bring the credentials in step, then create the Job.
        case start(RestoreRun, claim: Node?, job: Node)
    }

    static func start(_ inputs: RestoreInputs, settings: BackupJob.Settings) -> Start {
        let run: RestoreRun
        do {
            run = try check(inputs)
        } catch {
            return .fail(error)
        }
        if !inputs.runningBackups.isEmpty {
            return .wait(reason: "BackupRunning", message: "\(inputs.title) waits for backup Job(s) \(inputs.runningBackups.joined(separator: ", ")) of "
                            + "BackupConfiguration \(inputs.namespace)/\(run.configuration) to finish, so it does not restore under a running backup")
        }
        if inputs.restore.spec.scaleDown == true, let step = scaleDown(inputs, run) { return step }
        let claim = run.choice.createsPVC && inputs.targetClaim == nil ? RestoreJob.claim(inputs.restore) : nil
        return .start(run, claim: claim, job: RestoreJob.manifest(run, settings: settings))
    }

    /// Checks the restore and everything it names, in the order a person would fix them.
    static func check(_ inputs: RestoreInputs) throws(SessionFailure) -> RestoreRun {
        let spec = inputs.restore.spec
        if let named = spec.source.configuration, inputs.repository == nil {
            throw configurationNotFound(inputs, named, field: "spec.source.configuration")
        }
        let choice: RestoreSelection.Choice
        switch RestoreSelection.choose(inputs.restore, among: inputs.snapshots) {
        case .success(let chosen): choice = chosen
        case .failure(let error): throw SessionFailure(reason(of: error), error.description)
        }
        guard let repository = inputs.repository else {
            let owner = inputs.snapshots.first { $0.metadata.name == choice.snapshot }?.spec.configuration ?? ""
            throw configurationNotFound(inputs, owner, field: "spec.source.snapshot (Snapshot \(choice.snapshot)'s configuration)")
        }
        let access = try RepositoryAccess.check(repository)
        let (_, seconds) = try timeout(inputs, repository.configuration)
        if spec.scaleDown == true { try checkScalable(inputs, repository.configuration) }
        try checkTarget(inputs, choice)
        var node: String?
        if let claim = inputs.targetClaim {
            node = try TargetVolumes.placement(claims: [choice.targetPVC], claimObjects: [choice.targetPVC: claim],
                                               volumes: inputs.persistentVolume.map { [$0.name: $0] } ?? [:], pods: inputs.pods).get()
        }
        return RestoreRun(namespace: inputs.namespace, restoreSession: inputs.name, restoreSessionUID: inputs.restore.metadata.uid ?? "",
                          configuration: repository.configuration.metadata.name ?? "", choice: choice, node: node,
                          securityContext: TargetVolumes.securityContext(target: inputs.workload, claims: [choice.targetPVC], pods: inputs.pods),
                          access: access, deadlineSeconds: seconds)
    }

    /// The next step of a scale-down, or nil when the workload is at zero and no pod mounts the PVC.
    private static func scaleDown(_ inputs: RestoreInputs, _ run: RestoreRun) -> Start? {
        let current = inputs.workload?[path: "spec", "replicas"]?.int ?? 1
        guard let scaled = ScaledWorkload.of(inputs.restore) else {
            let target = inputs.repository?.configuration.spec.target
            return .scaleDown(ScaledWorkload(kind: target?.kind ?? "", name: target?.name ?? "", replicas: current), record: true)
        }
        if current != 0 { return .scaleDown(scaled, record: false) }
        let pods = TargetVolumes.runningPods(mounting: run.choice.targetPVC, in: inputs.pods).map(\.name)
        guard pods.isEmpty else {
            return .wait(reason: "ScalingDown", message: "\(inputs.title) scaled \(scaled.kind) \(inputs.namespace)/\(scaled.name) to 0 and waits for "
                            + "pod(s) \(pods.joined(separator: ", ")), which mount PVC \(run.choice.targetPVC), to stop")
        }
        return nil
    }

    /// A restore with `spec.scaleDown` needs its configuration's target to be a Deployment or StatefulSet that exists.
    private static func checkScalable(_ inputs: RestoreInputs, _ configuration: BackupConfiguration) throws(SessionFailure) {
        let target = configuration.spec.target
        guard ScaledWorkload.kinds.contains(target.kind) else {
            throw SessionFailure("CannotScaleDown", "\(inputs.title): spec.scaleDown is true, but BackupConfiguration \(inputs.namespace)/\(configuration.metadata.name ?? "") "
                                    + "targets a \(target.kind) (spec.target), and only a Deployment or StatefulSet can be scaled; stop its users yourself and remove spec.scaleDown")
        }
        guard inputs.workload != nil else {
            throw SessionFailure("TargetNotFound", "\(inputs.title): spec.scaleDown is true, but \(target.kind) \(inputs.namespace)/\(target.name), the target of "
                                    + "BackupConfiguration \(inputs.namespace)/\(configuration.metadata.name ?? ""), does not exist; remove spec.scaleDown, or fix spec.target")
        }
    }

    private static func configurationNotFound(_ inputs: RestoreInputs, _ configuration: String, field: String) -> SessionFailure {
        SessionFailure("ConfigurationNotFound",
                       "\(inputs.title): \(field) names BackupConfiguration \(inputs.namespace)/\(configuration), which does not exist; "
                           + "name an existing configuration (kubectl get bc -n \(inputs.namespace)), or delete this restore")
    }

    /// The reason for a refused selection, by the field at fault.
    private static func reason(of error: RestoreSelectionError) -> String {
        switch error.field {
        case "spec.target.pvc": "SnapshotOfAnotherPVC"
        case "spec.target": "InvalidTarget"
        case "spec.source.before": "InvalidBefore"
        default: "SnapshotNotFound"
        }
    }

    /// The restore's `spec.timeout`, else its configuration's.
    private static func timeout(_ inputs: RestoreInputs, _ configuration: BackupConfiguration) throws(SessionFailure) -> (String?, Int?) {
        if let own = inputs.restore.spec.timeout {
            return try SessionValidation.parseTimeout(own) { SessionFailure("InvalidTimeout", "\(inputs.title): spec.timeout: \($0)") }
        }
        return try SessionValidation.parseTimeout(configuration)
    }

    private static func checkTarget(_ inputs: RestoreInputs, _ choice: RestoreSelection.Choice) throws(SessionFailure) {
        guard choice.createsPVC else {
            guard inputs.targetClaim != nil else {
                throw SessionFailure("PVCNotFound", "\(inputs.title): spec.target.pvc names PersistentVolumeClaim \(inputs.namespace)/\(choice.targetPVC), "
                                        + "which does not exist; create it, or set spec.target.pvcTemplate to have Cairn create a new one")
            }
            return
        }
        guard let existing = inputs.targetClaim else { return }
        guard existing.stringMap("labels")[ExecutorLabel.restoreSession] == Naming.labelValue(inputs.name) else {
            throw SessionFailure("PVCExists", "\(inputs.title): spec.target.pvcTemplate.name is \(choice.targetPVC), but PersistentVolumeClaim "
                                    + "\(inputs.namespace)/\(choice.targetPVC) exists already and was not made for this restore; choose another name, "
                                    + "or restore into it with spec.target.pvc")
        }
    }

    // MARK: Statuses

    /// The status of a restore that waits.
    static func pending(_ restore: RestoreSession, reason: String, message: String) -> RestoreSessionStatus {
        var status = restore.status ?? RestoreSessionStatus()
        (status.phase, status.reason, status.message) = (Phase.pending.rawValue, reason, message)
        return status
    }

    /// The status of a restore whose Job runs; the start time kept from an earlier write.
    static func running(_ restore: RestoreSession, job: String, snapshot: String?, pvc: String?, now: Date) -> RestoreSessionStatus {
        var status = restore.status ?? RestoreSessionStatus()
        if status.phase != Phase.running.rawValue { status.startTime = KubeTime.time(now) }
        status.phase = Phase.running.rawValue
        status.reason = "JobCreated"
        status.message = "restore Job \(job) runs"
        if let snapshot { status.snapshot = snapshot }
        if let pvc { status.pvc = pvc }
        return status
    }

    /// The final status of a restore that failed.
    static func failed(_ restore: RestoreSession, _ failure: SessionFailure, now: Date) -> RestoreSessionStatus {
        var status = restore.status ?? RestoreSessionStatus()
        (status.phase, status.reason, status.message) = (Phase.failed.rawValue, failure.reason, failure.message)
        status.completionTime = KubeTime.time(now)
        status.conditions = [Condition(type: "Restored", status: .false, reason: failure.reason, message: failure.message, lastTransitionTime: KubeTime.time(now))]
        return status
    }

    /// The final status of a restore whose Job ended: from the agent's result, never guessed.
    static func completed(_ restore: RestoreSession, job: Node, ending: JobResult.Ending, now: Date) -> RestoreSessionStatus {
        let title = "RestoreSession \(restore.metadata.namespace ?? "")/\(restore.metadata.name ?? "")"
        guard let result = ending.result else {
            return failed(restore, ending.failure ?? SessionFailure("NoResult", "Job \(job.namespace)/\(job.name) ended without a result"), now: now)
        }
        guard result.phase == .succeeded, let figures = result.restored else {
            let reason = result.reason ?? "RestoreFailed"
            return failed(restore, SessionFailure(reason, "\(title): the restore Job \(job.name) failed: \(result.message ?? reason); "
                                                      + "see kubectl logs job/\(job.name) -n \(job.namespace)"), now: now)
        }
        var status = restore.status ?? RestoreSessionStatus()
        let time = ending.completionTime ?? KubeTime.time(now)
        (status.phase, status.reason) = (Phase.succeeded.rawValue, "Restored")
        status.message = "restored \(figures.files) files (\(figures.bytes) bytes) from restic snapshot \(figures.resticSnapshotID.prefix(8))"
        (status.files, status.bytes, status.completionTime) = (figures.files, figures.bytes, time)
        status.startTime = status.startTime ?? result.startTime
        status.conditions = [Condition(type: "Restored", status: .true, reason: "Restored", message: status.message ?? "", lastTransitionTime: time)]
        return status
    }
}
