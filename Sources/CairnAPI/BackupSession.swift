import YAML

/// One run of one session of one configuration.
public struct BackupSession: Codable, Sendable, Equatable {
    public var apiVersion: String = CairnGroup.apiVersion
    public var kind: String = "BackupSession"
    public var metadata: ObjectMeta
    public var spec: BackupSessionSpec
    public var status: BackupSessionStatus?

    /// Creates a backup session.
    public init(metadata: ObjectMeta, spec: BackupSessionSpec, status: BackupSessionStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// Which run this is.
public struct BackupSessionSpec: Codable, Sendable, Equatable {
    /// The BackupConfiguration, in the same namespace.
    public var configuration: String
    /// The session of that configuration.
    public var session: String
    /// `Scheduled` or `Manual`.
    public var trigger: Trigger
    /// The time the schedule named, for scheduled runs (RFC 3339).
    public var scheduledTime: String?

    /// Creates a spec.
    public init(configuration: String, session: String, trigger: Trigger, scheduledTime: String? = nil) {
        self.configuration = configuration
        self.session = session
        self.trigger = trigger
        self.scheduledTime = scheduledTime
    }
}

/// What started a BackupSession.
public enum Trigger: String, Codable, Sendable, CaseIterable, StringEnumeration {
    case scheduled = "Scheduled"
    case manual = "Manual"
}

/// The lifecycle of a BackupSession: Pending → Queued → Running → Succeeded | Failed | Skipped.
public enum SessionPhase: String, Codable, Sendable, CaseIterable, StringEnumeration {
    case pending = "Pending"
    case queued = "Queued"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case skipped = "Skipped"
}

/// What happened in a BackupSession.
public struct BackupSessionStatus: Codable, Sendable, Equatable {
    public var phase: SessionPhase?
    /// A CamelCase reason for the phase.
    public var reason: String?
    public var message: String?
    public var startTime: String?
    public var completionTime: String?
    /// `1m30s`.
    public var duration: String?
    public var attempts: Int?
    /// The Job that ran the backup.
    public var job: String?
    public var volumes: [VolumeResult]?
    public var hooks: [HookResult]?
    public var retention: RetentionResult?
    public var conditions: [Condition]?

    /// Creates a status.
    public init(phase: SessionPhase? = nil) { self.phase = phase }
}

/// One volume's result.
public struct VolumeResult: Codable, Sendable, Equatable {
    public var pvc: String
    /// `Succeeded`, `PartiallySucceeded` or `Failed`.
    public var phase: String
    /// The Snapshot object created.
    public var snapshot: String?
    public var resticSnapshotID: String?
    public var volumeSnapshot: String?
    public var size: Int?
    public var files: Int?
    public var bytesAdded: Int?
    /// Files that could not be read, for a partial result.
    public var unreadable: [String]?
    public var error: String?

    /// Creates a result.
    public init(pvc: String, phase: String) {
        self.pvc = pvc
        self.phase = phase
    }
}

/// One hook's result.
public struct HookResult: Codable, Sendable, Equatable {
    public var name: String
    /// `Succeeded`, `Failed` or `Skipped`.
    public var phase: String
    public var exitCode: Int?
    public var message: String?
    public var duration: String?

    /// Creates a result.
    public init(name: String, phase: String) {
        self.name = name
        self.phase = phase
    }
}

/// What retention did after a run.
public struct RetentionResult: Codable, Sendable, Equatable {
    public var kept: Int
    /// Snapshots newly marked `cairn.dev/delete-after`.
    public var marked: Int
    /// Snapshots forgotten and deleted.
    public var swept: Int

    /// Creates a result.
    public init(kept: Int, marked: Int, swept: Int) {
        self.kept = kept
        self.marked = marked
        self.swept = swept
    }
}
