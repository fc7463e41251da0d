import Foundation
import Synchronization
import YAML

/// How exec credential plugins are run: the environment they inherit and the clock that decides
/// when a credential has expired.
public struct ExecCredentialRunner: Sendable {
    /// The environment plugins inherit, and whose `PATH` finds their command.
    public var environment: [String: String]
    /// The current time; injected so tests never sleep.
    public var now: @Sendable () -> Date

    /// Creates a runner over the process's environment and the system clock by default.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.environment = environment
        self.now = now
    }
}

/// What an exec plugin printed: a token or a client certificate, and when it expires.
public struct ExecCredential: Sendable, Hashable {
    /// `status.token`.
    public var token: String?
    /// `status.clientCertificateData` and `status.clientKeyData`.
    public var identity: ClientIdentity?
    /// `status.expirationTimestamp`; `nil` means valid until the server rejects it.
    public var expiration: Date?
}

/// One user's exec plugin with its cached credential.
final class ExecCredentialPlugin: Sendable {
    let config: ExecConfig
    let cluster: Cluster
    let runner: ExecCredentialRunner
    /// Held while the plugin runs, so concurrent callers wait for one run instead of starting several.
    private let cached = Mutex<ExecCredential?>(nil)

    init(config: ExecConfig, cluster: Cluster, runner: ExecCredentialRunner) {
        self.config = config
        self.cluster = cluster
        self.runner = runner
    }

    /// The cached credential, or a fresh one when there is none or it has expired.
    func credential() throws -> ExecCredential {
        try cached.withLock { cached in
            if let cached, cached.expiration.map({ $0 > runner.now() }) ?? true { return cached }
            let fresh = try run()
            cached = fresh
            return fresh
        }
    }

    private func run() throws -> ExecCredential {
        guard config.interactiveMode != .always else {
            throw failure(.execFailed, "requires interactiveMode Always, but Cairn has no terminal; use a plugin mode that works without one")
        }
        let output = try ExecProcess(executable: try executable(), arguments: config.args, environment: environment()).run()
        guard output.status == 0 else {
            let stderr = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw failure(.execFailed, "exited with status \(output.status)\(stderr.isEmpty ? "" : "; stderr: \(stderr)")")
        }
        return try parse(output.stdout)
    }

    private func executable() throws -> String {
        if config.command.contains("/") {
            if FileManager.default.isExecutableFile(atPath: config.command) { return config.command }
        } else {
            let path = runner.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            for directory in path.split(separator: ":") {
                let candidate = "\(directory)/\(config.command)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        let hint = config.installHint.map { "\n\($0)" } ?? ""
        throw failure(.execNotFound, "executable \(config.command) not found\(hint)")
    }

    private func environment() throws -> [String: String] {
        var environment = runner.environment
        for variable in config.env { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = try JSON.emit(execInfo())
        return environment
    }

    /// The `ExecCredential` client-go passes in `KUBERNETES_EXEC_INFO`.
    func execInfo() -> Node {
        var spec: [Node.Pair] = [.init(key: "interactive", value: .bool(false))]
        if config.provideClusterInfo { spec.insert(.init(key: "cluster", value: clusterInfo()), at: 0) }
        return .mapping([
            "kind": "ExecCredential",
            "apiVersion": .string(config.apiVersion),
            "spec": .mapping(spec),
        ])
    }

    private func clusterInfo() -> Node {
        var pairs: [Node.Pair] = [.init(key: "server", value: .string(cluster.server ?? ""))]
        if let name = cluster.tlsServerName { pairs.append(.init(key: "tls-server-name", value: .string(name))) }
        if cluster.insecureSkipTLSVerify { pairs.append(.init(key: "insecure-skip-tls-verify", value: .bool(true))) }
        if let data = cluster.certificateAuthorityData {
            pairs.append(.init(key: "certificate-authority-data", value: .string(Data(data).base64EncodedString())))
        }
        if let proxy = cluster.proxyURL { pairs.append(.init(key: "proxy-url", value: .string(proxy))) }
        return .mapping(pairs)
    }

    private func parse(_ stdout: [UInt8]) throws -> ExecCredential {
        let root: Node
        do {
            root = try JSON.parse(stdout, file: config.command)
        } catch {
            throw failure(.execInvalidOutput, "printed invalid JSON: \(error.message); it must print an ExecCredential")
        }
        return try ExecCredentialParser(root: root, config: config, fail: failure).credential()
    }

    func failure(_ kind: KubeConfigError.Kind, _ message: String) -> KubeConfigError {
        KubeConfigError(kind, "exec plugin \(config.command): \(message)")
    }
}

/// Checks an exec plugin's output against the `ExecCredential` contract.
struct ExecCredentialParser {
    let root: Node
    let config: ExecConfig
    let fail: (KubeConfigError.Kind, String) -> KubeConfigError

    func credential() throws -> ExecCredential {
        guard root["kind"]?.string == "ExecCredential" else { throw fail(.execInvalidOutput, "printed kind \(root["kind"]?.scalarText ?? "nothing"), want ExecCredential") }
        guard root["apiVersion"]?.string == config.apiVersion else {
            throw fail(.execInvalidOutput, "printed apiVersion \(root["apiVersion"]?.scalarText ?? "nothing"), want \(config.apiVersion) as configured")
        }
        guard let status = root["status"], status.mapping != nil else { throw fail(.execInvalidOutput, "printed no status") }
        var credential = ExecCredential(token: try text(status, "token"), identity: try identity(status), expiration: try expiration(status))
        if credential.token?.isEmpty == true { credential.token = nil }
        guard credential.token != nil || credential.identity != nil else {
            throw fail(.execInvalidOutput, "printed neither status.token nor status.clientCertificateData and clientKeyData")
        }
        return credential
    }

    private func text(_ status: Node, _ key: String) throws -> String? {
        guard let value = status[key], !value.isNull else { return nil }
        guard let string = value.string else { throw fail(.execInvalidOutput, "status.\(key) must be a string, got \(value.valueSummary)") }
        return string
    }

    private func identity(_ status: Node) throws -> ClientIdentity? {
        let certificate = try text(status, "clientCertificateData")
        let key = try text(status, "clientKeyData")
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return ClientIdentity(certificate: Array(certificate.utf8), key: Array(key.utf8))
        default: throw fail(.execInvalidOutput, "printed only one of status.clientCertificateData and status.clientKeyData; both are required")
        }
    }

    private func expiration(_ status: Node) throws -> Date? {
        guard let text = try text(status, "expirationTimestamp") else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions.insert(.withFractionalSeconds)
        if let date = formatter.date(from: text) { return date }
        throw fail(.execInvalidOutput, "status.expirationTimestamp \"\(text)\" is not an RFC 3339 time")
    }
}
