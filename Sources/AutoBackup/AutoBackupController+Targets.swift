import Blueprint
import CairnAPI
import Foundation
import Kube
import Logging
import YAML

// MARK: - Reconciling one target

extension AutoBackupController {
    /// Reconciles one target and records the metrics of the pass.
    func reconcile(_ key: TargetKey) async throws -> ReconcileResult {
        let started = ContinuousClock.now
        metrics.queued(await queue.depth)
        defer { counters.withLock { $0.reconciles += 1 } }
        do {
            let result = try await reconcileTarget(key)
            metrics.reconciled(result == .done ? .success : .requeue, took: ContinuousClock.now - started)
            return result
        } catch {
            metrics.reconciled(.error, took: ContinuousClock.now - started)
            throw error
        }
    }

    /// Renders one target, brings its configuration and that configuration's status in step, and
    /// reports the outcome (Event, blueprint status, metrics).
    private func reconcileTarget(_ key: TargetKey) async throws -> ReconcileResult {
        guard let (object, target) = targetObject(key) else {
            await publish(key, report: nil, target: nil)
            return .done
        }
        let outcome = renderer().render(target, namespaceLabels: namespaceLabels(target.namespace))
        let name = Naming.configurationName(kind: target.kind, name: target.name)
        let live = configurations.get(namespace: target.namespace, name: name)
        if let live, lagsBehindOurWrite(live) { return .done }
        let action = ReconcilePlan.decide(outcome: outcome, live: live, target: target)
        var logger = logger
        logger[metadataKey: "key"] = "\(key)"
        do {
            let written = try await perform(action, namespace: key.namespace, logger: logger)
            let configuration = managedConfiguration(after: action, written: written, live: live, target: target)
            let storage = configuration.flatMap(ReconcilePlan.storage(of:))
            let storageExists = storage.map { storages.get(namespace: $0.namespace ?? "", name: $0.name) != nil } ?? true
            let report = ReconcilePlan.report(outcome: outcome, action: action, missingStorage: storageExists ? nil : storage)
            if let configuration {
                try await writeStatus(configuration, outcome: outcome, report: report, storage: storage, storageExists: storageExists, logger: logger)
            }
            await publish(key, report: report, target: object)
            return .done
        } catch let error as KubeError where error.kind == .conflict || error.kind == .alreadyExists {
            // The cache lags behind the server; its watch event brings the key back, this makes sure.
            counters.withLock { $0.conflicts += 1 }
            logger.debug("requeued after \(error.kind): \(error.message)")
            return .requeue(after: options.conflictRequeue)
        }
    }

    /// The cached target with its kind filled in, or nil when it is gone or going (GC removes its configuration).
    private func targetObject(_ key: TargetKey) -> (Node, RenderTarget)? {
        guard let entry = target(key.kind), var object = entry.informer.get(namespace: key.namespace, name: key.name) else { return nil }
        guard object[path: "metadata", "deletionTimestamp"] == Node?.none else { return nil }
        object["apiVersion"] = .string(entry.kind.apiVersion)
        object["kind"] = .string(entry.kind.kind)
        do {
            return (object, try RenderTarget(manifest: object))
        } catch {
            logger.error("cannot read the target: \(error)", metadata: ["key": "\(key)"])
            return nil
        }
    }

    /// Carries out the action; returns the configuration as the server now holds it, after a create or update.
    private func perform(_ action: ReconcileAction, namespace: String, logger: Logger) async throws -> Node? {
        switch action {
        case .nothing, .warn:
            // Warnings are Events, recorded by `publish` when the target's report changes.
            return nil
        case .create(let configuration):
            let created = try await client.create(CairnResource.configurations, namespace: namespace, configuration)
            count(\.creates, .create, logger, "created BackupConfiguration \(configuration.name)")
            return created
        case .update(let configuration):
            let updated = try await client.update(CairnResource.configurations, namespace: namespace, configuration)
            expectNewer(than: configuration)
            count(\.updates, .update, logger, "updated BackupConfiguration \(configuration.name)")
            return updated
        case .delete(let name):
            // Gone already: a reconcile that ran before the cache saw the deletion.
            guard try await delete(name, namespace: namespace) else { return nil }
            count(\.deletes, .delete, logger, "deleted BackupConfiguration \(name): the target opted out")
            return nil
        }
    }

    /// The configuration AutoBackup keeps for the target after `action`: the one just written, or
    /// the live one when it is Cairn's, generated for this target and not detached.
    private func managedConfiguration(after action: ReconcileAction, written: Node?, live: Node?, target: RenderTarget) -> Node? {
        if let written { return written }
        if case .delete = action { return nil }
        guard let live, ReconcilePlan.isGenerated(live, for: target), !ReconcilePlan.isDetached(live) else { return nil }
        return live
    }

