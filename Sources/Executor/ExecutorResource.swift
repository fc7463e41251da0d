import CairnAPI
import Kube
import YAML

/// The API resources the executor reads and writes.
public enum ExecutorResource {
    /// `cairn.dev/v1alpha1 backupsessions`.
    public static let sessions = cairn("backupsessions")
    /// `cairn.dev/v1alpha1 backupconfigurations`.
    public static let configurations = cairn("backupconfigurations")
    /// `cairn.dev/v1alpha1 backupstorages`.
    public static let storages = cairn("backupstorages")
    /// `cairn.dev/v1alpha1 restoresessions`.
    public static let restores = cairn("restoresessions")
    /// `cairn.dev/v1alpha1 snapshots`.
    public static let snapshots = cairn("snapshots")
    /// `batch/v1 jobs`.
    public static let jobs = Resource(group: "batch", version: "v1", plural: "jobs", namespaced: true)
    /// `v1 pods`.
    public static let pods = core("pods")
    /// `v1 persistentvolumeclaims`.
    public static let claims = core("persistentvolumeclaims")
    /// `v1 persistentvolumes`.
    public static let volumes = Resource(group: "", version: "v1", plural: "persistentvolumes", namespaced: false)
    /// `v1 secrets`.
    public static let secrets = core("secrets")
    /// `v1 namespaces`.
    public static let namespaces = Resource(group: "", version: "v1", plural: "namespaces", namespaced: false)

    /// The workload kinds whose pod template names the volumes to back up, by kind.
    static let workloads: [String: Resource] = [
        "Deployment": apps("deployments"), "StatefulSet": apps("statefulsets"), "DaemonSet": apps("daemonsets"),
        "ReplicaSet": apps("replicasets"),
    ]

    private static func cairn(_ plural: String) -> Resource {
        Resource(group: CairnGroup.group, version: CairnGroup.version, plural: plural, namespaced: true)
    }

    private static func core(_ plural: String) -> Resource { Resource(group: "", version: "v1", plural: plural, namespaced: true) }
    private static func apps(_ plural: String) -> Resource { Resource(group: "apps", version: "v1", plural: plural, namespaced: true) }
}

/// The labels the executor writes on the Jobs, Pods, Snapshots and Secrets it creates.
public enum ExecutorLabel {
    /// `cairn.dev/configuration`: the BackupConfiguration.
    public static let configuration = "cairn.dev/configuration"
    /// `cairn.dev/session`: the session of that configuration (`nightly`).
    public static let session = "cairn.dev/session"
    /// `cairn.dev/backup-session`: the BackupSession.
    public static let backupSession = "cairn.dev/backup-session"
    /// `cairn.dev/restore-session`: the RestoreSession a restore Job or a restored PVC belongs to.
    public static let restoreSession = "cairn.dev/restore-session"
    /// `cairn.dev/pvc`: the PVC a Snapshot holds.
    public static let pvc = "cairn.dev/pvc"
    /// `cairn.dev/storage`: the BackupStorage a copied credentials Secret comes from.
    public static let storage = "cairn.dev/storage"
    /// `cairn.dev/storage-namespace`: that storage's namespace.
    public static let storageNamespace = "cairn.dev/storage-namespace"
}

extension Node {
    /// `metadata.namespace`, or empty.
    var namespace: String { self[path: "metadata", "namespace"]?.string ?? "" }
    /// `metadata.name`, or empty.
    var name: String { self[path: "metadata", "name"]?.string ?? "" }
    /// `metadata.uid`, or empty.
    var uid: String { self[path: "metadata", "uid"]?.string ?? "" }
    /// `metadata.creationTimestamp`, or empty.
    var creationTimestamp: String { self[path: "metadata", "creationTimestamp"]?.string ?? "" }
    /// Whether `metadata.deletionTimestamp` is set.
    var isDeleting: Bool { self[path: "metadata", "deletionTimestamp"].map { !$0.isNull } ?? false }

    /// `metadata.<field>` as a string map; values that are not strings are skipped.
    func stringMap(_ field: String) -> [String: String] {
        var map: [String: String] = [:]
        for pair in self[path: "metadata", field]?.mapping ?? [] {
            if let key = pair.key.string, let value = pair.value.string { map[key] = value }
        }
        return map
    }

    /// A mapping of strings, keys sorted so equal maps emit equal nodes.
    static func strings(_ map: [String: String]) -> Node {
        .mapping(map.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })
    }
}
