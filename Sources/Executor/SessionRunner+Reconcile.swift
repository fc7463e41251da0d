import Blueprint
import CairnAPI
import Foundation
import Kube
import Logging
import YAML

extension SessionRunner {
    /// Reconciles one BackupSession: a table of contents of the steps below.
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let node = sessions.get(key), !node.isDeleting else { return .done }
        let session: BackupSession
        do {
            session = try NodeDecoder().decode(BackupSession.self, from: node)
        } catch {
            // Terminal: retrying cannot make it decode; the next edit of the session brings it back.
            logger.error("BackupSession \(key) does not decode and is not run: \(error)")
            return .done
        }
        do {
            defer { publishLoad() }
            let job = jobs.get(namespace: key.namespace, name: SessionNaming.backupJob(session: key.name))
            switch SessionPlan.stage(session, job: job) {
            case .finished:
                places.withLock { _ = $0.removeValue(forKey: key) }
                try await collectHistory(of: session)
                return .done
            case .following(let job):
                return try await follow(session, node, job: job)
            case .jobGone:
                return try await jobGone(session, node)
            case .starting:
                return try await start(session, node)
            }
        } catch let error as KubeError where error.kind == .conflict || error.kind == .alreadyExists {
            // The cache lags behind the server (a status written, a Secret copied by a pass a moment ago): look again.
            logger.debug("requeued after \(error.kind): \(error.message)", metadata: ["key": "\(key)"])
            return .requeue(after: options.conflictRequeue)
        }
    }

    // MARK: Starting

    /// Checks the session, then queues it, fails it, or creates its Job.
    private func start(_ session: BackupSession, _ node: Node) async throws -> ReconcileResult {
        let key = ObjectKey(node)
        let validation = SessionValidation.validate(try await observeStart(session))
        if case .success(let run) = validation {
            places.withLock { $0[key] = run.node.map { .node($0) } ?? .anywhere }
        }
        let settings = BackupJob.Settings(image: options.agentImage, resources: options.resources, imagePullPolicy: options.imagePullPolicy)
        var (restores, maintenance): ([String], [String]) = ([], [])
        if case .success(let run) = validation {
            restores = try await activeRestores(namespace: run.namespace, configuration: run.configuration)
            maintenance = try await activeMaintenance(run.access.storage, namespace: run.namespace)
        }
        switch SessionPlan.start(session, validation: validation, competition: competition(), settings: settings, now: options.now(),
                                 restores: restores, maintenance: maintenance) {
        case .fail(let status, let failure):
            try await finish(node, status: status, event: (.warning, failure.reason, failure.message))
            return .done
        case .queue(let status):
            if let status {
                try await writeStatus(node, status)
                if session.status?.phase != .queued { recorder.record(node, type: .normal, reason: "Queued", message: status.message ?? "") }
            }
            return .requeue(after: options.queuedRecheck)
        case .start(let run, let job, let status):
            try await reads.bringCredentialsInStep(run.access.credentials)
            guard let created = try await createJob(job, namespace: run.namespace) else {
                // It exists (made before a restart, and not in the cache yet): adopt it.
                guard let existing = try await get(ExecutorResource.jobs, namespace: run.namespace, name: job.name) else {
                    return .requeue(after: options.conflictRequeue)
                }
                return try await follow(session, node, job: existing)
            }
            try await writeStatus(node, status)
            recorder.record(node, type: .normal, reason: "Started", message: "created backup Job \(created.name) for \(run.claims.joined(separator: ", "))")
            if !run.hooksNotRun.isEmpty {
                recorder.record(node, type: .warning, reason: "HooksNotRun", message: SessionPlan.hooksNotRunMessage(run))
            }
            logger.info("started backup Job \(created.name)", metadata: ["key": "\(key)", "node": "\(run.node ?? "any")"])
            return .done
        }
    }

    /// The RestoreSessions of a configuration that have not finished, read from the server: a
    /// session starts once, so the read is rare, and a restore made a moment ago is never missed.
    private func activeRestores(namespace: String, configuration: String) async throws -> [String] {
        try await client.list(ExecutorResource.restores, namespace: namespace).items.filter { restore in
            restore[path: "spec", "source", "configuration"]?.string == configuration && !restore.isDeleting
                && !RestorePlan.isFinished(restore[path: "status", "phase"]?.string)
        }.map(\.name).sorted()
    }

    /// The storage's maintenance Jobs that have not finished, `<namespace>/<name>`, read from the
    /// server for the same reason as the restores.
    private func activeMaintenance(_ storage: NamespacedRef, namespace: String) async throws -> [String] {
        let key = "\(storage.namespace ?? namespace)/\(storage.name)"
        return try await client.list(ExecutorResource.jobs, namespace: options.namespace,
                                     options: ListOptions(labelSelector: "\(MaintenanceJob.roleLabel)=\(Naming.labelValue(storage.name))")).items
            .filter { MaintenanceJob.storageKeys($0) == [key] && !$0.isDeleting && JobResult.read(job: $0, pods: [], operation: .maintain) == .running }
            .map { "\($0.namespace)/\($0.name)" }.sorted()
    }

    /// Creates the Job; nil when one of that name exists already (a restart between creating it
    /// and writing the session's status): the caller then adopts it.
    private func createJob(_ job: Node, namespace: String) async throws -> Node? {
        do {
            return try await client.create(ExecutorResource.jobs, namespace: namespace, job)
        } catch let error as KubeError where error.kind == .alreadyExists {
            logger.info("backup Job \(namespace)/\(job.name) exists already; adopting it")
            return nil
        }
    }

    /// The sessions that hold a slot (their Job exists, or they are Running) and those that wait for one.
    private func competition() -> SessionPlan.Competition {
        var running: [Admission.Slot] = []
        var waiting: [Admission.Slot] = []
        let known = places.withLock { $0 }
        for session in activeSessions() where !session.isDeleting {
            let key = ObjectKey(session)
            let job = jobs.get(namespace: key.namespace, name: SessionNaming.backupJob(session: key.name))
            if job != nil || session[path: "status", "phase"]?.string == SessionPhase.running.rawValue {
                let place = job.map { BackupJob.node(of: $0).map { .node($0) } ?? .anywhere } ?? known[key] ?? .unknown
                running.append(Admission.Slot(key: key, created: session.creationTimestamp, place: place))
            } else {
                waiting.append(Admission.Slot(key: key, created: session.creationTimestamp, place: known[key] ?? .unknown))
            }
        }
        return SessionPlan.Competition(running: running, waiting: waiting,
                                       limits: Admission.Limits(global: options.maxRunning, perNode: options.maxRunningPerNode))
    }

    /// Sets the running and queued gauges from the cache.
    private func publishLoad() {
        let phases = activeSessions().map { $0[path: "status", "phase"]?.string }
        metrics.load(running: phases.filter { $0 == SessionPhase.running.rawValue }.count,
                     queued: phases.filter { $0 == SessionPhase.queued.rawValue }.count)
    }

    // MARK: Following the Job

    /// Adopts a Job, waits for it, or records how it ended.
    private func follow(_ session: BackupSession, _ node: Node, job: Node) async throws -> ReconcileResult {
        if let owner = Self.controllerUID(of: job), owner != node.uid {
            // A session of the same name was deleted and made again; its old Job goes with the GC.
            logger.info("Job \(job.namespace)/\(job.name) belongs to an earlier BackupSession of that name; waiting for it to go")
            return .requeue(after: .seconds(1))
        }
        switch JobResult.read(job: job, pods: []) {
        case .running:
            let status = SessionPlan.running(session, job: job.name, node: BackupJob.node(of: job), now: options.now())
            if status != session.status { try await writeStatus(node, status) }
            return .done
        case .ended:
            // The Pods are read now, from the server: a cached Pod could lag behind the Job's end.
            let pods = try await client.list(ExecutorResource.pods, namespace: job.namespace,
                                             options: ListOptions(labelSelector: "\(ExecutorLabel.backupSession)=\(Naming.labelValue(node.name))")).items
            guard case .ended(let ending) = JobResult.read(job: job, pods: pods) else { return .done }
            let configuration = try await getConfiguration(namespace: node.namespace, name: session.spec.configuration)
            let completion = SessionCompletion.plan(session: session, job: job, ending: ending, configuration: configuration?.decoded, now: options.now())
            try await complete(node, completion, configuration: configuration?.node)
            return .done
        }
    }

    /// A Running session whose Job is not in the cache: read it from the server; if it is gone, fail.
    private func jobGone(_ session: BackupSession, _ node: Node) async throws -> ReconcileResult {
        let name = SessionNaming.backupJob(session: node.name)
        if let job = try await get(ExecutorResource.jobs, namespace: node.namespace, name: name) {
            return try await follow(session, node, job: job)
        }
        let failure = SessionFailure.jobDeleted(namespace: node.namespace, job: name)
        try await finish(node, status: SessionPlan.failed(session, failure, now: options.now()), event: (.warning, failure.reason, failure.message))
        return .done
    }

    /// Creates the Snapshots, records the backup in the configuration's status, then writes the
    /// session's final status, in that order: a pass cut short is redone whole, and each step is idempotent.
    private func complete(_ node: Node, _ completion: SessionCompletion, configuration: Node?) async throws {
        for snapshot in completion.snapshots {
            do {
                _ = try await client.create(ExecutorResource.snapshots, namespace: node.namespace, try NodeEncoder().encode(snapshot))
            } catch let error as KubeError where error.kind == .alreadyExists {
                continue  // made by a pass that was cut short
            }
        }
        if let configuration { try await recordBackup(completion, in: configuration) }
        let status = completion.status
        let type: EventRecorder.EventType = status.phase == .succeeded && status.reason != SessionCompletion.partiallySucceeded ? .normal : .warning
        try await finish(node, status: status, event: (type, status.reason ?? "", status.message ?? ""))
    }

    /// Writes the configuration's `lastBackup` and `lastSuccessfulBackup` when they change.
    private func recordBackup(_ completion: SessionCompletion, in configuration: Node) async throws {
        var live: BackupConfigurationStatus?
        if let status = configuration["status"], status.mapping != nil {
            live = try NodeDecoder().decode(BackupConfigurationStatus.self, from: status)
        }
        guard let status = completion.configurationStatus(live) else { return }
        var object = configuration
        object["status"] = try NodeEncoder().encode(status)
        _ = try await client.updateStatus(ExecutorResource.configurations, namespace: configuration.namespace, object)
    }

    /// Writes a final status, records the Event and counts the session.
    private func finish(_ node: Node, status: BackupSessionStatus, event: (EventRecorder.EventType, String, String)) async throws {
        try await writeStatus(node, status)
        places.withLock { _ = $0.removeValue(forKey: ObjectKey(node)) }
        recorder.record(node, type: event.0, reason: event.1, message: event.2)
        if let phase = status.phase { metrics.finished(phase) }
        logger.info("BackupSession \(node.namespace)/\(node.name) \(status.phase?.rawValue ?? ""): \(status.reason ?? "")")
    }

    func writeStatus(_ node: Node, _ status: BackupSessionStatus) async throws {
        var object = node
        object["status"] = try NodeEncoder().encode(status)
        _ = try await client.updateStatus(ExecutorResource.sessions, namespace: node.namespace, object)
    }

    static func controllerUID(of job: Node) -> String? {
        (job[path: "metadata", "ownerReferences"]?.sequence ?? []).first { $0["controller"]?.bool == true }?["uid"]?.string
    }

    // MARK: History

    /// Deletes the finished sessions of the same configuration and session beyond its `historyLimit`;
    /// only the newest finished one of each group does it, so a restart does not look once per session.
    private func collectHistory(of session: BackupSession) async throws {
        let namespace = session.metadata.namespace ?? ""
        let key = Self.historyKey(namespace: namespace, configuration: session.spec.configuration, session: session.spec.session)
        let group = sessions.byIndex(name: Self.historyIndex, value: key).map { HistoryPlan.Entry(name: $0.name, finished: $0[path: "status", "completionTime"]?.string ?? $0.creationTimestamp) }
        guard let newest = group.max(by: { ($0.finished, $0.name) < ($1.finished, $1.name) }), newest.name == session.metadata.name else { return }
        let limit = try await getConfiguration(namespace: namespace, name: session.spec.configuration)?.decoded.spec.historyLimit
        for name in HistoryPlan.excess(group, limit: limit) {
            do {
                _ = try await client.delete(ExecutorResource.sessions, namespace: namespace, name: name, propagationPolicy: .background)
                logger.info("deleted BackupSession \(namespace)/\(name): beyond the history limit of \(limit ?? HistoryPlan.defaultLimit)")
            } catch let error as KubeError where error.kind == .notFound {
                continue
            }
        }
    }
}
