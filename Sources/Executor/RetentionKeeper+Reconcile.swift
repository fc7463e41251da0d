import Blueprint
import CairnAPI
import Foundation
import Kube
import YAML

extension RetentionKeeper {
    /// What a group's retention is planned with.
    struct Policy {
        var configuration: BackupConfiguration
        var node: Node
        var retention: Retention
        var timeZone: TimeZone
    }

    /// Reconciles one group: plans its labels, writes them, then follows its forget Job or starts one.
    func reconcile(_ group: RetentionGroup) async throws -> ReconcileResult {
        defer { counters.withLock { $0.reconciles += 1 } }
        do {
            let members = snapshots.byIndex(name: Self.groupIndex, value: group.description).filter { !$0.isDeleting }
            guard let policy = policy(for: group) else {
                await wakeUps.set(group, at: nil)
                return .done
            }
            let now = clock.now
            let decisions = RetentionPlanner.plan(facts(members, group: group), retention: policy.retention, timeZone: policy.timeZone,
                                                  now: now, grace: options.grace)
            try await writeLabels(decisions, members: members)
            let retry: Date?
            if let job = jobs.byIndex(name: Self.groupIndex, value: group.description).first {
                retry = try await follow(job, group: group, policy: policy)
            } else {
                retry = try await sweep(decisions, members: members, group: group, policy: policy)
            }
            await wakeUps.set(group, at: [Self.nextMark(decisions, after: now), retry].compactMap { $0 }.min())
            return .done
        } catch let error as KubeError where error.kind == .conflict || error.kind == .alreadyExists {
            // The cache lags behind the server (a label written, a Job created a moment ago): look again.
            counters.withLock { $0.conflicts += 1 }
            logger.debug("requeued after \(error.kind): \(error.message)", metadata: ["group": "\(group)"])
            return .requeue(after: options.conflictRequeue)
        }
    }

    // MARK: Planning

    /// The group's configuration, retention and time zone; nil when there is nothing to plan by
    /// (the configuration or its session is gone, or it cannot be read), which keeps everything.
    func policy(for group: RetentionGroup) -> Policy? {
        guard let node = configurations.get(namespace: group.namespace, name: group.configuration), !node.isDeleting else { return nil }
        let configuration: BackupConfiguration
        do {
            configuration = try NodeDecoder().decode(BackupConfiguration.self, from: node)
        } catch {
            // Terminal until the configuration is edited, which wakes the group again.
            logger.error("BackupConfiguration \(group.namespace)/\(group.configuration) does not decode; its snapshots keep their labels: \(error)")
            return nil
        }
        guard let session = configuration.spec.sessions.first(where: { $0.name == group.session }) else { return nil }
        let zoneName = session.timeZone.flatMap { $0.isEmpty ? nil : $0 } ?? "UTC"
        guard TimeZone.knownTimeZoneIdentifiers.contains(zoneName) || zoneName == "UTC", let zone = TimeZone(identifier: zoneName) else {
            recorder.record(node, type: .warning, reason: Self.invalidRetentionReason,
                            message: "session \(group.session): timeZone \"\(zoneName)\" is not an IANA time zone name, so retention is not applied "
                                + "to its snapshots; write one such as \"UTC\" or \"Europe/Berlin\" in spec.sessions[].timeZone")
            return nil
        }
        return Policy(configuration: configuration, node: node, retention: session.retention ?? Retention(), timeZone: zone)
    }

    /// The planner's facts; a Snapshot whose `spec.time` does not parse is left out, so it is never marked.
    private func facts(_ members: [Node], group: RetentionGroup) -> [RetentionPlanner.SnapshotFact] {
        members.compactMap { snapshot in
            guard let time = snapshot[path: "spec", "time"]?.string.flatMap(KubeTime.date) else {
                logger.warning("Snapshot \(snapshot.namespace)/\(snapshot.name) has no valid spec.time; retention leaves it alone", metadata: ["group": "\(group)"])
                return nil
            }
            return RetentionPlanner.SnapshotFact(name: snapshot.name, time: time, labels: snapshot.stringMap("labels"))
        }
    }