    /// Deletes a configuration; false when it was already gone.
    func delete(_ name: String, namespace: String) async throws -> Bool {
        do {
            try await client.delete(CairnResource.configurations, namespace: namespace, name: name)
            return true
        } catch let error as KubeError where error.kind == .notFound {
            return false
        }
    }

    /// Counts one accepted write in the statistics and the metrics, and logs it.
    func count(_ field: WritableKeyPath<Statistics, Int>, _ verb: AutoBackupMetrics.Verb, _ logger: Logger, _ message: Logger.Message) {
        counters.withLock { $0[keyPath: field] += 1 }
        metrics.wrote(verb)
        logger.info(message)
    }

    // MARK: Configuration status

    /// Writes the configuration's `Rendered`/`Ready` conditions, `managedBy` and `phase`, when they differ from the live ones.
    private func writeStatus(
        _ configuration: Node, outcome: RenderOutcome, report: TargetReport?, storage: NamespacedRef?, storageExists: Bool, logger: Logger
    ) async throws {
        let live = try decodeStatus(configuration)
        let renderFailure = outcome.failure.flatMap { _ in report?.failure }
        let observed = ConfigurationStatusPlan.Observation(
            generation: configuration[path: "metadata", "generation"]?.int, renderedFrom: outcome.rendering?.blueprint,
            renderFailure: renderFailure, storage: storage, storageExists: storageExists)
        guard let status = ConfigurationStatusPlan.desired(live: live, observed: observed, now: KubeTime.time(options.now())) else { return }
        var object = configuration
        object["status"] = try NodeEncoder().encode(status)
        _ = try await client.updateStatus(CairnResource.configurations, namespace: configuration.namespace, object)
        expectNewer(than: configuration)
        counters.withLock { $0.statusWrites += 1 }
        metrics.wrote(.status)
        logger.debug("wrote the status of BackupConfiguration \(configuration.name): \(status.phase ?? "")")
    }

    private func decodeStatus(_ configuration: Node) throws -> BackupConfigurationStatus? {
        guard let status = configuration["status"], status.mapping != nil else { return nil }
        do {
            return try NodeDecoder().decode(BackupConfigurationStatus.self, from: status)
        } catch {
            // Retried with backoff and logged by the runner: overwriting a status we cannot read
            // would lose what the executor wrote there.
            throw AutoBackupError.unreadableStatus(namespace: configuration.namespace, name: configuration.name, error)
        }
    }

    /// Notes that the server now holds something newer than `written`'s resourceVersion.
    private func expectNewer(than written: Node) {
        guard let version = written[path: "metadata", "resourceVersion"]?.string else { return }
        let key = ObjectKey(namespace: written.namespace, name: written.name)
        superseded.withLock { _ = $0[key, default: []].insert(version) }
    }

    /// Whether the cached configuration is one our own write already replaced; forgets the
    /// replaced versions once the cache has moved past them.
    private func lagsBehindOurWrite(_ live: Node) -> Bool {
        let key = ObjectKey(namespace: live.namespace, name: live.name)
        let version = live[path: "metadata", "resourceVersion"]?.string ?? ""
        return superseded.withLock { map in
            guard let versions = map[key] else { return false }
            if versions.contains(version) { return true }
            map[key] = nil
            return false
        }
    }

    // MARK: Reports

    /// Records the target's report; when it changed, records a Warning Event for a new failure,
    /// updates the failing-targets gauge and queues the blueprints whose status it changes.
    func publish(_ key: TargetKey, report: TargetReport?, target: Node?) async {
        if let failure = report?.failure { metrics.failed(failure.reason) }
        let (change, failing) = book.withLock { book in (book.record(key, report), book.failing) }
        guard let change else { return }
        if let failure = report?.failure, let target {
            recorder.record(target, type: .warning, reason: failure.reason, message: failure.message)
            counters.withLock { $0.warnings += 1 }
            logger.info("\(failure.reason): \(failure.message)", metadata: ["key": "\(key)"])
        }
        for reason in change.reasons { metrics.failing(reason, failing[reason] ?? 0) }
        for blueprint in change.blueprints where !blueprint.name.isEmpty {
            await blueprintQueue.addAfter(ObjectKey(namespace: blueprint.namespace ?? "", name: blueprint.name), options.blueprintStatusDelay)
        }
    }
}

/// A failure of the AutoBackup controller that the reconcile cannot work around.
public struct AutoBackupError: Error, CustomStringConvertible {
    private enum Code {
        case unreadableStatus
    }

    private let code: Code
    /// What went wrong, naming the object, the field and the fix.
    public let description: String

    static func unreadableStatus(namespace: String, name: String, _ error: any Error) -> AutoBackupError {
        AutoBackupError(
            code: .unreadableStatus,
            description: "BackupConfiguration \(namespace)/\(name): status does not decode (\(error)); "
                + "fix the status subresource (kubectl edit --subresource=status) or delete the configuration so Cairn renders it again")
    }
}
