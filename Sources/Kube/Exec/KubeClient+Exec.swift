import AsyncAlgorithms
import Foundation
import NIOCore
import NIOWebSocket
import RemoteCommand
import Synchronization
import YAML

/// A chunk of the command's output, as it arrived.
public enum ExecOutput: Sendable, Equatable {
    /// Bytes the command wrote to stdout.
    case stdout([UInt8])
    /// Bytes the command wrote to stderr.
    case stderr([UInt8])
}

/// What a finished command printed and how it exited.
public struct ExecResult: Sendable, Equatable {
    /// Everything written to stdout.
    public var stdout: [UInt8]
    /// Everything written to stderr.
    public var stderr: [UInt8]
    /// The exit code; a non-zero code is a result, not an error.
    public var exitCode: Int32

    /// stdout as UTF-8 text.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr as UTF-8 text.
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// A running command: write its stdin, read its output as it comes.
public struct ExecStream: Sendable {
    /// The sub-protocol the server chose.
    public let streamProtocol: StreamProtocol
    /// stdout and stderr chunks in arrival order; ends when the server closes the connection.
    /// Reading is what lets the server go on writing, so read it (or leave the body, which drains it).
    public let output: AsyncThrowingChannel<ExecOutput, any Error>
    let connection: ChannelConnection

    /// Sends bytes to the command's stdin (the exec must have been opened with `stdin: true`).
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await connection.send(.stdin, bytes)
    }

    /// Ends the command's stdin (v5.channel.k8s.io only; v4 has no way to say it).
    public func closeStdin() async throws {
        guard streamProtocol.canCloseStreams else {
            throw ExecError(.stdinCloseUnsupported, "the server chose \(streamProtocol.rawValue), which cannot end stdin without ending the session; it must offer \(StreamProtocol.v5.rawValue)")
        }
        try await connection.sendClose(of: .stdin)
    }
}

extension KubeClient {
    /// The sub-protocols offered by default, most preferred first.
    public static let execProtocols: [StreamProtocol] = [.v5, .v4]

    /// Runs `command` in a container of a pod and collects its output; `stdin`, when given, is sent
    /// and then closed. A non-zero exit is returned in `exitCode`; a refused request throws
    /// `KubeError` (`.notFound`, `.badRequest`, `.unauthorized`, ...), and a failure to run the
    /// command throws `KubeError` with the kubelet's `Status`.
    public func exec(namespace: String, pod: String, container: String? = nil, command: [String], stdin: [UInt8]? = nil,
                     protocols: [StreamProtocol] = execProtocols) async throws -> ExecResult {
        let (collected, exitCode) = try await withExec(namespace: namespace, pod: pod, container: container, command: command,
                                                       stdin: stdin != nil, protocols: protocols) { stream in
            try await withThrowingTaskGroup(of: ([UInt8], [UInt8])?.self) { group in
                if let stdin {
                    group.addTask {
                        try await stream.write(stdin)
                        try await stream.closeStdin()
                        return nil
                    }
                }
                group.addTask {
                    var out: [UInt8] = [], err: [UInt8] = []
                    for try await chunk in stream.output {
                        switch chunk {
                        case .stdout(let bytes): out += bytes
                        case .stderr(let bytes): err += bytes
                        }
                    }
                    return (out, err)
                }
                var collected: ([UInt8], [UInt8]) = ([], [])
                while let result = try await group.next() { if let result { collected = result } }
                return collected
            }
        }
        return ExecResult(stdout: collected.0, stderr: collected.1, exitCode: exitCode)
    }