    /// The earliest `delete-after` date still to come: when the plan changes next without any event.
    static func nextMark(_ decisions: [RetentionPlanner.Decision], after now: Date) -> Date? {
        decisions.compactMap { $0.labels[RetentionLabel.deleteAfter].flatMap(RetentionPlanner.parseDeleteAfter) }.filter { $0 > now }.min()
    }

    // MARK: Labels

    private func writeLabels(_ decisions: [RetentionPlanner.Decision], members: [Node]) async throws {
        let byName = Dictionary(members.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for decision in decisions where !decision.changes.isEmpty {
            guard let snapshot = byName[decision.name] else { continue }
            try await patchLabels(snapshot, decision.changes)
        }
    }

    /// A merge patch of the labels alone, preconditioned on the resourceVersion read: a Snapshot
    /// changed since (pinned by hand, say) gets a 409 and is planned again from what it is now.
    func patchLabels(_ snapshot: Node, _ changes: [String: String?]) async throws {
        let labels: [Node.Pair] = changes.sorted { $0.key < $1.key }.map { key, value in
            Node.Pair(key: .string(key), value: value.map { .string($0) } ?? .null)
        }
        var metadata: Node = .mapping(["labels": .mapping(labels)])
        if let version = snapshot[path: "metadata", "resourceVersion"]?.string { metadata["resourceVersion"] = .string(version) }
        do {
            _ = try await client.patch(ExecutorResource.snapshots, namespace: snapshot.namespace, name: snapshot.name, .mapping(["metadata": metadata]))
        } catch let error as KubeError where error.kind == .notFound {
            return  // deleted meanwhile: nothing to label
        }
        counters.withLock { $0.labelWrites += 1 }
    }

    // MARK: Sweeping

    /// Starts a forget Job for the snapshots due; returns when to try again if it cannot start.
    private func sweep(_ decisions: [RetentionPlanner.Decision], members: [Node], group: RetentionGroup, policy: Policy) async throws -> Date? {
        let due = Set(decisions.filter(\.sweep).map(\.name))
        var batch: [ForgetJob.Entry] = []
        for snapshot in members.filter({ due.contains($0.name) }).sorted(by: { $0.name < $1.name }) {
            // Only restic snapshots are swept here; one without an ID has nothing to forget in restic.
            guard let id = snapshot[path: "spec", "resticSnapshotID"]?.string, !id.isEmpty else { continue }
            // Read from the server: the Snapshots a finished sweep deleted can still be in the cache
            // after its Job's deletion arrived, and would be swept again by a second Job.
            guard let live = try await reads.get(ExecutorResource.snapshots, namespace: snapshot.namespace, name: snapshot.name),
                  !live.isDeleting, live.uid == snapshot.uid else { continue }
            batch.append(ForgetJob.Entry(snapshot: snapshot.name, resticID: id))
        }
        guard !batch.isEmpty else { return nil }
        let inputs = try await reads.repositoryInputs(policy.configuration, namespace: group.namespace)
        let access: RepositoryAccess
        do {
            access = try RepositoryAccess.check(inputs)
        } catch {
            recorder.record(policy.node, type: .warning, reason: Self.forgetFailedReason,
                            message: "cannot forget \(batch.count) swept snapshot(s) of \(group): \(error.reason): \(error.message); "
                                + "the Snapshot objects are kept and the sweep is tried again")
            return clock.now.addingTimeInterval(options.retryDelay)
        }
        try await reads.bringCredentialsInStep(access.credentials)
        let settings = BackupJob.Settings(image: options.agentImage, resources: options.resources, imagePullPolicy: options.imagePullPolicy)
        let job = ForgetJob.manifest(group, batch: batch, access: access, settings: settings, configurationUID: policy.node.uid)
        _ = try await client.create(ExecutorResource.jobs, namespace: group.namespace, job)  // 409 AlreadyExists: adopted on the next pass
        counters.withLock { $0.forgetJobs += 1 }
        recorder.record(policy.node, type: .normal, reason: Self.sweepingReason,
                        message: "created Job \(job.name) to forget \(batch.count) snapshot(s) of PVC \(group.pvc) past their delete-after date: "
                            + batch.map(\.snapshot).joined(separator: ", "))
        logger.info("created forget Job \(job.name)", metadata: ["group": "\(group)", "snapshots": "\(batch.count)"])
        return nil
    }

    /// Follows a forget Job: when it forgot its batch, deletes those Snapshot objects and the Job;
    /// when it failed, keeps them, warns once, and deletes the Job `retryDelay` later so the next
    /// pass tries again. Returns when to look again, if the clock must wake the group.
    private func follow(_ job: Node, group: RetentionGroup, policy: Policy) async throws -> Date? {
        guard !job.isDeleting, case .ended = JobResult.read(job: job, pods: [], operation: .forget) else { return nil }
        // A pass that just deleted this Job (its batch swept, or its retry due) leaves it in the
        // cache a moment longer, its Pods already collected: only the live Job is read.
        guard let live = try await reads.get(ExecutorResource.jobs, namespace: job.namespace, name: job.name),
              live.uid == job.uid, !live.isDeleting else { return nil }
        // The Pods are read now, from the server: a cached Pod could lag behind the Job's end.
        let pods = try await client.list(ExecutorResource.pods, namespace: job.namespace,
                                         options: ListOptions(labelSelector: "\(ForgetJob.podLabel)=\(Naming.labelValue(job.name))")).items
        guard case .ended(let ending) = JobResult.read(job: job, pods: pods, operation: .forget) else { return nil }
        if let result = ending.result, result.phase == .succeeded {
            try await deleteForgotten(job, result: result, policy: policy)
            return nil
        }
        return try await forgetFailed(job, ending: ending, group: group, policy: policy)
    }

    private func deleteForgotten(_ job: Node, result: AgentResult, policy: Policy) async throws {
        var deleted: [String] = []
        for entry in ForgetJob.batch(of: job) {
            // Only the object that still names the restic snapshot the Job forgot.
            guard let snapshot = try await reads.get(ExecutorResource.snapshots, namespace: job.namespace, name: entry.snapshot),
                  snapshot[path: "spec", "resticSnapshotID"]?.string == entry.resticID else { continue }
            do {
                _ = try await client.delete(ExecutorResource.snapshots, namespace: job.namespace, name: entry.snapshot)
            } catch let error as KubeError where error.kind == .notFound {
                continue
            }
            deleted.append(entry.snapshot)
        }
        counters.withLock { $0.snapshotsDeleted += deleted.count }
        recorder.record(policy.node, type: .normal, reason: Self.sweptReason,
                        message: "Job \(job.name) \(result.message ?? "forgot its snapshots"); deleted Snapshot(s) \(deleted.joined(separator: ", "))")
        try await reads.deleteJob(job)
    }

    private func forgetFailed(_ job: Node, ending: JobResult.Ending, group: RetentionGroup, policy: Policy) async throws -> Date? {
        let now = clock.now
        let (seen, isNew) = failuresSeen.withLock { seen -> (Date, Bool) in
            if let first = seen[job.uid] { return (first, false) }
            seen[job.uid] = now
            return (now, true)
        }
        if isNew {
            counters.withLock { $0.forgetFailures += 1 }
            let reason = ending.result?.reason ?? ending.failure?.reason ?? "Failed"
            let message = ending.result?.message ?? ending.failure?.message ?? "the Job failed"
            recorder.record(policy.node, type: .warning, reason: Self.forgetFailedReason,
                            message: "Job \(job.namespace)/\(job.name) did not forget snapshot(s) \(ForgetJob.batch(of: job).map(\.snapshot).joined(separator: ", ")): "
                                + "\(reason): \(message); the Snapshot objects are kept and the forget is tried again in \(Int(options.retryDelay))s")
            logger.warning("forget Job \(job.name) failed: \(reason): \(message)", metadata: ["group": "\(group)"])
        }
        let retry = seen.addingTimeInterval(options.retryDelay)
        guard now >= retry else { return retry }
        try await reads.deleteJob(job)
        failuresSeen.withLock { _ = $0.removeValue(forKey: job.uid) }
        return nil
    }
}
