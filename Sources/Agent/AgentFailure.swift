/// Why an agent run did not succeed: the `reason` the controller reads from `AgentResult`.
public enum FailureReason: String, Sendable, CaseIterable {
    /// `RESTIC_PASSWORD` is not set; the agent never falls back to a default.
    case missingPassword = "MissingPassword"
    /// `RESTIC_REPOSITORY` is not set.
    case missingRepository = "MissingRepository"
    case wrongPassword = "WrongPassword"
    /// The backend did not answer: connection refused, no such host, a timeout, ssh could not connect.
    case repositoryUnreachable = "RepositoryUnreachable"
    /// The backend refused the credentials (S3 `AccessDenied`, `InvalidAccessKeyId`, ...).
    case accessDenied = "AccessDenied"
    /// No space left on device, or a quota.
    case destinationFull = "DestinationFull"
    /// There is no repository at `RESTIC_REPOSITORY` (restore, forget, prune and check do not create one).
    case repositoryMissing = "RepositoryMissing"
    /// Another restic holds a lock that is not stale.
    case locked = "Locked"
    /// `restic check` found errors in the repository (or prune refused to work on a damaged index).
    case repositoryDamaged = "RepositoryDamaged"
    /// Some files could not be read (restic exit code 3): the result is `PartiallySucceeded`.
    case filesUnreadable = "FilesUnreadable"
    /// The snapshot's host or tags are not what the caller expected: it belongs to another volume.
    case snapshotMismatch = "SnapshotMismatch"
    case snapshotNotFound = "SnapshotNotFound"
    /// A `--volume` or `--target` directory is not there.
    case volumeMissing = "VolumeMissing"
    /// SIGTERM or SIGINT reached the agent.
    case interrupted = "Interrupted"
    /// The sftp credentials or repository string could not be turned into an ssh command.
    case invalidBackend = "InvalidBackend"
    /// restic printed JSON the agent could not read.
    case undecodableOutput = "UndecodableOutput"
    /// Anything else restic reported; the message is its last `Fatal:` line.
    case resticFailed = "ResticFailed"

    /// Whether the failure concerns the repository, so that trying the next volume is pointless.
    var stopsOtherVolumes: Bool {
        switch self {
        case .volumeMissing, .filesUnreadable, .snapshotMismatch, .snapshotNotFound, .undecodableOutput, .resticFailed: false
        default: true
        }
    }
}

/// A failed step of an agent run, with the reason the controller acts on and a message for people.
public struct AgentFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The machine-readable reason.
    public var reason: FailureReason
    /// What went wrong and, where the agent knows, what to do.
    public var message: String
    /// The exit code of the restic call that failed, when restic ran.
    public var resticExitCode: Int?

    /// Creates a failure.
    public init(_ reason: FailureReason, _ message: String, resticExitCode: Int? = nil) {
        self.reason = reason
        self.message = message
        self.resticExitCode = resticExitCode
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
