import YAML

/// One restorable point for one volume.
///
/// Retention is written on it as labels (`cairn.dev/daily=2026-11-21`, ...), so `kubectl get
/// snapshots -L cairn.dev/daily` shows what is kept and why.
public struct Snapshot: Codable, Sendable, Equatable {
    public var apiVersion: String = CairnGroup.apiVersion
    public var kind: String = "Snapshot"
    public var metadata: ObjectMeta
    public var spec: SnapshotSpec

    /// Creates a snapshot record.
    public init(metadata: ObjectMeta, spec: SnapshotSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// What a snapshot holds and where it lives.
public struct SnapshotSpec: Codable, Sendable, Equatable {
    public var configuration: String
    public var session: String
    public var backupSession: String
    public var pvc: String
    public var method: BackupMethod
    /// The BackupStorage holding the restic repository.
    public var storage: NamespacedRef?
    public var resticSnapshotID: String?
    public var volumeSnapshotName: String?
    /// When the snapshot was taken (RFC 3339).
    public var time: String
    public var size: Int?
    public var files: Int?
    public var bytesAdded: Int?
    /// The restic host the snapshot was written under (`namespace/config`).
    public var hostname: String?
    public var tags: [String]?

    /// Creates a spec.
    public init(
        configuration: String, session: String, backupSession: String, pvc: String,
        method: BackupMethod, time: String
    ) {
        self.configuration = configuration
        self.session = session
        self.backupSession = backupSession
        self.pvc = pvc
        self.method = method
        self.time = time
    }
}
