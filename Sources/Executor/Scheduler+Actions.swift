import Blueprint
import CairnAPI
import Foundation
import Kube
import YAML

extension Scheduler {
    /// Creates the BackupSession a plan asks for; one that exists already is left as it is.
    /// Returns whether it created one.
    func carryOut(_ action: SchedulePlanner.Action, session: String, configuration: BackupConfiguration) async throws -> Bool {
        switch action {
        case .create(let name, let scheduledTime):
            return try await createToRun(name, session: session, scheduledTime: scheduledTime, of: configuration)
        case .replace(let name, let scheduledTime, let replacing):
            try await delete(replacing, for: name, of: configuration)
            return try await createToRun(name, session: session, scheduledTime: scheduledTime, of: configuration)
        case .skip(let name, let scheduledTime, let reason, let message):
            var object = Self.backupSession(name, session: session, scheduledTime: scheduledTime, of: configuration)
            object.metadata.annotations = [Self.skippedAnnotation: reason]
            guard let created = try await create(object) else { return false }
            counters.withLock { $0.skipped += 1 }
            try await writeSkipped(created, reason: reason, message: message)
            return true
        }
    }

    /// Creates the BackupSession that runs the run at `scheduledTime`, counting its lateness.
    private func createToRun(_ name: String, session: String, scheduledTime: Date, of configuration: BackupConfiguration) async throws -> Bool {
        guard try await create(Self.backupSession(name, session: session, scheduledTime: scheduledTime, of: configuration)) != nil else { return false }
        let lateness = clock.now.timeIntervalSince(scheduledTime)
        counters.withLock { $0.created += 1; $0.lateness.append(lateness) }
        logger.info("created BackupSession", metadata: [
            "namespace": "\(configuration.metadata.namespace ?? "")", "name": "\(name)", "lateness": "\(lateness)",
        ])
        return true
    }

    /// Deletes the active sessions `names` for the newer run `newer` (their Jobs, and so their
    /// Pods, go with them through garbage collection), with a Normal Event on the configuration.
    /// One already gone counts as deleted: a pass cut short between the deletes and the create
    /// finds no active session next time and only creates.
    private func delete(_ names: [String], for newer: String, of configuration: BackupConfiguration) async throws {
        let namespace = configuration.metadata.namespace ?? ""
        var deleted: [String] = []
        for name in names {
            do {
                _ = try await client.delete(ExecutorResource.sessions, namespace: namespace, name: name, propagationPolicy: .background)
            } catch let error as KubeError where error.kind == .notFound {
                continue
            }
            deleted.append(name)
            counters.withLock { $0.replaced += 1 }
            logger.info("deleted BackupSession to replace it", metadata: ["namespace": "\(namespace)", "name": "\(name)", "by": "\(newer)"])
        }
        guard !deleted.isEmpty else { return }
        recorder.record(Self.reference(configuration), type: .normal, reason: Self.replacedReason,
                        message: "deleted active BackupSession \(deleted.joined(separator: ", ")) and its Job for the newer run \(newer), as concurrencyPolicy is Replace")
    }

    /// Creates `session`; nil when it exists already.
    private func create(_ session: BackupSession) async throws -> BackupSession? {
        do {
            return try await client.create(ExecutorResource.sessions, namespace: session.metadata.namespace, session)
        } catch let error as KubeError where error.kind == .alreadyExists {
            counters.withLock { $0.alreadyExisted += 1 }
            return nil
        }
    }

    /// A scheduled BackupSession for the run at `scheduledTime`, owned by the configuration and
    /// labelled with its configuration and session.
    static func backupSession(_ name: String, session: String, scheduledTime: Date?, of configuration: BackupConfiguration) -> BackupSession {
        let configurationName = configuration.metadata.name ?? ""
        let labels = [
            CairnLabel.managedBy: CairnLabel.managedByValue,
            SessionLabel.configuration: Naming.labelValue(configurationName), SessionLabel.session: Naming.labelValue(session),
        ]
        var metadata = ObjectMeta(name: name, namespace: configuration.metadata.namespace, labels: labels)
        metadata.ownerReferences = [OwnerReference(
            apiVersion: CairnGroup.apiVersion, kind: "BackupConfiguration", name: configurationName,
            uid: configuration.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)]
        return BackupSession(metadata: metadata, spec: BackupSessionSpec(
            configuration: configurationName, session: session, trigger: .scheduled, scheduledTime: scheduledTime.map(KubeTime.time)))
    }

