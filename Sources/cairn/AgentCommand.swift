import Agent
import ArgumentParser
import CairnAPI
import Foundation
import Logging

/// `cairn agent`: the restic wrapper inside backup and restore Job pods.
///
/// The contract with the controller, which builds the Job:
/// - Environment: `RESTIC_REPOSITORY` (`/repo`, `s3:http://host:port/bucket/prefix`,
///   `sftp:user@host:/path` or `sftp://user@host:port//path`); `RESTIC_PASSWORD` (required, from
///   the encryption Secret); the storage Secret's keys as they are: `AWS_ACCESS_KEY_ID`,
///   `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, or `SSH_PRIVATE_KEY` and `SSH_KNOWN_HOSTS`.
///   In the sandbox, `CAIRN_SANDBOX_MOUNTS` maps mount paths to host directories and
///   `CAIRN_TERMINATION_LOG` names the termination-message file.
/// - `cairn agent backup --volume <pvc>=<mountPath> [--volume ...] --host <namespace>/<configuration>
///   [--tag k=v ...] [--exclude PATTERN ...] [--time RFC3339]`
/// - `cairn agent restore --snapshot <id> --target <mountPath> [--host <ns>/<config>] [--expect-tag k=v ...]`
/// - `cairn agent forget --snapshot <id> [--snapshot ...] --host <ns>/<config> [--tag k=v ...]`
/// - `cairn agent prune`, `cairn agent check`
/// - `cairn agent maintain [--read-data-subset 5%] [--create]`: check, then prune if the check passed
/// - Every subcommand: `[--stale-lock-age DURATION (1h)] [--connect-timeout DURATION (60s)]
///   [--result-file PATH] [--restic PATH] [--log-format text|json] [--log-level LEVEL]`.
/// - The result is `AgentResult` JSON (<= 4096 bytes) in `--result-file`, else
///   `$CAIRN_TERMINATION_LOG`, else `/dev/termination-log`. Exit codes: 0 Succeeded,
///   3 PartiallySucceeded (some files unreadable, as restic's own 3), 1 Failed, 2 bad usage.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run restic inside a backup or restore Job and report the result in the termination message.",
        discussion: """
            Reads the repository from RESTIC_REPOSITORY and its password from RESTIC_PASSWORD \
            (required; there is no default), and the backend's credentials from the storage \
            Secret's keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION for S3; \
            SSH_PRIVATE_KEY and SSH_KNOWN_HOSTS for sftp. Credentials never appear in arguments, \
            logs or the result. A first backup creates the repository. Locks older than \
            --stale-lock-age are removed first; fresh ones never are. SIGTERM or SIGINT stops \
            restic with SIGINT (so it removes its lock) and the result says Interrupted.

            Writes an AgentResult as JSON (at most 4096 bytes) to --result-file, else \
            $CAIRN_TERMINATION_LOG, else /dev/termination-log. Exit codes: 0 Succeeded; \
            3 PartiallySucceeded (a snapshot was written but some files could not be read); \
            1 Failed (the result's reason says why); 2 bad usage.
            """,
        subcommands: [AgentBackup.self, AgentRestore.self, AgentForget.self, AgentPrune.self, AgentCheck.self, AgentMaintain.self])
}

