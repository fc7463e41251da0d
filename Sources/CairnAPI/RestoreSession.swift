import YAML

/// A restore of one snapshot into a PVC.
public struct RestoreSession: Codable, Sendable, Equatable {
    public var apiVersion: String = CairnGroup.apiVersion
    public var kind: String = "RestoreSession"
    public var metadata: ObjectMeta
    public var spec: RestoreSessionSpec
    public var status: RestoreSessionStatus?

    /// Creates a restore session.
    public init(metadata: ObjectMeta, spec: RestoreSessionSpec, status: RestoreSessionStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// What to restore, and where.
public struct RestoreSessionSpec: Codable, Sendable, Equatable {
    public var source: RestoreSource
    public var target: RestoreTarget
    /// Scale the workload to zero for the restore and back afterwards.
    public var scaleDown: Bool?
    public var hooks: RestoreHooks?
    /// As a duration (`1h`).
    public var timeout: String?

    /// Creates a spec.
    public init(source: RestoreSource, target: RestoreTarget) {
        self.source = source
        self.target = target
    }
}

/// The snapshot to restore.
public struct RestoreSource: Codable, Sendable, Equatable {
    /// The BackupConfiguration whose snapshots to choose from.
    public var configuration: String?
    /// The PVC whose snapshots to choose from.
    public var pvc: String?
    /// `latest` (the default) or a Snapshot name.
    public var snapshot: String?
    /// With `latest`: the newest snapshot taken before this time (RFC 3339).
    public var before: String?
    /// A CSI VolumeSnapshot to restore instead of a Snapshot.
    public var volumeSnapshot: String?

    /// Creates a source.
    public init(configuration: String? = nil, pvc: String? = nil, snapshot: String? = nil) {
        self.configuration = configuration
        self.pvc = pvc
        self.snapshot = snapshot
    }
}

/// The PVC to restore into.
public struct RestoreTarget: Codable, Sendable, Equatable {
    /// An existing PVC.
    public var pvc: String?
    /// A new PVC to create.
    public var pvcTemplate: PVCTemplate?
    /// Allows restoring a snapshot of one PVC into another.
    public var allowDifferentPVC: Bool?

    /// Creates a target.
    public init(pvc: String? = nil, pvcTemplate: PVCTemplate? = nil) {
        self.pvc = pvc
        self.pvcTemplate = pvcTemplate
    }
}

/// A PVC to create for a restore.
public struct PVCTemplate: Codable, Sendable, Equatable {
    public var name: String
    /// A `PersistentVolumeClaimSpec`, kept as given.
    public var spec: Node

    /// Creates a template.
    public init(name: String, spec: Node) {
        self.name = name
        self.spec = spec
    }
}

/// Hooks after a restore.
public struct RestoreHooks: Codable, Sendable, Equatable {
    public var postRestore: [Hook]?

    /// Creates hooks.
    public init(postRestore: [Hook]? = nil) { self.postRestore = postRestore }
}

/// What happened in a restore.
public struct RestoreSessionStatus: Codable, Sendable, Equatable {
    /// `Pending`, `Running`, `Succeeded` or `Failed`.
    public var phase: String?
    public var reason: String?
    public var message: String?
    /// The Snapshot that was chosen.
    public var snapshot: String?
    /// The PVC restored into: the existing one, or the one made from the template.
    public var pvc: String?
    public var files: Int?
    public var bytes: Int?
    public var startTime: String?
    public var completionTime: String?
    public var conditions: [Condition]?

    /// Creates a status.
    public init() {}
}
