import CairnAPI
import YAML

/// A resource as storage knows it: an API group and a plural (`deployments.apps`).
public struct GroupResource: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The API group; empty for the core group.
    public var group: String
    /// The plural resource name.
    public var plural: String

    /// Creates a group/resource pair.
    public init(group: String, plural: String) {
        self.group = group
        self.plural = plural
    }

    /// `pods`, `deployments.apps`, as the API server names resources in messages.
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public static func < (lhs: GroupResource, rhs: GroupResource) -> Bool { lhs.description < rhs.description }
}

/// A resource as a request names it: group, version and plural.
public struct ResourceID: Hashable, Sendable, CustomStringConvertible {
    /// The API group; empty for the core group.
    public var group: String
    /// The API version (`v1`).
    public var version: String
    /// The plural resource name.
    public var plural: String

    /// Creates a resource identifier.
    public init(group: String = "", version: String, plural: String) {
        self.group = group
        self.version = version
        self.plural = plural
    }

    /// The storage identity, without the version.
    public var groupResource: GroupResource { GroupResource(group: group, plural: plural) }
    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `apps/v1/deployments`.
    public var description: String { "\(apiVersion)/\(plural)" }

    /// Core `v1` namespaces.
    public static let namespaces = ResourceID(version: "v1", plural: "namespaces")
    /// `apiextensions.k8s.io/v1` customresourcedefinitions.
    public static let customResourceDefinitions = ResourceID(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions")
}

/// What the store knows about one resource: names, versions, scope, subresources, schemas.
public struct ResourceType: Sendable {
    /// The API group; empty for the core group.
    public var group: String
    /// The served versions.
    public var versions: [String]
    /// The plural name.
    public var plural: String
    /// The kind (`Pod`).
    public var kind: String
    /// Whether objects live in namespaces.
    public var namespaced: Bool
    /// Whether `status` is written only through the status subresource.
    public var hasStatusSubresource: Bool
    /// Per-version schemas that creates and updates are validated against.
    public var schemas: [String: StructuralSchema]
    /// Whether a CRD serves it; custom resources refuse strategic merge patches.
    public var isCustom = false

    /// Declares a resource type.
    public init(
        group: String = "", versions: [String], plural: String, kind: String, namespaced: Bool,
        hasStatusSubresource: Bool, schemas: [String: StructuralSchema] = [:]
    ) {
        self.group = group
        self.versions = versions
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.hasStatusSubresource = hasStatusSubresource
        self.schemas = schemas
    }

    /// The storage identity.
    public var groupResource: GroupResource { GroupResource(group: group, plural: plural) }

    /// Whether objects carry `metadata.generation`: custom resources and the kinds whose
    /// kube-apiserver strategy sets it (workloads, Jobs, CRDs); ConfigMaps, Secrets, Pods (before
    /// 1.33), Namespaces and Leases have none.
    public var tracksGeneration: Bool { isCustom || Self.generationGroups.contains(group) }

    /// The built-in groups whose served kinds all track generation (snapshot.storage.k8s.io is
    /// served by CRDs on a real cluster).
    private static let generationGroups: Set<String> = ["apps", "batch", "apiextensions.k8s.io", "snapshot.storage.k8s.io"]

    /// The types every cluster serves, as far as Cairn uses them.
    public static let builtIn: [ResourceType] = [
        core("namespaces", "Namespace", namespaced: false, status: true),
        core("nodes", "Node", namespaced: false, status: true),
        core("pods", "Pod", namespaced: true, status: true),
        core("persistentvolumeclaims", "PersistentVolumeClaim", namespaced: true, status: true),
        core("persistentvolumes", "PersistentVolume", namespaced: false, status: true),
        core("secrets", "Secret", namespaced: true, status: false),
        core("configmaps", "ConfigMap", namespaced: true, status: false),
        core("services", "Service", namespaced: true, status: true),
        core("serviceaccounts", "ServiceAccount", namespaced: true, status: false),
        core("events", "Event", namespaced: true, status: false),
        grouped("apps", "v1", "deployments", "Deployment", status: true),
        grouped("apps", "v1", "statefulsets", "StatefulSet", status: true),
        grouped("apps", "v1", "daemonsets", "DaemonSet", status: true),
        grouped("apps", "v1", "replicasets", "ReplicaSet", status: true),
        grouped("batch", "v1", "jobs", "Job", status: true),
        grouped("batch", "v1", "cronjobs", "CronJob", status: true),
        grouped("coordination.k8s.io", "v1", "leases", "Lease", status: false),
        // events.k8s.io/v1 Events are stored apart from core/v1 ones here; kube-apiserver serves
        // one set of objects through both groups, with renamed fields, which the sandbox does not.
        grouped("events.k8s.io", "v1", "events", "Event", status: false),
        grouped("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", status: true),
        grouped("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "VolumeSnapshotContent", namespaced: false, status: true),
        grouped("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", namespaced: false, status: false),
        grouped("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced: false, status: true),
    ]

    private static func core(_ plural: String, _ kind: String, namespaced: Bool, status: Bool) -> ResourceType {
        ResourceType(versions: ["v1"], plural: plural, kind: kind, namespaced: namespaced, hasStatusSubresource: status)
    }

    private static func grouped(
        _ group: String, _ version: String, _ plural: String, _ kind: String, namespaced: Bool = true, status: Bool
    ) -> ResourceType {
        ResourceType(group: group, versions: [version], plural: plural, kind: kind, namespaced: namespaced, hasStatusSubresource: status)
    }

    /// The type a stored CRD serves, or the `Invalid` causes that keep it from serving.
    static func from(crd node: Node) throws(StatusError) -> ResourceType {
        let document: CRDDocument
        do {
            document = try CRDDocument(node)
        } catch {
            throw .invalid(kind: "CustomResourceDefinition", group: "apiextensions.k8s.io", name: node[path: "metadata", "name"]?.string ?? "",
                           causes: [StatusError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \(error)", field: "spec")])
        }
        let served = document.versions.filter(\.served)
        var schemas: [String: StructuralSchema] = [:]
        for version in served { schemas[version.name] = version.schema }
        var type = ResourceType(
            group: document.group, versions: served.map(\.name), plural: document.names.plural, kind: document.names.kind,
            namespaced: document.scope == .namespaced, hasStatusSubresource: document.storageVersion.hasStatusSubresource,
            schemas: schemas)
        type.isCustom = true
        return type
    }
}