/// The options every `cairn agent` subcommand takes.
struct AgentCommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Remove repository locks older than this (the controller passes the Job's deadline).", valueName: "duration"))
    var staleLockAge = "1h"

    @Option(help: ArgumentHelp("How long the first contact with the repository may take before it counts as unreachable.", valueName: "duration"))
    var connectTimeout = "60s"

    @Option(help: ArgumentHelp("Where to write the result (default: $CAIRN_TERMINATION_LOG, else /dev/termination-log).", valueName: "path"))
    var resultFile: String?

    @Option(help: ArgumentHelp("The restic executable.", valueName: "path"))
    var restic = "restic"

    @Option(help: ArgumentHelp("The log line format: text (logfmt) or json.", valueName: "format"))
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("The lowest level logged: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .info

    func validate() throws {
        _ = try options()
    }

    /// The agent's options from the flags.
    func options() throws -> AgentOptions {
        var options = AgentOptions()
        options.staleLockAge = try Self.duration(staleLockAge, flag: "--stale-lock-age")
        options.connectTimeout = try Self.duration(connectTimeout, flag: "--connect-timeout")
        guard options.connectTimeout > .zero else { throw ValidationError("--connect-timeout \(connectTimeout) must be longer than 0s.") }
        options.restic = restic
        return options
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        do {
            let duration = try KubeDuration(parsing: text)
            guard duration.nanoseconds >= 0 else { throw ValidationError("\(flag) \(text) must not be negative.") }
            return duration.duration
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(flag) \(text) is not a duration: use Go's form, such as 90s, 30m or 1h.")
        }
    }

    /// Runs `request`, writes the result and exits with its code.
    func execute(_ request: AgentRequest) async throws {
        let (format, level) = (logFormat, logLevel)
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, format: format, level: level) }
        let environment = ProcessInfo.processInfo.environment
        let interruption = Interruption()
        interruption.installSignalHandlers()
        let agent = Agent(environment: environment, options: try options(), interruption: interruption, logger: Logger(label: "cairn.agent"))
        let result = await agent.run(request)
        let path = ResultFile.path(explicit: resultFile, environment: environment)
        do {
            try ResultFile.write(result, to: path)
        } catch {
            printError("cairn agent: could not write the result to \(path): \(error)")
            throw ExitCode(ExitStatus.problems)
        }
        if result.exitCode != ExitStatus.success { throw ExitCode(result.exitCode) }
    }
}

/// `cairn agent backup`.
struct AgentBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up each volume as one restic snapshot, tagged with --tag and pvc=<pvc>.")

    @Option(help: ArgumentHelp("A volume to back up as <pvc>=<mountPath>; repeat for several.", valueName: "pvc=path"))
    var volume: [String] = []

    @Option(help: ArgumentHelp("The snapshots' host: <namespace>/<configuration>.", valueName: "namespace/configuration"))
    var host: String?

    @Option(help: ArgumentHelp("A k=v tag for every snapshot; repeat for several.", valueName: "k=v"))
    var tag: [String] = []

    @Option(help: ArgumentHelp("A restic exclude pattern; repeat for several.", valueName: "pattern"))
    var exclude: [String] = []

    @Option(help: ArgumentHelp("The snapshots' time, RFC 3339 (default: now).", valueName: "time"))
    var time: String?

    @OptionGroup var common: AgentCommonOptions

    func validate() throws { _ = try request() }

    func run() async throws { try await common.execute(.backup(try request())) }

    private func request() throws -> BackupRequest {
        guard !volume.isEmpty else { throw ValidationError("Missing --volume: name each volume as <pvc>=<mountPath>, e.g. --volume data=/data/data.") }
        let volumes = try volume.map { text -> VolumeMount in
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
                throw ValidationError("--volume \(text) is not <pvc>=<mountPath> with an absolute mount path, e.g. data=/data/data.")
            }
            return VolumeMount(pvc: parts[0], mountPath: parts[1])
        }
        let pvcs = volumes.map(\.pvc)
        guard Set(pvcs).count == pvcs.count else { throw ValidationError("--volume names a PVC twice: each volume gets one snapshot.") }
        var when: Date?
        if let time {
            guard let parsed = RFC3339.parse(time) else { throw ValidationError("--time \(time) is not RFC 3339, e.g. 2026-11-21T01:30:00Z.") }
            when = parsed
        }
        return BackupRequest(volumes: volumes, host: try AgentFlags.host(host), tags: try AgentFlags.tags(tag, flag: "--tag"),
                             excludes: exclude, time: when)
    }
}

/// `cairn agent restore`.
struct AgentRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore one snapshot into a mounted volume, refusing a snapshot whose host or tags differ from those expected.")

    @Option(help: ArgumentHelp("The restic snapshot ID (8 or more hex digits).", valueName: "id"))
    var snapshot: String?

    @Option(help: ArgumentHelp("Where the target volume is mounted; the files land directly in it.", valueName: "path"))
    var target: String?

    @Option(help: ArgumentHelp("The host the snapshot must have: <namespace>/<configuration>.", valueName: "namespace/configuration"))
    var host: String?

    @Option(help: ArgumentHelp("A k=v tag the snapshot must carry, such as pvc=<pvc>; repeat for several.", valueName: "k=v"))
    var expectTag: [String] = []

    @OptionGroup var common: AgentCommonOptions

    func validate() throws { _ = try request() }

    func run() async throws { try await common.execute(.restore(try request())) }

    private func request() throws -> RestoreRequest {
        let id = try AgentFlags.snapshotID(snapshot)
        guard let target, target.hasPrefix("/") else {
            throw ValidationError("Missing --target: give the absolute path where the target volume is mounted, e.g. --target /data/data.")
        }
        return RestoreRequest(snapshot: id, target: target, host: try host.map { try AgentFlags.host($0) },
                              expectedTags: try AgentFlags.tags(expectTag, flag: "--expect-tag"))
    }
}

