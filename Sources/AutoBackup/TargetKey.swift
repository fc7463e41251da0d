import CairnAPI
import Kube
import YAML

/// A kind of object Cairn renders configurations for, and where the API serves it.
public struct TargetKind: Hashable, Sendable {
    /// `apps/v1`, `v1`.
    public var apiVersion: String
    /// `Deployment`, `PersistentVolumeClaim`, ...
    public var kind: String
    /// The API resource that lists it.
    public var resource: Resource

    /// Creates a kind served by `resource`.
    public init(apiVersion: String, kind: String, resource: Resource) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.resource = resource
    }

    /// Deployments, StatefulSets, DaemonSets and PersistentVolumeClaims.
    public static let builtIn: [TargetKind] = [
        TargetKind(apiVersion: "apps/v1", kind: "Deployment", resource: Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)),
        TargetKind(apiVersion: "apps/v1", kind: "StatefulSet", resource: Resource(group: "apps", version: "v1", plural: "statefulsets", namespaced: true)),
        TargetKind(apiVersion: "apps/v1", kind: "DaemonSet", resource: Resource(group: "apps", version: "v1", plural: "daemonsets", namespaced: true)),
        TargetKind(apiVersion: "v1", kind: "PersistentVolumeClaim", resource: Resource(group: "", version: "v1", plural: "persistentvolumeclaims", namespaced: true)),
    ]
}

/// The key the reconciler works on: one target object, `Deployment app/db`.
public struct TargetKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The target's kind: one of ``TargetKind/builtIn``, or a kind a blueprint lists in `spec.subjects`.
    public var kind: String
    /// The target's namespace.
    public var namespace: String
    /// The target's name.
    public var name: String

    /// Creates a key.
    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `Deployment app/db`, as logs and messages name it.
    public var description: String { "\(kind) \(namespace)/\(name)" }

    /// Orders by kind, namespace, then name.
    public static func < (lhs: TargetKey, rhs: TargetKey) -> Bool {
        (lhs.kind, lhs.namespace, lhs.name) < (rhs.kind, rhs.namespace, rhs.name)
    }
}

/// The API resources of Cairn's own kinds that the reconciler reads and writes.
public enum CairnResource {
    /// `cairn.dev/v1alpha1 backupblueprints`.
    public static let blueprints = Resource(group: CairnGroup.group, version: CairnGroup.version, plural: "backupblueprints", namespaced: true)
    /// `cairn.dev/v1alpha1 backupconfigurations`.
    public static let configurations = Resource(group: CairnGroup.group, version: CairnGroup.version, plural: "backupconfigurations", namespaced: true)
    /// `cairn.dev/v1alpha1 backupstorages`, which configurations name in `spec.storage`.
    public static let storages = Resource(group: CairnGroup.group, version: CairnGroup.version, plural: "backupstorages", namespaced: true)
    /// `v1 namespaces`, whose labels `Selector` usage policies match.
    public static let namespaces = Resource(group: "", version: "v1", plural: "namespaces", namespaced: false)
}

extension Node {
    /// `metadata.<field>` as a string map; values that are not strings are skipped.
    func stringMap(_ field: String) -> [String: String] {
        var map: [String: String] = [:]
        for pair in self[path: "metadata", field]?.mapping ?? [] {
            if let value = pair.value.string { map[pair.key.scalarText] = value }
        }
        return map
    }

    /// `metadata.namespace`, or empty.
    var namespace: String { self[path: "metadata", "namespace"]?.string ?? "" }
    /// `metadata.name`, or empty.
    var name: String { self[path: "metadata", "name"]?.string ?? "" }
}