    /// Writes phase Skipped, its reason and message on a session created to record a skipped run.
    private func writeSkipped(_ session: BackupSession, reason: String, message: String) async throws {
        var updated = session
        var status = BackupSessionStatus(phase: .skipped)
        status.reason = reason
        status.message = message
        status.completionTime = KubeTime.time(clock.now)
        updated.status = status
        _ = try await client.updateStatus(ExecutorResource.sessions, namespace: session.metadata.namespace, NodeEncoder().encode(updated))
    }

    /// Writes the Skipped status again on recorded skips that have none (a write lost to a crash).
    func repairSkipped(_ runs: [Run]) async throws {
        for case let (node, reason)? in runs.map(\.unwrittenSkip) {
            let session = try NodeDecoder().decode(BackupSession.self, from: node)
            try await writeSkipped(session, reason: reason, message: "the scheduler recorded this run as skipped (\(reason))")
        }
    }

    /// A Warning Event, once per missed run, that a run was too late to start.
    func reportMissed(_ missed: Date, session: String, configuration: BackupConfiguration, next: Date?) {
        let id = "\(configuration.metadata.namespace ?? "")/\(configuration.metadata.name ?? "")/\(session)"
        let isNew = reportedMisses.withLock { reported in
            defer { reported[id] = missed }
            return reported[id] != missed
        }
        guard isNew else { return }
        counters.withLock { $0.missed += 1 }
        let nextText = next.map { "; the next run is at \(KubeTime.time($0))" } ?? ""
        recorder.record(
            Self.reference(configuration), type: .warning, reason: Self.missedReason,
            message: "session \(session): the run scheduled at \(KubeTime.time(missed)) was missed by more than "
                + "startingDeadline \(configuration.spec.startingDeadline ?? "") and is not started\(nextText)")
    }

    /// Writes the scheduler's part of the configuration's status when it changed, with a Warning
    /// Event when a schedule turned invalid or its problem changed.
    func writeStatus(_ node: Node, _ configuration: BackupConfiguration, _ outcome: SessionOutcome, now: Date) async throws -> ReconcileResult {
        guard let status = ScheduleStatus.updated(configuration.status, runs: outcome.runs, errors: outcome.errors, now: now) else {
            return .done
        }
        let old = configuration.status?.conditions?.first { $0.type == ScheduleStatus.conditionType }
        let new = status.conditions?.first { $0.type == ScheduleStatus.conditionType }
        if let new, new.status == .false, old?.message != new.message {
            recorder.record(Self.reference(configuration), type: .warning, reason: ScheduleStatus.invalidReason, message: new.message)
        }
        var updated = node
        updated["status"] = try NodeEncoder().encode(status)
        do {
            _ = try await client.updateStatus(ExecutorResource.configurations, namespace: configuration.metadata.namespace, updated)
            counters.withLock { $0.statusWrites += 1 }
            return .done
        } catch let error as KubeError where error.kind == .conflict {
            counters.withLock { $0.conflicts += 1 }
            return .requeue(after: options.conflictRequeue)
        }
    }

    /// The configuration as an Event's involved object.
    static func reference(_ configuration: BackupConfiguration) -> Node {
        .mapping([
            "apiVersion": .string(configuration.apiVersion), "kind": .string(configuration.kind),
            "metadata": .mapping([
                "name": .string(configuration.metadata.name ?? ""), "namespace": .string(configuration.metadata.namespace ?? ""),
                "uid": .string(configuration.metadata.uid ?? ""),
            ]),
        ])
    }
}
