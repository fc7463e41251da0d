import Foundation
import Logging

/// The repository and its credentials, read from the environment the Job gives the agent: the
/// encryption Secret's `RESTIC_PASSWORD` and the storage Secret's keys (`AWS_*`, `SSH_*`).
///
/// Credentials stay in restic's environment or in 0600 files in a private directory; they never
/// reach an argument, a log line or the result.
struct RepositoryAccess {
    /// The environment restic runs with.
    var environment: [String: String]
    /// `--cache-dir` and, for sftp, `-o sftp.command=...`.
    var globalArguments: [String]
    /// `RESTIC_REPOSITORY` for messages, with a URL's password (a rest server's) redacted.
    var repository: String

    /// The variables the agent consumes itself; restic never sees them.
    static let agentOnly: Set<String> = ["SSH_PRIVATE_KEY", "SSH_KNOWN_HOSTS", "CAIRN_SANDBOX_MOUNTS", "CAIRN_TERMINATION_LOG"]

    /// Checks the environment and writes the backend's private files under `scratch` (mode 0700).
    static func prepare(
        environment: [String: String], scratch: URL, connectTimeout: Duration, logger: Logger
    ) throws(AgentFailure) -> RepositoryAccess {
        guard let password = environment["RESTIC_PASSWORD"], !password.isEmpty else {
            throw AgentFailure(.missingPassword, """
                RESTIC_PASSWORD is not set: give the Job the configuration's encryptionSecret (key RESTIC_PASSWORD); \
                Cairn never falls back to a default password
                """)
        }
        guard let repository = environment["RESTIC_REPOSITORY"], !repository.isEmpty else {
            throw AgentFailure(.missingRepository, "RESTIC_REPOSITORY is not set: the Job must name the BackupStorage's repository")
        }
        var resticEnvironment = environment.filter { !agentOnly.contains($0.key) }
        var arguments: [String] = []
        if environment["RESTIC_CACHE_DIR"] == nil {
            // A Job's pod starts empty and HOME may not be writable; a cache of its own avoids restic's warning.
            arguments += ["--cache-dir", scratch.appendingPathComponent("cache").path]
        }
        if repository.hasPrefix("sftp:"), let key = environment["SSH_PRIVATE_KEY"], !key.isEmpty {
            let command = try SFTPCommand.make(
                repository: repository, privateKey: key, knownHosts: environment["SSH_KNOWN_HOSTS"], scratch: scratch,
                connectTimeout: connectTimeout, logger: logger)
            arguments += ["-o", "sftp.command=\(command)"]
        }
        if resticEnvironment["HOME"] == nil { resticEnvironment["HOME"] = scratch.path }
        return RepositoryAccess(environment: resticEnvironment, globalArguments: arguments, repository: redacted(repository))
    }

    /// The repository string with a URL's password replaced (`rest:https://user:***@host/`), for
    /// messages and logs.
    static func redacted(_ repository: String) -> String {
        guard let scheme = repository.range(of: "://"),
              let at = repository[scheme.upperBound...].firstIndex(of: "@"),
              let colon = repository[scheme.upperBound..<at].firstIndex(of: ":"),
              !repository[scheme.upperBound..<at].contains("/")
        else { return repository }
        return String(repository[..<repository.index(after: colon)]) + "***" + String(repository[at...])
    }
}

/// The ssh command restic runs for an sftp repository: the storage Secret's key and known hosts in
/// 0600 files, no user configuration, and no prompts.
enum SFTPCommand {
    /// Where an sftp repository lives: `sftp:user@host:/path` or `sftp://user@host:port//path`.
    struct Endpoint: Equatable {
        var user: String?
        var host: String
        var port: Int?
    }

    /// Writes the key files and returns the command for `-o sftp.command=`.
    static func make(
        repository: String, privateKey: String, knownHosts: String?, scratch: URL, connectTimeout: Duration, logger: Logger
    ) throws(AgentFailure) -> String {
        let endpoint = try parse(repository)
        guard !scratch.path.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" }) else {
            throw AgentFailure(.invalidBackend, "the agent's temporary directory \(scratch.path) holds spaces or quotes, which restic's sftp.command cannot carry; set TMPDIR to a plain path")
        }
        let keyFile = scratch.appendingPathComponent("ssh-key")
        let knownHostsFile = scratch.appendingPathComponent("known_hosts")
        try writePrivate(privateKey.hasSuffix("\n") ? privateKey : privateKey + "\n", to: keyFile)
        try writePrivate(knownHosts ?? "", to: knownHostsFile)
        let checking: String
        if let knownHosts, !knownHosts.isEmpty {
            checking = "yes"
        } else {
            checking = "accept-new"
            logger.warning("SSH_KNOWN_HOSTS is not set: the sftp server's host key is accepted without verification; add known_hosts to the storage Secret")
        }
        let seconds = max(1, Int(connectTimeout.components.seconds))
        var parts = [
            "ssh", "-F", "none", "-i", keyFile.path, "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=\(knownHostsFile.path)",
            "-o", "StrictHostKeyChecking=\(checking)", "-o", "BatchMode=yes", "-o", "ConnectTimeout=\(seconds)",
        ]
        if let port = endpoint.port { parts += ["-p", String(port)] }
        if let user = endpoint.user { parts += ["-l", user] }
        parts += [endpoint.host, "-s", "sftp"]
        return parts.joined(separator: " ")
    }

    /// The user, host and port of an sftp repository string, as restic 0.14 reads them.
    static func parse(_ repository: String) throws(AgentFailure) -> Endpoint {
        var rest = Substring(repository.dropFirst("sftp:".count))
        let isURL = rest.hasPrefix("//")
        if isURL { rest = rest.dropFirst(2) }
        var user: String?
        if let at = rest.firstIndex(of: "@"), rest[..<at].firstIndex(of: "/") == nil {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var host: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid(repository) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
        } else {
            let end = rest.firstIndex { $0 == ":" || $0 == "/" } ?? rest.endIndex
            host = rest[..<end]
            rest = rest[end...]
        }
        var port: Int?
        if isURL, rest.hasPrefix(":") {
            let digits = rest.dropFirst().prefix { $0.isNumber }
            guard let value = Int(digits), (1...65535).contains(value) else { throw invalid(repository) }
            port = value
        }
        guard !host.isEmpty, user?.isEmpty != true, host.allSatisfy({ !$0.isWhitespace && $0 != "\"" && $0 != "'" }) else {
            throw invalid(repository)
        }
        return Endpoint(user: user, host: String(host), port: port)
    }

    private static func invalid(_ repository: String) -> AgentFailure {
        AgentFailure(.invalidBackend, """
            RESTIC_REPOSITORY \(repository) is not an sftp repository restic understands: use sftp:user@host:/path \
            or sftp://user@host:port//absolute/path
            """)
    }

    /// Creates `file` with mode 0600 before any byte is written, so the key is never readable by others.
    static func writePrivate(_ text: String, to file: URL) throws(AgentFailure) {
        guard FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw AgentFailure(.invalidBackend, "could not create \(file.lastPathComponent) in the agent's temporary directory \(file.deletingLastPathComponent().path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }  // closing a written file; the write's own error is thrown below
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw AgentFailure(.invalidBackend, "could not write \(file.lastPathComponent) in the agent's temporary directory: \(error)")
        }
    }
}
