import Blueprint
import CairnAPI
import Foundation
import Kube
import Metrics
import YAML

/// A `spec.maintenance` that cannot be used, as the condition that says what to fix.
struct InvalidMaintenance: Error {
    var condition: Condition
}

extension MaintenanceKeeper {
    /// The running state one repository's pass starts from.
    private struct Pass {
        var key: ObjectKey
        var node: Node
        var storage: BackupStorage
        var schedule: CronSchedule
        var maintenance: RepositoryMaintenance
        var now: Date
        /// Whether the storage carries `cairn.dev/maintain-now`: a run is due now, paused or not.
        var requested: Bool
    }

    /// Reconciles one storage: its readiness, then each repository's maintenance, then its status.
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        defer { counters.withLock { $0.reconciles += 1 } }
        do {
            guard var node = storages.get(namespace: key.namespace, name: key.name), !node.isDeleting else {
                await wakeUps.set(key, at: nil)
                return .done
            }
            let storage: BackupStorage
            do {
                storage = try NodeDecoder().decode(BackupStorage.self, from: node)
            } catch {
                // Terminal until the storage is edited, which wakes it again.
                logger.error("BackupStorage \(key) does not decode; it is not maintained: \(error)")
                return .done
            }
            let now = clock.now
            var status = storage.status ?? BackupStorageStatus()
            status.observedGeneration = node[path: "metadata", "generation"]?.int
            let ready = try await readiness(storage, key: key, now: now, into: &status)
            var wake: Date?
            let maintenance = storage.spec.maintenance ?? RepositoryMaintenance()
            switch Self.schedule(maintenance, key: key, now: now) {
            case .failure(let invalid):
                status.conditions = Conditions.setting(invalid.condition, in: status.conditions)
                status.maintenanceSchedule = nil
                status.nextMaintenance = nil
            case .success(let schedule):
                status.conditions = Conditions.setting(Self.scheduledCondition(schedule, maintenance, now: now), in: status.conditions)
                status.maintenanceSchedule = schedule.effectiveExpression
                let next = maintenance.paused == true ? nil : schedule.next(after: now)
                status.nextMaintenance = next.map(KubeTime.time)
                // Secrets are not watched: a storage waiting for its credentials looks again now and then.
                wake = ready ? next : [next, now.addingTimeInterval(options.busyRecheck)].compactMap { $0 }.min()
                if ready {
                    let requested = node.stringMap("annotations")[Self.maintainNowAnnotation] != nil
                    let pass = Pass(key: key, node: node, storage: storage, schedule: schedule, maintenance: maintenance, now: now, requested: requested)
                    var entries: [RepositoryMaintenanceStatus] = []
                    var retries: [Date] = []
                    for repository in MaintenancePlan.repositories(of: storage, users: users(of: key)) {
                        let previous = status.repositories?.first { $0.namespace == repository.namespace }
                        let (entry, retry) = try await maintain(repository, previous: previous, pass)
                        entries.append(entry)
                        retries += [retry].compactMap { $0 }
                    }
                    wake = (retries + [wake].compactMap { $0 }).min()
                    // The request is answered once every repository's run started (or has nothing to maintain).
                    if requested, retries.isEmpty { node = try await removeRequest(node) }
                    status.repositories = entries.isEmpty ? nil : entries
                    status.lastMaintenance = entries.compactMap(\.completionTime).max { (KubeTime.date($0) ?? .distantPast) < (KubeTime.date($1) ?? .distantPast) }
                    let health = MaintenancePlan.health(entries, now: now)
                    status.conditions = Conditions.setting(health, in: status.conditions)
                    Gauge(label: "cairn_repository_healthy", dimensions: [("namespace", key.namespace), ("storage", key.name)], factory: options.metricsFactory)
                        .record(health.status == .true ? 1 : health.status == .false ? 0 : -1)
                }
            }
            try await writeStatus(node, status, was: storage.status)
            await wakeUps.set(key, at: wake)
            return .done
        } catch let error as KubeError where error.kind == .conflict || error.kind == .alreadyExists {
            counters.withLock { $0.conflicts += 1 }
            logger.debug("requeued after \(error.kind): \(error.message)", metadata: ["storage": "\(key)"])
            return .requeue(after: options.conflictRequeue)
        }
    }

    // MARK: The storage

    /// Sets `phase`, `repository` and the Ready condition: the backend is one restic understands,
    /// and its credentials Secret exists. Returns whether it is ready.
    private func readiness(_ storage: BackupStorage, key: ObjectKey, now: Date, into status: inout BackupStorageStatus) async throws -> Bool {
        var condition: Condition
        do {
            status.repository = try storage.spec.backend.resticRepository
            condition = Condition(type: MaintenancePlan.readyCondition, status: .true, reason: "Valid",
                                  message: "the backend is valid" + (storage.spec.credentialsSecret.map { " and its credentials Secret \($0.name) exists" } ?? ""),
                                  lastTransitionTime: KubeTime.time(now))
        } catch {
            status.repository = nil
            condition = Condition(type: MaintenancePlan.readyCondition, status: .false, reason: "InvalidBackend",
                                  message: "spec.backend: \(error)", lastTransitionTime: KubeTime.time(now))
        }
        if condition.status == .true, let secret = storage.spec.credentialsSecret?.name,
           try await reads.get(ExecutorResource.secrets, namespace: key.namespace, name: secret) == nil {
            condition = Condition(type: MaintenancePlan.readyCondition, status: .false, reason: "CredentialsNotFound",
                                  message: "spec.credentialsSecret names Secret \(key.namespace)/\(secret), which does not exist; create it with the backend's keys "
                                      + "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for S3, SSH_PRIVATE_KEY and SSH_KNOWN_HOSTS for sftp)",
                                  lastTransitionTime: KubeTime.time(now))
        }
        status.conditions = Conditions.setting(condition, in: status.conditions)
        status.phase = condition.status == .true ? "Ready" : "NotReady"
        return condition.status == .true
    }

    /// The parsed schedule, or the False condition that says what to fix.
    static func schedule(_ maintenance: RepositoryMaintenance, key: ObjectKey, now: Date) -> Result<CronSchedule, InvalidMaintenance> {
        if let subset = maintenance.readDataSubset, !RepositoryMaintenance.isDataSubset(subset) {
            return .failure(InvalidMaintenance(condition: Condition(type: MaintenancePlan.scheduledCondition, status: .false, reason: "InvalidMaintenance",
                                      message: "spec.maintenance.readDataSubset \"\(subset)\" is not a percentage (5%), a fraction n/t (1/10) or a size (500M); "
                                          + "no maintenance runs until it is fixed",
                                      lastTransitionTime: KubeTime.time(now))))
        }
        do {
            return .success(try CronSchedule(maintenance.schedule ?? RepositoryMaintenance.defaultSchedule, timeZone: maintenance.timeZone,
                                             seed: key.description, path: "spec.maintenance"))
        } catch {
            return .failure(InvalidMaintenance(condition: Condition(type: MaintenancePlan.scheduledCondition, status: .false, reason: "InvalidMaintenance",
                                      message: "\(error); no maintenance runs until it is fixed", lastTransitionTime: KubeTime.time(now))))
        }
    }

    private static func scheduledCondition(_ schedule: CronSchedule, _ maintenance: RepositoryMaintenance, now: Date) -> Condition {
        let zone = maintenance.timeZone ?? "UTC"
        if maintenance.paused == true {
            return Condition(type: MaintenancePlan.scheduledCondition, status: .false, reason: "Paused",
                             message: "spec.maintenance.paused is true; no maintenance is started", lastTransitionTime: KubeTime.time(now))
        }
        return Condition(type: MaintenancePlan.scheduledCondition, status: .true, reason: "Scheduled",
                         message: "restic check and prune run at \"\(schedule.effectiveExpression)\" (\(zone))", lastTransitionTime: KubeTime.time(now))
    }

    /// The configurations that name the storage, decoded, without those being deleted.
    private func users(of key: ObjectKey) -> [BackupConfiguration] {
        configurations.byIndex(name: Self.storageIndex, value: key.description).filter { !$0.isDeleting }.compactMap { node in
            do {
                return try NodeDecoder().decode(BackupConfiguration.self, from: node)
            } catch {
                logger.warning("BackupConfiguration \(node.namespace)/\(node.name) does not decode; it is not counted for maintenance: \(error)")
                return nil
            }
        }
    }

    // MARK: One repository

    /// Follows the repository's Job, or starts one when a run is due; returns its status entry and
    /// when to look again (for a run that waits or could not start).
    private func maintain(_ repository: MaintenancePlan.Repository, previous: RepositoryMaintenanceStatus?, _ pass: Pass) async throws
        -> (RepositoryMaintenanceStatus, Date?) {
        var entry = previous ?? RepositoryMaintenanceStatus(namespace: repository.namespace)
        let own = jobs.byIndex(name: Self.storageIndex, value: pass.key.description)
            .filter { $0.namespace == repository.namespace && !$0.isDeleting }
            .sorted { (MaintenanceJob.scheduledTime(of: $0) ?? .distantPast) < (MaintenanceJob.scheduledTime(of: $1) ?? .distantPast) }
        if let latest = own.last {
            if case .running = JobResult.read(job: latest, pods: [], operation: .maintain) {
                entry.phase = "Running"
                entry.job = latest.name
                entry.lastScheduledTime = MaintenanceJob.scheduledTime(of: latest).map(KubeTime.time) ?? entry.lastScheduledTime
                return (entry, nil)
            }
            if entry.job != latest.name || entry.phase == "Running" || entry.completionTime == nil {
                try await record(latest, into: &entry, pass)
            }
        }
        if repository.hasBackups { entry.initialized = true }
        let since = entry.lastScheduledTime.flatMap(KubeTime.date) ?? KubeTime.date(pass.node.creationTimestamp) ?? pass.now
        let thisMinute = Date(timeIntervalSince1970: (pass.now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        let due: Date
        if pass.requested {
            due = thisMinute
        } else if entry.initialized != true {
            // The first run creates the repository before any backup does (the backups wait for it):
            // two first backups creating one at once corrupt it on S3. A failed attempt is tried again later.
            if entry.phase == "Failed", let ended = entry.completionTime.flatMap(KubeTime.date), pass.now < ended.addingTimeInterval(options.retryDelay) {
                return (entry, ended.addingTimeInterval(options.retryDelay))
            }
            due = thisMinute
        } else {
            guard pass.maintenance.paused != true, let scheduled = pass.schedule.latest(after: since, through: pass.now) else { return (entry, nil) }
            due = scheduled
        }
        return try await start(repository, due: due, entry: entry, own: own, create: entry.initialized != true, pass)
    }

    private func start(_ repository: MaintenancePlan.Repository, due: Date, entry previous: RepositoryMaintenanceStatus, own: [Node], create: Bool,
                       _ pass: Pass) async throws -> (RepositoryMaintenanceStatus, Date?) {
        var entry = previous
        // The first configuration whose encryption Secret, usage and credentials check out.
        var chosen: (BackupConfiguration, RepositoryAccess)?
        var failure: SessionFailure?
        for configuration in repository.configurations {
            do {
                chosen = (configuration, try RepositoryAccess.check(try await reads.repositoryInputs(configuration, namespace: repository.namespace)))
                break
            } catch let error as SessionFailure {
                failure = failure ?? error
            }
        }
        guard let (configuration, access) = chosen else {
            let failure = failure ?? SessionFailure("NoConfiguration", "no BackupConfiguration in namespace \(repository.namespace) uses this storage")
            (entry.phase, entry.reason) = ("Failed", failure.reason)
            entry.message = "maintenance cannot start: \(failure.message); it is tried again in \(Int(options.retryDelay))s"
            if entry != previous { recorder.record(pass.node, type: .warning, reason: Self.failedReason, message: entry.message ?? "") }
            return (entry, pass.now.addingTimeInterval(options.retryDelay))
        }
        let busy = try await activeJobs(of: pass.key)
        guard busy.isEmpty else {
            (entry.phase, entry.reason) = ("Waiting", "RepositoryBusy")
            entry.message = "waiting for Job(s) \(busy.joined(separator: ", ")) to finish: restic check and prune need the repository to themselves"
            if entry != previous { recorder.record(pass.node, type: .normal, reason: Self.waitingReason, message: entry.message ?? "") }
            return (entry, pass.now.addingTimeInterval(options.busyRecheck))
        }
        try await reads.bringCredentialsInStep(access.credentials)
        let run = MaintenanceJob.Run(
            storage: NamespacedRef(name: pass.key.name, namespace: pass.key.namespace), storageUID: pass.node.uid, namespace: repository.namespace,
            configuration: configuration.metadata.name ?? "", configurationUID: configuration.metadata.uid ?? "", scheduledTime: due,
            readDataSubset: pass.maintenance.readDataSubset, create: create, access: access)
        let settings = BackupJob.Settings(image: options.agentImage, resources: options.resources, imagePullPolicy: options.imagePullPolicy)
        let job = MaintenanceJob.manifest(run, settings: settings)
        _ = try await client.create(ExecutorResource.jobs, namespace: repository.namespace, job)  // 409 AlreadyExists: adopted on the next pass
        counters.withLock { $0.jobsCreated += 1 }
        // The previous runs' Jobs go: the status keeps what they found.
        for old in own where old.name != job.name { try await reads.deleteJob(old) }
        entry = RepositoryMaintenanceStatus(namespace: repository.namespace)
        entry.lastSuccessfulTime = previous.lastSuccessfulTime
        entry.initialized = create ? false : previous.initialized
        entry.configuration = configuration.metadata.name
        entry.lastScheduledTime = KubeTime.time(due)
        entry.job = job.name
        entry.phase = "Running"
        entry.startTime = KubeTime.time(pass.now)
        recorder.record(pass.node, type: .normal, reason: Self.startedReason,
                        message: "created Job \(repository.namespace)/\(job.name) to \(create ? "create (if missing), " : "")check and prune the repository, "
                            + "with the encryption Secret of BackupConfiguration \(configuration.metadata.name ?? "")")
        logger.info("created maintenance Job \(job.name)", metadata: ["storage": "\(pass.key)", "namespace": "\(repository.namespace)"])
        return (entry, nil)
    }

    /// The active backup, restore and forget Jobs on the storage, `<namespace>/<name>`, read from the
    /// server: a run starts once a week, and a Job made a moment ago must not be missed.
    private func activeJobs(of key: ObjectKey) async throws -> [String] {
        let all = try await client.list(ExecutorResource.jobs, namespace: options.namespace,
                                        options: ListOptions(labelSelector: "\(CairnLabel.managedBy)=\(CairnLabel.managedByValue)")).items
        return all.filter { job in
            MaintenanceJob.storageKeys(job) == [key.description] && job.stringMap("labels")[MaintenanceJob.roleLabel] == nil
                && !job.isDeleting && JobResult.read(job: job, pods: [], operation: .backup) == .running
        }.map { "\($0.namespace)/\($0.name)" }.sorted()
    }

    /// Reads a finished Job's result into the entry, with its Event.
    private func record(_ job: Node, into entry: inout RepositoryMaintenanceStatus, _ pass: Pass) async throws {
        // The Pods are read now, from the server: a cached Pod could lag behind the Job's end.
        let pods = try await client.list(ExecutorResource.pods, namespace: job.namespace,
                                         options: ListOptions(labelSelector: "\(MaintenanceJob.podLabel)=\(Naming.labelValue(job.name))")).items
        guard case .ended(let ending) = JobResult.read(job: job, pods: pods, operation: .maintain) else { return }
        entry.job = job.name
        entry.lastScheduledTime = MaintenanceJob.scheduledTime(of: job).map(KubeTime.time) ?? entry.lastScheduledTime
        entry.startTime = entry.startTime ?? job.creationTimestamp
        entry.completionTime = ending.completionTime ?? KubeTime.time(pass.now)
        if let result = ending.result, result.phase == .succeeded {
            (entry.phase, entry.reason, entry.message) = ("Succeeded", Self.maintainedReason, result.message)
            entry.lastSuccessfulTime = entry.completionTime
            entry.initialized = true
            counters.withLock { $0.succeeded += 1 }
            runs(result: "Succeeded")
            recorder.record(pass.node, type: .normal, reason: Self.maintainedReason,
                            message: "Job \(job.namespace)/\(job.name): \(result.message ?? "the repository was checked and pruned")")
            return
        }
        let reason = ending.result?.reason ?? ending.failure?.reason ?? "Failed"
        let message = ending.result?.message ?? ending.failure?.message ?? "the Job failed"
        (entry.phase, entry.reason, entry.message) = ("Failed", reason, message)
        counters.withLock { $0.failed += 1 }
        runs(result: "Failed")
        let eventReason = reason == MaintenancePlan.FailureReason.repositoryDamaged ? Self.damagedReason : Self.failedReason
        recorder.record(pass.node, type: .warning, reason: eventReason, message: "Job \(job.namespace)/\(job.name): \(reason): \(message)")
        logger.warning("maintenance Job \(job.name) failed: \(reason): \(message)", metadata: ["storage": "\(pass.key)"])
    }

    /// Removes `cairn.dev/maintain-now`; returns the storage as it is now, for the status write.
    /// Unconditional: a second request made in the same instant is answered by the same run.
    private func removeRequest(_ node: Node) async throws -> Node {
        let metadata: Node = .mapping(["annotations": .mapping([Node.Pair(key: .string(Self.maintainNowAnnotation), value: .null)])])
        return try await client.patch(ExecutorResource.storages, namespace: node.namespace, name: node.name, .mapping(["metadata": metadata]))
    }

    /// Counts one finished run.
    private func runs(result: String) {
        Counter(label: "cairn_maintenance_runs_total", dimensions: [("result", result)], factory: options.metricsFactory).increment()
    }

    private func writeStatus(_ node: Node, _ status: BackupStorageStatus, was previous: BackupStorageStatus?) async throws {
        guard Self.withoutTimes(status) != Self.withoutTimes(previous) else { return }
        var object = node
        object["status"] = try NodeEncoder().encode(status)
        _ = try await client.updateStatus(ExecutorResource.storages, namespace: node.namespace, object)
        counters.withLock { $0.statusWrites += 1 }
    }

    /// The status with its conditions' transition times blanked: a pass that changes nothing writes nothing.
    private static func withoutTimes(_ status: BackupStorageStatus?) -> BackupStorageStatus? {
        guard var status else { return nil }
        status.conditions = status.conditions?.map { var condition = $0; condition.lastTransitionTime = ""; return condition }
        return status
    }
}