    /// Runs `command` in a container and hands `body` the running stream, for output too large to
    /// collect (a database dump) or stdin written as it is produced. Returns `body`'s result and the
    /// exit code once the server has reported it; output `body` did not read is discarded.
    public func withExec<T: Sendable>(
        namespace: String, pod: String, container: String? = nil, command: [String], stdin: Bool = false,
        protocols: [StreamProtocol] = execProtocols, _ body: @Sendable (ExecStream) async throws -> T
    ) async throws -> (result: T, exitCode: Int32) {
        let url = execURL(namespace: namespace, pod: pod, container: container, command: command, stdin: stdin)
        let frames = try await openExec(url, protocols: protocols)
        return try await frames.channel.executeThenClose { inbound, outbound in
            let stream = ExecStream(streamProtocol: frames.chosen, output: AsyncThrowingChannel(),
                                    connection: ChannelConnection(role: .client, outbound: outbound))
            let status = StatusBytes()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.demultiplex(inbound, into: stream, status: status) }
                let result: T
                do {
                    result = try await body(stream)
                    for try await _ in stream.output {}  // what the body left unread
                    try await group.waitForAll()
                } catch {
                    group.cancelAll()
                    throw error
                }
                return (result, try Self.exitCode(status.bytes.withLock { $0 }, url: url))
            }
        }
    }

    /// Messages from the server: channels 1 and 2 to `output`, channel 3 into `status`.
    private static func demultiplex(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, into stream: ExecStream,
                                    status: StatusBytes) async throws {
        do {
            try await stream.connection.receive(inbound) { message in
                switch StreamChannel(rawValue: message.channel) {
                case .stdout?: await stream.output.send(.stdout(Array(message.payload.readableBytesView)))
                case .stderr?: await stream.output.send(.stderr(Array(message.payload.readableBytesView)))
                case .error?: status.bytes.withLock { $0 += message.payload.readableBytesView }
                default: break  // nothing else flows from server to client
                }
            }
            stream.output.finish()
        } catch {
            stream.output.fail(error)
            throw error
        }
    }

    /// The exit code in the kubelet's final `Status`: 0 for Success, the `ExitCode` cause for
    /// `NonZeroExitCode`; any other failure is thrown as `KubeError`.
    static func exitCode(_ bytes: [UInt8], url: String) throws -> Int32 {
        guard !bytes.isEmpty else {
            throw ExecError(.noStatus, "the connection to \(url) closed before the command's status arrived; the server or the container went away")
        }
        let node: Node
        do { node = try JSON.parse(bytes) } catch {
            throw ExecError(.badStatus, "the error channel of \(url) carried no JSON Status: \(KubeError.preview(bytes))")
        }
        let status = KubeStatus(fields: node)
        if status.status == "Success" { return 0 }
        if status.reason == "NonZeroExitCode", let cause = status.causes.first(where: { $0.reason == "ExitCode" }),
           let code = cause.message.flatMap({ Int32($0) }) {
            return code
        }
        throw KubeError(status: status, verb: "GET", url: url)
    }

    private func execURL(namespace: String, pod: String, container: String?, command: [String], stdin: Bool) -> String {
        let pods = Resource(group: "", version: "v1", plural: "pods", namespaced: true)
        var query = command.map { ("command", $0) }
        if let container { query.append(("container", container)) }
        query += [("stdin", String(stdin)), ("stdout", "true"), ("stderr", "true"), ("tty", "false")]
        return url(pods.path(namespace: namespace, name: pod, subresource: "exec"), query: query)
    }

    /// Dials and upgrades, within the request timeout; a refusal becomes the `KubeError` of its
    /// `Status`.
    private func openExec(_ url: String, protocols: [StreamProtocol]) async throws
        -> (channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, chosen: StreamProtocol) {
        guard connection.proxyURL == nil else {
            throw ExecError(.proxyUnsupported, "the kubeconfig names proxy-url \(connection.proxyURL ?? ""); exec does not go through proxies yet, so reach \(connection.server) directly")
        }
        guard let parsed = URL(string: url), let host = parsed.host else { throw ExecError(.badURL, "\(url) has no host") }
        try await limiter.acquire()
        let request = try authorized(makeRequest("GET", url, body: nil, timeouts: .unary(connect: options.connectTimeout, total: options.requestTimeout)))
        let dialer = ExecDialer(
            url: parsed, tls: parsed.scheme == "https" ? try ExecTLS(connection, host: host) : nil,
            headers: request.headers.filter { $0.name != "Accept" }.map { ($0.name, $0.value) } + [("User-Agent", options.userAgent)],
            protocols: protocols, connectTimeout: options.connectTimeout)
        let outcome = try await Self.within(options.requestTimeout, url: url) { try await dialer.dial() }
        switch outcome {
        case .refused(let answer):
            let (status, body) = try await ExecDialer.read(answer)
            throw KubeError(verb: "GET", url: url, httpCode: status, body: body)
        case .upgraded(let channel, let chosen):
            guard let chosen, let streamProtocol = StreamProtocol(rawValue: chosen), protocols.contains(streamProtocol) else {
                try await channel.executeThenClose { _, _ in }
                throw ExecError(.noSubprotocol, "\(url) upgraded with sub-protocol \(chosen ?? "(none)") instead of one of \(protocols.map(\.rawValue))")
            }
            return (channel, streamProtocol)
        }
    }

    private static func within<T: Sendable>(_ limit: Duration, url: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let value = try await group.next() ?? nil else {
                throw TransportError(.timeout, method: "GET", url: url, message: "no answer to the exec upgrade within \(limit)")
            }
            return value
        }
    }
}

/// The error channel's bytes, gathered while the output streams.
private final class StatusBytes: Sendable {
    let bytes = Mutex<[UInt8]>([])
}
