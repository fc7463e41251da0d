import CairnAPI
import Foundation
import Kube

/// What the maintenance keeper decides from what it read: pure.
enum MaintenancePlan {
    /// One restic repository behind a storage, and the configurations that write to it.
    struct Repository: Sendable, Equatable {
        /// Where the maintenance Job runs.
        var namespace: String
        /// The configurations using it, in the order their encryption Secrets are tried.
        var configurations: [BackupConfiguration]
        /// Whether any of them has written a backup, so that the repository exists.
        var hasBackups: Bool {
            configurations.contains { $0.status?.lastSuccessfulBackup != nil }
        }
    }

    static let readyCondition = "Ready"
    static let healthyCondition = "RepositoryHealthy"
    static let scheduledCondition = "MaintenanceScheduled"

    /// The repositories of `storage` given the configurations that name it. A remote or node-path
    /// backend is one repository, whoever writes to it: it is maintained once, from the storage's
    /// own namespace when a configuration there uses it, else from the first namespace by name. A
    /// PVC backend is a repository per namespace, since each namespace mounts its own PVC.
    static func repositories(of storage: BackupStorage, users: [BackupConfiguration]) -> [Repository] {
        let storageNamespace = storage.metadata.namespace ?? ""
        let sorted = users.sorted { ($0.metadata.namespace ?? "", $0.metadata.name ?? "") < ($1.metadata.namespace ?? "", $1.metadata.name ?? "") }
        let byNamespace = Dictionary(grouping: sorted) { $0.metadata.namespace ?? "" }
        if storage.spec.backend.local?.pvc != nil {
            return byNamespace.keys.sorted().map { Repository(namespace: $0, configurations: byNamespace[$0] ?? []) }
        }
        guard let first = sorted.first else { return [] }
        let namespace = byNamespace[storageNamespace] != nil ? storageNamespace : first.metadata.namespace ?? ""
        // Every configuration is a candidate, those of the Job's namespace first: the Job can only
        // read Secrets of its own namespace, so the others are there for the record.
        return [Repository(namespace: namespace, configurations: byNamespace[namespace] ?? [])]
    }

    /// The `RepositoryHealthy` condition from each repository's last run: False when a check found
    /// damage, True when every repository's last check passed, Unknown before the first.
    static func health(_ entries: [RepositoryMaintenanceStatus], now: Date) -> Condition {
        let time = KubeTime.time(now)
        if let damaged = entries.first(where: { $0.reason == FailureReason.repositoryDamaged }) {
            return Condition(type: healthyCondition, status: .false, reason: FailureReason.repositoryDamaged,
                             message: "the repository maintained from namespace \(damaged.namespace): \(damaged.message ?? "restic check found errors")",
                             lastTransitionTime: time)
        }
        let checked = entries.filter { $0.lastSuccessfulTime != nil }
        guard !entries.isEmpty, checked.count == entries.count else {
            let waiting = entries.filter { $0.lastSuccessfulTime == nil }.map(\.namespace)
            return Condition(type: healthyCondition, status: .unknown, reason: "NotCheckedYet",
                             message: entries.isEmpty ? "no BackupConfiguration uses this storage, so there is no repository to check"
                                 : "no maintenance has checked the repository of namespace(s) \(waiting.joined(separator: ", ")) yet",
                             lastTransitionTime: time)
        }
        return Condition(type: healthyCondition, status: .true, reason: "Checked",
                         message: "restic check found no errors in \(entries.count == 1 ? "the repository" : "\(entries.count) repositories")",
                         lastTransitionTime: time)
    }

    /// The agent's reasons, as the status and Events carry them.
    enum FailureReason {
        static let repositoryDamaged = "RepositoryDamaged"
    }
}
