import CairnAPI
import Foundation
import Logging

/// Settings of an agent run that do not come from the environment.
public struct AgentOptions: Sendable {
    /// The restic executable: a name looked up in PATH, or a path.
    public var restic = "restic"
    /// A lock older than this is stale and removed; the controller passes the Job's deadline.
    public var staleLockAge: Duration = .seconds(3600)
    /// How long the first contact with the repository may take. restic and its S3 client retry an
    /// unreachable endpoint for minutes; past this the agent stops it and reports `RepositoryUnreachable`.
    public var connectTimeout: Duration = .seconds(60)

    /// Default options.
    public init() {}
}

/// The in-pod restic wrapper: runs one operation against the repository the environment names and
/// returns its `AgentResult`. It never throws: every failure becomes a `Failed` result with a reason.
public struct Agent: Sendable {
    public var environment: [String: String]
    public var options: AgentOptions
    public var interruption: Interruption
    public var logger: Logger

    /// Creates an agent that reads `environment` (the process's, in `cairn agent`).
    public init(environment: [String: String], options: AgentOptions = AgentOptions(), interruption: Interruption = Interruption(), logger: Logger) {
        self.environment = environment
        self.options = options
        self.interruption = interruption
        self.logger = logger
    }

    /// Runs `request` to its end.
    public func run(_ request: AgentRequest) async -> AgentResult {
        var result = AgentResult(operation: request.operation, phase: .succeeded)
        result.startTime = RFC3339.format(Date())
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-agent-\(UUID().uuidString)")
        var opened: Session?
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let session = try await open(for: request, scratch: scratch)
            opened = session
            result.staleLocksRemoved = session.staleLocksRemoved
            try await perform(request, in: session, into: &result)
        } catch let failure as AgentFailure {
            result.record(failure)
        } catch {
            result.record(AgentFailure(.resticFailed, "could not prepare the agent's temporary directory: \(error)"))
        }
        if result.reason == FailureReason.interrupted.rawValue, let opened { await opened.cleanUpAfterInterruption() }
        // Best effort: the key files go with the pod anyway; a leftover directory is harmless.
        try? FileManager.default.removeItem(at: scratch)
        result.completionTime = RFC3339.format(Date())
        log(result)
        return result
    }

    private func perform(_ request: AgentRequest, in session: Session, into result: inout AgentResult) async throws(AgentFailure) {
        switch request {
        case .backup(let backup): try await session.backup(backup, into: &result)
        case .restore(let restore): try await session.restore(restore, into: &result)
        case .forget(let forget): try await session.forget(forget, into: &result)
        case .prune: result.message = try await session.maintain(["prune"], done: "restic prune removed the data no snapshot uses")
        case .check: result.message = try await session.maintain(["check"], done: "restic check found no errors")
        case .maintain(let maintain): result.message = try await session.maintain(maintain)
        }
    }

    /// Checks the environment, reaches the repository (creating it for a first backup) and removes
    /// stale locks.
    private func open(for request: AgentRequest, scratch: URL) async throws(AgentFailure) -> Session {
        let access = try RepositoryAccess.prepare(
            environment: environment, scratch: scratch, connectTimeout: options.connectTimeout, logger: logger)
        let restic = Restic(
            executable: options.restic, environment: access.environment, globalArguments: access.globalArguments,
            interruption: interruption, logger: logger)
        let mounts = try MountMap(environment: environment)
        var session = Session(restic: restic, repository: access.repository, mounts: mounts, options: options, logger: logger)
        try await session.reach(creating: request.creates)
        session.staleLocksRemoved = try await session.removeStaleLocks()
        return session
    }

    private func log(_ result: AgentResult) {
        var metadata: Logger.Metadata = ["operation": "\(result.operation.rawValue)", "phase": "\(result.phase.rawValue)"]
        if let reason = result.reason { metadata["reason"] = "\(reason)" }
        if let message = result.message { metadata["message"] = "\(message)" }
        switch result.phase {
        case .succeeded: logger.info("agent finished", metadata: metadata)
        case .partiallySucceeded: logger.warning("agent finished with unreadable files", metadata: metadata)
        case .failed: logger.error("agent failed", metadata: metadata)
        }
    }
}

extension AgentRequest {
    /// Whether a missing repository is created: by a backup, and by `maintain --create`.
    var creates: Bool {
        switch self {
        case .backup: true
        case .maintain(let request): request.create
        default: false
        }
    }

    /// The operation the result names.
    public var operation: AgentOperation {
        switch self {
        case .backup: .backup
        case .restore: .restore
        case .forget: .forget
        case .prune: .prune
        case .check: .check
        case .maintain: .maintain
        }
    }
}

extension AgentResult {
    /// The exit code of `cairn agent`: 0 Succeeded, 3 PartiallySucceeded (as restic's own 3), 1 Failed.
    public var exitCode: Int32 {
        switch phase {
        case .succeeded: 0
        case .partiallySucceeded: 3
        case .failed: 1
        }
    }

    mutating func record(_ failure: AgentFailure) {
        phase = .failed
        reason = failure.reason.rawValue
        message = failure.message
        if let code = failure.resticExitCode { resticExitCode = code }
    }
}