/// `cairn agent forget`.
struct AgentForget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget snapshots, but only those whose host and tags match; never another namespace's.")

    @Option(help: ArgumentHelp("A restic snapshot ID to forget; repeat for several.", valueName: "id"))
    var snapshot: [String] = []

    @Option(help: ArgumentHelp("The host every snapshot must have: <namespace>/<configuration>.", valueName: "namespace/configuration"))
    var host: String?

    @Option(help: ArgumentHelp("A k=v tag every snapshot must carry; repeat for several.", valueName: "k=v"))
    var tag: [String] = []

    @OptionGroup var common: AgentCommonOptions

    func validate() throws { _ = try request() }

    func run() async throws { try await common.execute(.forget(try request())) }

    private func request() throws -> ForgetRequest {
        guard !snapshot.isEmpty else { throw ValidationError("Missing --snapshot: name at least one restic snapshot ID to forget.") }
        return ForgetRequest(snapshots: try snapshot.map { try AgentFlags.snapshotID($0) }, host: try AgentFlags.host(host),
                             tags: try AgentFlags.tags(tag, flag: "--tag"))
    }
}

/// `cairn agent prune`.
struct AgentPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Remove the repository data that no snapshot uses (restic prune).")

    @OptionGroup var common: AgentCommonOptions

    func run() async throws { try await common.execute(.prune) }
}

/// `cairn agent check`.
struct AgentCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the repository's structure (restic check).")

    @OptionGroup var common: AgentCommonOptions

    func run() async throws { try await common.execute(.check) }
}

/// `cairn agent maintain`.
struct AgentMaintain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintain",
        abstract: "Check the repository (restic check), then prune it (restic prune) if the check found no errors.")

    @Option(help: ArgumentHelp("How much pack data restic check reads back and verifies: 5%, 1/10 or 500M.", valueName: "subset"))
    var readDataSubset: String?

    @Flag(help: "Create the repository first if it does not exist, as a first backup would.")
    var create = false

    @OptionGroup var common: AgentCommonOptions

    func validate() throws {
        guard let subset = readDataSubset else { return }
        guard RepositoryMaintenance.isDataSubset(subset) else {
            throw ValidationError("--read-data-subset \(subset) is not a percentage (5%), a fraction n/t (1/10) or a size (500M, 2G).")
        }
    }

    func run() async throws { try await common.execute(.maintain(MaintainRequest(readDataSubset: readDataSubset, create: create))) }
}

/// Checks of the flags the agent subcommands share.
enum AgentFlags {
    static func host(_ host: String?) throws -> String {
        guard let host, !host.isEmpty else {
            throw ValidationError("Missing --host: give <namespace>/<configuration>, which scopes every snapshot to its owner.")
        }
        guard !host.contains(where: \.isWhitespace) else { throw ValidationError("--host \(host) must not contain spaces.") }
        return host
    }

    /// `k=v` tags; restic splits a tag at commas, so a comma would make two.
    static func tags(_ tags: [String], flag: String) throws -> [String] {
        for tag in tags {
            let parts = tag.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !tag.contains(","), !tag.contains(where: \.isWhitespace) else {
                throw ValidationError("\(flag) \(tag) is not k=v without commas or spaces, e.g. \(flag) pvc=data.")
            }
        }
        return tags
    }

    static func snapshotID(_ id: String?) throws -> String {
        guard let id, !id.isEmpty else { throw ValidationError("Missing --snapshot: give the restic snapshot ID (8 or more hex digits).") }
        guard id.count >= 8, id.allSatisfy(\.isHexDigit) else {
            throw ValidationError("--snapshot \(id) is not a restic snapshot ID: use 8 or more hex digits, as `restic snapshots` shows.")
        }
        return id.lowercased()
    }
}
