import CairnAPI
import Foundation
import Kube
import Logging
import YAML

// MARK: - Reconciling one blueprint: finalizer, deletion policy, status

extension AutoBackupController {
    /// Adds the finalizer, carries out `deletionPolicy` once the blueprint is being deleted, and
    /// otherwise writes its status from the targets' reports when it changed.
    ///
    /// A target that names a blueprint that does not exist has no blueprint to report to: its
    /// failure shows as a Warning Event on the target, the `Rendered` condition of its last good
    /// configuration (if any) and the failing-targets gauge, not in any blueprint's status.
    func reconcileBlueprint(_ key: ObjectKey) async throws -> ReconcileResult {
        guard manages(key), let blueprint = blueprints.get(key) else { return .done }
        var logger = logger
        logger[metadataKey: "blueprint"] = "\(key)"
        do {
            if blueprint[path: "metadata", "deletionTimestamp"] != Node?.none {
                try await finalize(blueprint, logger: logger)
                return .done
            }
            let current = try await withFinalizer(blueprint, logger: logger)
            try await writeStatus(of: current, key: key, logger: logger)
            return .done
        } catch let error as KubeError where error.kind == .conflict {
            // Someone else wrote the blueprint since the cache saw it: the cache catches up, then a retry re-reads it.
            counters.withLock { $0.conflicts += 1 }
            logger.debug("requeued after a conflict: \(error.message)")
            return .requeue(after: options.conflictRequeue)
        }
    }

    /// Whether this controller looks after the blueprint: every one when it watches all
    /// namespaces, else those in its namespace (whose generated configurations it can see).
    private func manages(_ key: ObjectKey) -> Bool {
        options.namespace.map { $0 == key.namespace } ?? true
    }

    /// The blueprint with the finalizer, added if it lacked it.
    private func withFinalizer(_ blueprint: Node, logger: Logger) async throws -> Node {
        guard let added = DeletionPlan.addingFinalizer(blueprint) else { return blueprint }
        let updated = try await client.update(CairnResource.blueprints, namespace: blueprint.namespace, added)
        count(\.blueprintUpdates, .update, logger, "added finalizer \(DeletionPlan.finalizer)")
        return updated
    }

    /// Deletes or detaches the configurations generated from the blueprint, then lets it go.
    private func finalize(_ blueprint: Node, logger: Logger) async throws {
        guard DeletionPlan.removingFinalizer(blueprint) != nil else { return }
        let ref = NamespacedRef(name: blueprint.name, namespace: blueprint.namespace)
        let policy = DeletionPlan.policy(of: blueprint)
        // From the server, not the cache: a configuration created a moment ago must not escape the policy.
        let generated = try await client.list(
            CairnResource.configurations, namespace: options.namespace, options: ListOptions(labelSelector: DeletionPlan.selector(for: ref)))
        for action in DeletionPlan.actions(policy: policy, configurations: generated.items) {
            try await carryOut(action, logger: logger)
        }
        // Re-read: the list above took time, and the finalizer removal must not undo a concurrent edit.
        let latest = try await client.get(CairnResource.blueprints, namespace: blueprint.namespace, name: blueprint.name)
        guard let released = DeletionPlan.removingFinalizer(latest) else { return }
        _ = try await client.update(CairnResource.blueprints, namespace: blueprint.namespace, released)
        count(\.blueprintUpdates, .update, logger, "deletionPolicy \(policy.rawValue) carried out for \(generated.items.count) configurations; removed finalizer \(DeletionPlan.finalizer)")
    }

    private func carryOut(_ action: DeletionPlan.Action, logger: Logger) async throws {
        switch action {
        case .delete(let namespace, let name):
            guard try await delete(name, namespace: namespace) else { return }
            count(\.deletes, .delete, logger, "deleted BackupConfiguration \(namespace)/\(name): its blueprint was deleted with deletionPolicy Delete")
        case .detach(let configuration):
            _ = try await client.update(CairnResource.configurations, namespace: configuration.namespace, configuration)
            count(\.updates, .update, logger, "detached BackupConfiguration \(configuration.namespace)/\(configuration.name): its blueprint was deleted with deletionPolicy Orphan")
        }
    }

    /// Writes the blueprint's status from the reports of its targets, when it differs from the live one.
    private func writeStatus(of blueprint: Node, key: ObjectKey, logger: Logger) async throws {
        let ref = NamespacedRef(name: key.name, namespace: key.namespace)
        let reports = book.withLock { $0.reports(naming: ref) }
        let live = try decodeBlueprintStatus(blueprint)
        guard let status = BlueprintStatusPlan.desired(
            live: live, generation: blueprint[path: "metadata", "generation"]?.int, reports: reports, now: KubeTime.time(options.now()))
        else { return }
        var object = blueprint
        object["status"] = try NodeEncoder().encode(status)
        _ = try await client.updateStatus(CairnResource.blueprints, namespace: key.namespace, object)
        counters.withLock {
            $0.statusWrites += 1
            $0.blueprintStatusWrites += 1
        }
        metrics.wrote(.status)
        logger.debug("wrote blueprint status: \(status.targets ?? 0) targets, \(status.failed ?? 0) failed")
    }

    private func decodeBlueprintStatus(_ blueprint: Node) throws -> BackupBlueprintStatus? {
        guard let status = blueprint["status"], status.mapping != nil else { return nil }
        do {
            return try NodeDecoder().decode(BackupBlueprintStatus.self, from: status)
        } catch {
            // Nothing else writes a blueprint's status, so one that does not decode is replaced whole.
            logger.warning("BackupBlueprint \(blueprint.namespace)/\(blueprint.name): status does not decode and is rewritten: \(error)")
            return nil
        }
    }
}
