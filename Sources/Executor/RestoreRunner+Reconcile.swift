import Blueprint
import CairnAPI
import Kube
import Logging
import YAML

extension RestoreRunner {
    /// Reconciles one RestoreSession: a table of contents of the steps below.
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let node = restores.get(key) else { return .done }
        let restore: RestoreSession
        do {
            restore = try NodeDecoder().decode(RestoreSession.self, from: node)
        } catch {
            // Terminal: retrying cannot make it decode; the next edit of the restore brings it back.
            logger.error("RestoreSession \(key) does not decode and is not run: \(error)")
            return .done
        }
        do {
            if node.isDeleting {
                // Deleted while the workload is scaled down: its finalizer holds it until the restore stops and the workload is back.
                if let scaled = ScaledWorkload.of(restore) { try await abort(restore, scaled, node) }
                return .done
            }
            if RestorePlan.isFinished(restore.status?.phase) {
                if let scaled = ScaledWorkload.of(restore) { try await scaleBack(scaled, node) }
                return .done
            }
            if let job = jobs.get(namespace: key.namespace, name: SessionNaming.restoreJob(restore: key.name)) {
                return try await follow(restore, node, job: job)
            }
            if restore.status?.phase == RestorePlan.Phase.running.rawValue { return try await jobGone(restore, node) }
            return try await start(restore, node)
        } catch let error as KubeError where error.kind == .conflict || error.kind == .alreadyExists {
            logger.debug("requeued after \(error.kind): \(error.message)", metadata: ["key": "\(key)"])
            return .requeue(after: options.conflictRequeue)
        }
    }

    // MARK: Starting

    /// Checks the restore, then waits, fails it, or creates its PVC and Job.
    private func start(_ restore: RestoreSession, _ node: Node) async throws -> ReconcileResult {
        let settings = BackupJob.Settings(image: options.agentImage, resources: options.resources, imagePullPolicy: options.imagePullPolicy)
        switch RestorePlan.start(try await observe(restore), settings: settings) {
        case .fail(let failure):
            try await finish(node, RestorePlan.failed(restore, failure, now: options.now()), event: (.warning, failure.reason, failure.message))
            return .done
        case .wait(let reason, let message):
            let status = RestorePlan.pending(restore, reason: reason, message: message)
            if status != restore.status {
                try await writeStatus(node, status)
                recorder.record(node, type: .normal, reason: reason, message: message)
            }
            return .requeue(after: options.pendingRecheck)
        case .scaleDown(let scaled, let record):
            try await scaleDown(scaled, record: record, node)
            return .requeue(after: options.pendingRecheck)
        case .start(let run, let claim, let job):
            if let claim { try await createIfAbsent(ExecutorResource.claims, claim) }
            try await reads.bringCredentialsInStep(run.access.credentials)
            guard try await createIfAbsent(ExecutorResource.jobs, job) else {
                // It exists (made before a restart, and not in the cache yet): adopt it.
                guard let existing = try await reads.get(ExecutorResource.jobs, namespace: run.namespace, name: job.name) else {
                    return .requeue(after: options.conflictRequeue)
                }
                return try await follow(restore, node, job: existing)
            }
            try await writeStatus(node, RestorePlan.running(restore, job: job.name, snapshot: run.choice.snapshot, pvc: run.choice.targetPVC, now: options.now()))
            recorder.record(node, type: .normal, reason: "Started",
                            message: "created restore Job \(job.name): Snapshot \(run.choice.snapshot) of PVC \(run.choice.sourcePVC) into PVC \(run.choice.targetPVC)")
            if let hooks = restore.spec.hooks?.postRestore, !hooks.isEmpty {
                recorder.record(node, type: .warning, reason: "HooksNotRun", message: "RestoreSession \(node.namespace)/\(node.name): spec.hooks.postRestore "
                                    + "(\(hooks.map(\.name).joined(separator: ", "))) are not run by this version of Cairn yet; run them yourself once it succeeds")
            }
            logger.info("started restore Job \(job.name)", metadata: ["key": "\(ObjectKey(node))"])
            return .done
        }
    }

    /// Records the workload's replicas on the restore (first, so a restart still scales it back),
    /// then scales it to zero.
    private func scaleDown(_ scaled: ScaledWorkload, record: Bool, _ node: Node) async throws {
        guard let resource = ExecutorResource.workloads[scaled.kind] else { return }
        if record {
            var object = node
            var annotations = object[path: "metadata", "annotations"] ?? .mapping([])
            annotations[ScaledWorkload.annotation] = .string(scaled.text)
            object["metadata"]?["annotations"] = annotations
            object["metadata"]?["finalizers"] = .sequence(Self.finalizers(of: node, adding: true).map { .string($0) })
            _ = try await client.update(ExecutorResource.restores, namespace: node.namespace, object)
        }
        _ = try await client.patch(resource, namespace: node.namespace, name: scaled.name, ScaledWorkload.replicasPatch(0))
        if record {
            recorder.record(node, type: .normal, reason: "ScaledDown", message: "scaled \(scaled.kind) \(node.namespace)/\(scaled.name) from \(scaled.replicas) to 0 for the restore")
        }
    }

    /// Scales the workload back to the replicas it had, then forgets them; whether the restore
    /// succeeded or failed.
    private func scaleBack(_ scaled: ScaledWorkload, _ node: Node) async throws {
        if let resource = ExecutorResource.workloads[scaled.kind] {
            do {
                _ = try await client.patch(resource, namespace: node.namespace, name: scaled.name, ScaledWorkload.replicasPatch(scaled.replicas))
                recorder.record(node, type: .normal, reason: "ScaledBack", message: "scaled \(scaled.kind) \(node.namespace)/\(scaled.name) back to \(scaled.replicas)")
            } catch let error as KubeError where error.kind == .notFound {
                logger.info("\(scaled.kind) \(node.namespace)/\(scaled.name) is gone; nothing to scale back")
            }
        }
        var object = node
        var annotations = object[path: "metadata", "annotations"] ?? .mapping([])
        annotations[ScaledWorkload.annotation] = nil
        object["metadata"]?["annotations"] = annotations
        object["metadata"]?["finalizers"] = .sequence(Self.finalizers(of: node, adding: false).map { .string($0) })
        _ = try await client.update(ExecutorResource.restores, namespace: node.namespace, object)
    }

    /// A restore deleted while its workload is scaled down: stops its Job (the PVC may then hold a
    /// partial restore, which a Warning says), scales the workload back, and lets the deletion finish.
    private func abort(_ restore: RestoreSession, _ scaled: ScaledWorkload, _ node: Node) async throws {
        if !RestorePlan.isFinished(restore.status?.phase) {
            let name = SessionNaming.restoreJob(restore: node.name)
            do {
                _ = try await client.delete(ExecutorResource.jobs, namespace: node.namespace, name: name, propagationPolicy: .background)
                recorder.record(node, type: .warning, reason: "RestoreAborted",
                                message: "RestoreSession \(node.namespace)/\(node.name) was deleted before it finished; its Job \(name) was stopped, "
                                    + "so PVC \(restore.status?.pvc ?? restore.spec.target.pvc ?? "") may hold a partial restore")
            } catch let error as KubeError where error.kind == .notFound {
                // Not started yet, or gone already: nothing wrote to the PVC.
            }
        }
        try await scaleBack(scaled, node)
    }

    /// `cairn.dev/scale-back`: holds a deleted restore until its workload is scaled back.
    static let scaleBackFinalizer = "cairn.dev/scale-back"

    private static func finalizers(of node: Node, adding: Bool) -> [String] {
        let current = node[path: "metadata", "finalizers"]?.sequence?.compactMap(\.string) ?? []
        let others = current.filter { $0 != scaleBackFinalizer }
        return adding ? others + [scaleBackFinalizer] : others
    }

    /// Creates an object; false when one of that name exists already (made by a pass cut short).
    @discardableResult
    private func createIfAbsent(_ resource: Resource, _ object: Node) async throws -> Bool {
        do {
            _ = try await client.create(resource, namespace: object.namespace, object)
            return true
        } catch let error as KubeError where error.kind == .alreadyExists {
            logger.info("\(resource.plural) \(object.namespace)/\(object.name) exists already; adopting it")
            return false
        }
    }

    /// Reads, from the server, what a restore names: the Snapshots, the configuration and what it
    /// names, the target PVC, its volume and the pods, and the configuration's running backups.
    func observe(_ restore: RestoreSession) async throws -> RestoreInputs {
        var inputs = RestoreInputs(restore: restore)
        let namespace = inputs.namespace
        inputs.snapshots = try await client.list(ExecutorResource.snapshots, namespace: namespace).items
            .map { try reads.decode(Snapshot.self, $0, what: "Snapshot \(namespace)/\($0.name)") }
        let named = restore.spec.source.configuration
            ?? inputs.snapshots.first { $0.metadata.name == restore.spec.source.snapshot }?.spec.configuration
        if let named, let configuration = try await reads.configuration(namespace: namespace, name: named)?.decoded {
            inputs.repository = try await reads.repositoryInputs(configuration, namespace: namespace)
            if let resource = ExecutorResource.workloads[configuration.spec.target.kind] {
                inputs.workload = try await reads.get(resource, namespace: namespace, name: configuration.spec.target.name)
            }
            inputs.runningBackups = try await runningBackups(namespace: namespace, configuration: named)
        }
        if let claim = restore.spec.target.pvc ?? restore.spec.target.pvcTemplate?.name {
            inputs.targetClaim = try await reads.get(ExecutorResource.claims, namespace: namespace, name: claim)
            if let volume = inputs.targetClaim?[path: "spec", "volumeName"]?.string {
                inputs.persistentVolume = try await reads.get(ExecutorResource.volumes, name: volume)
            }
            inputs.pods = try await client.list(ExecutorResource.pods, namespace: namespace).items
        }
        return inputs
    }

    /// The backup Jobs of a configuration that have not finished.
    private func runningBackups(namespace: String, configuration: String) async throws -> [String] {
        let selector = "\(ExecutorLabel.configuration)=\(Naming.labelValue(configuration)),\(ExecutorLabel.backupSession)"
        let jobs = try await client.list(ExecutorResource.jobs, namespace: namespace, options: ListOptions(labelSelector: selector)).items
        return jobs.filter { JobResult.read(job: $0, pods: []) == .running }.map(\.name).sorted()
    }

    // MARK: Following the Job

    /// Adopts a Job, waits for it, or records how it ended.
    private func follow(_ restore: RestoreSession, _ node: Node, job: Node) async throws -> ReconcileResult {
        if let owner = SessionRunner.controllerUID(of: job), owner != node.uid {
            logger.info("Job \(job.namespace)/\(job.name) belongs to an earlier RestoreSession of that name; waiting for it to go")
            return .requeue(after: .seconds(1))
        }
        guard case .ended = JobResult.read(job: job, pods: [], operation: .restore) else {
            let snapshot = job.stringMap("annotations")[RestoreJob.snapshotAnnotation]
            let status = RestorePlan.running(restore, job: job.name, snapshot: snapshot, pvc: BackupJob.claims(of: job).first, now: options.now())
            if status != restore.status { try await writeStatus(node, status) }
            return .done
        }
        // The Pods are read now, from the server: a cached Pod could lag behind the Job's end.
        let selector = "\(ExecutorLabel.restoreSession)=\(Naming.labelValue(node.name))"
        let pods = try await client.list(ExecutorResource.pods, namespace: job.namespace, options: ListOptions(labelSelector: selector)).items
        guard case .ended(let ending) = JobResult.read(job: job, pods: pods, operation: .restore) else { return .done }
        let status = RestorePlan.completed(restore, job: job, ending: ending, now: options.now())
        let succeeded = status.phase == RestorePlan.Phase.succeeded.rawValue
        try await finish(node, status, event: (succeeded ? .normal : .warning, succeeded ? "Succeeded" : status.reason ?? "", status.message ?? ""))
        return .done
    }

    /// A Running restore whose Job is not in the cache: read it from the server; if it is gone, fail.
    private func jobGone(_ restore: RestoreSession, _ node: Node) async throws -> ReconcileResult {
        let name = SessionNaming.restoreJob(restore: node.name)
        if let job = try await reads.get(ExecutorResource.jobs, namespace: node.namespace, name: name) {
            return try await follow(restore, node, job: job)
        }
        let failure = SessionFailure("JobDeleted", "Job \(node.namespace)/\(name) was deleted before it finished, so the restore's result is unknown "
                                         + "and the PVC may be half written; create a new RestoreSession")
        try await finish(node, RestorePlan.failed(restore, failure, now: options.now()), event: (.warning, failure.reason, failure.message))
        return .done
    }

    /// Writes a final status and records the Event.
    private func finish(_ node: Node, _ status: RestoreSessionStatus, event: (EventRecorder.EventType, String, String)) async throws {
        try await writeStatus(node, status)
        recorder.record(node, type: event.0, reason: event.1, message: event.2)
        logger.info("RestoreSession \(node.namespace)/\(node.name) \(status.phase ?? ""): \(status.reason ?? "")")
    }

    private func writeStatus(_ node: Node, _ status: RestoreSessionStatus) async throws {
        var object = node
        object["status"] = try NodeEncoder().encode(status)
        _ = try await client.updateStatus(ExecutorResource.restores, namespace: node.namespace, object)
    }
}
