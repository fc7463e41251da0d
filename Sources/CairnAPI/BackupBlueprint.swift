import YAML

/// A template that turns opted-in workloads into BackupConfigurations.
public struct BackupBlueprint: Codable, Sendable, Equatable {
    public var apiVersion: String = CairnGroup.apiVersion
    public var kind: String = "BackupBlueprint"
    public var metadata: ObjectMeta
    public var spec: BackupBlueprintSpec
    public var status: BackupBlueprintStatus?

    /// Creates a blueprint.
    public init(metadata: ObjectMeta, spec: BackupBlueprintSpec, status: BackupBlueprintStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// What a blueprint declares.
public struct BackupBlueprintSpec: Codable, Sendable, Equatable {
    /// Which namespaces may use the blueprint; `Same` when absent.
    public var usagePolicy: UsagePolicy?
    /// The kinds the blueprint may target; every workload kind and PVCs when absent.
    public var subjects: [Subject]?
    /// The variables the template uses, with their defaults and checks.
    public var variables: [VariableSpec]?
    /// A BackupConfiguration spec with `${var}` references, kept as a tree until rendered.
    public var template: Node
    /// What happens to generated configurations when the blueprint is deleted; `Orphan` when absent.
    public var deletionPolicy: DeletionPolicy?

    /// Creates a blueprint spec.
    public init(
        template: Node, variables: [VariableSpec]? = nil, subjects: [Subject]? = nil,
        usagePolicy: UsagePolicy? = nil, deletionPolicy: DeletionPolicy? = nil
    ) {
        self.template = template
        self.variables = variables
        self.subjects = subjects
        self.usagePolicy = usagePolicy
        self.deletionPolicy = deletionPolicy
    }
}

/// A kind of object a blueprint may target.
public struct Subject: Codable, Sendable, Equatable, Hashable {
    /// The API group: `apps` for workloads, empty for PVCs.
    public var apiGroup: String?
    /// The kind: `Deployment`, `StatefulSet`, `DaemonSet`, `PersistentVolumeClaim`, ...
    public var kind: String

    /// Creates a subject.
    public init(apiGroup: String?, kind: String) {
        self.apiGroup = apiGroup
        self.kind = kind
    }
}

/// One declared template variable.
public struct VariableSpec: Codable, Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The value used when no annotation sets one. Always a string, as annotations are.
    public var `default`: String?
    /// Whether a value must come from an annotation or a default.
    public var required: Bool?
    /// A regular expression the value must match (unanchored, as in OpenAPI).
    public var pattern: String?
    /// The values allowed.
    public var `enum`: [String]?

    /// Creates a variable.
    public init(
        name: String, description: String? = nil, default: String? = nil, required: Bool? = nil,
        pattern: String? = nil, enum: [String]? = nil
    ) {
        self.name = name
        self.description = description
        self.default = `default`
        self.required = required
        self.pattern = pattern
        self.enum = `enum`
    }
}

/// What deleting a blueprint does to the configurations it generated.
public enum DeletionPolicy: String, Codable, Sendable, CaseIterable, StringEnumeration {
    /// Delete them. Snapshots and repository data are kept.
    case delete = "Delete"
    /// Keep them, detached (`cairn.dev/managed: "false"`).
    case orphan = "Orphan"
}

/// What a blueprint reports about its targets.
public struct BackupBlueprintStatus: Codable, Sendable, Equatable {
    public var observedGeneration: Int?
    /// Targets that opted in to this blueprint.
    public var targets: Int?
    /// Targets whose configuration rendered.
    public var resolved: Int?
    /// Targets that failed to render.
    public var failed: Int?
    /// Why each failed target failed, sorted by kind, namespace and name; at most the first 100.
    public var failures: [ResolutionFailure]?
    /// Failed targets beyond those `failures` lists.
    public var omittedFailures: Int?
    public var conditions: [Condition]?

    /// Creates a status.
    public init() {}
}

/// One target that did not render, and why.
public struct ResolutionFailure: Codable, Sendable, Equatable {
    public var kind: String
    public var namespace: String
    public var name: String
    /// A CamelCase reason: `MissingVariable`, `InvalidValue`, `NamespaceNotAllowed`, `NameConflict`, ...
    public var reason: String
    /// What is wrong and how to fix it.
    public var message: String

    /// Creates a failure entry.
    public init(kind: String, namespace: String, name: String, reason: String, message: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.reason = reason
        self.message = message
    }
}
