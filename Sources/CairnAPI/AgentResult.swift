import YAML

/// What `cairn agent` writes to its container's termination-message file: the only channel from a
/// backup or restore Job back to the controller, which needs no API access in the app namespace.
///
/// Kubernetes keeps at most 4096 bytes of a termination message, so the agent keeps it compact:
/// `unreadable` lists are cut short and `omittedUnreadable` says how many were left out.
public struct AgentResult: Codable, Sendable, Equatable {
    /// The format's name and version, so the controller can refuse anything else.
    public static let currentFormat = "cairn.dev/agent-result/v1"

    public var format: String = AgentResult.currentFormat
    public var operation: AgentOperation
    public var phase: AgentPhase
    /// A CamelCase reason when not `Succeeded` (`WrongPassword`, `RepositoryUnreachable`,
    /// `DestinationFull`, `FilesUnreadable`, `ResticFailed`, ...).
    public var reason: String?
    /// What went wrong, in restic's own words where it said.
    public var message: String?
    /// The exit code of the restic call that decided the phase.
    public var resticExitCode: Int?
    /// One entry per volume, for `backup`.
    public var volumes: [AgentVolumeResult]?
    /// What came back, for `restore`.
    public var restored: AgentRestoreFigures?
    /// Stale locks removed with `restic unlock` before the operation.
    public var staleLocksRemoved: Int?
    /// RFC 3339.
    public var startTime: String?
    /// RFC 3339.
    public var completionTime: String?

    /// Creates a result.
    public init(operation: AgentOperation, phase: AgentPhase) {
        self.operation = operation
        self.phase = phase
    }
}

/// The `cairn agent` subcommands.
public enum AgentOperation: String, Codable, Sendable, CaseIterable, StringEnumeration {
    case backup, restore, forget, prune, check, maintain
}

/// How an agent run ended.
public enum AgentPhase: String, Codable, Sendable, CaseIterable, StringEnumeration {
    case succeeded = "Succeeded"
    /// The snapshot was written, but some files could not be read (restic exit code 3).
    case partiallySucceeded = "PartiallySucceeded"
    case failed = "Failed"
}

/// One volume's backup, from restic's JSON summary.
public struct AgentVolumeResult: Codable, Sendable, Equatable {
    /// The PVC backed up.
    public var pvc: String
    public var phase: AgentPhase
    public var resticSnapshotID: String?
    /// `total_bytes_processed`.
    public var size: Int?
    /// `total_files_processed`.
    public var files: Int?
    /// `data_added`.
    public var bytesAdded: Int?
    /// Paths restic could not read, relative to the volume.
    public var unreadable: [String]?
    public var omittedUnreadable: Int?
    public var error: String?

    /// Creates a volume result.
    public init(pvc: String, phase: AgentPhase) {
        self.pvc = pvc
        self.phase = phase
    }
}

/// What a restore wrote.
public struct AgentRestoreFigures: Codable, Sendable, Equatable {
    public var resticSnapshotID: String
    public var files: Int
    public var bytes: Int

    /// Creates restore figures.
    public init(resticSnapshotID: String, files: Int, bytes: Int) {
        self.resticSnapshotID = resticSnapshotID
        self.files = files
        self.bytes = bytes
    }
}
