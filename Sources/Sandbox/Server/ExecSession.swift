import Foundation
import Logging
import NIOCore
import NIOWebSocket
import RemoteCommand
import SandboxNodes
import YAML

/// One accepted `pods/exec` connection: runs the command as a local process with the container's
/// environment, copies channel 0 to its stdin and its stdout and stderr to channels 1 and 2, then
/// writes the kubelet's `Status` on channel 3 and closes. A client that goes away ends the process.
struct ExecSession: Sendable {
    /// How long to wait for the client's close frame after sending ours. Our frames may still sit
    /// in socket buffers when the close is sent (5 MiB of output does), and a client on a loaded
    /// machine answers only after reading them all: at 5 s the server cut such a client off
    /// mid-stream ("I/O on closed channel") in full test runs on two busy cores.
    static let closeTimeout: Duration = .seconds(30)

    let plan: ExecPlan
    let store: ObjectStore
    let logger: Logger

    func run(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await serve(inbound, ChannelConnection(role: .server, outbound: outbound))
            }
        } catch {
            logger.debug("exec connection ended with an error", metadata: ["pod": "\(plan.namespace)/\(plan.pod)", "error": "\(error)"])
        }
    }

    private enum Ended { case client, process }

    private func serve(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, _ connection: ChannelConnection) async throws {
        let (stdin, stdinSink) = AsyncStream.makeStream(of: [UInt8].self)
        try await withThrowingTaskGroup(of: Ended.self) { group in
            group.addTask {
                defer { stdinSink.finish() }
                try await connection.receive(inbound) { message in
                    routeInbound(message, to: stdinSink)
                }
                return .client
            }
            group.addTask {
                let status = await execute(stdin: plan.stdin ? stdin : nil, connection)
                try await connection.send(.error, Array(try JSON.emit(status).utf8))
                try await connection.close()
                return .process
            }
            // The client leaving first ends the process (cancellation kills it); the process ending
            // first leaves the client `closeTimeout` to answer the close.
            if try await group.next() == .process {
                group.addTask {
                    try await Task.sleep(for: Self.closeTimeout)
                    return .client
                }
                _ = try await group.next()
            }
            group.cancelAll()
        }
    }

    /// Stdin bytes to the process; v5's close of channel 0 ends its stdin. Other channels (resize,
    /// or v4's unknown 255) carry nothing a process without a terminal reads.
    private func routeInbound(_ message: ChannelConnection.Message, to stdin: AsyncStream<[UInt8]>.Continuation) {
        switch StreamChannel(rawValue: message.channel) {
        case .stdin?:
            stdin.yield(Array(message.payload.readableBytesView))
        case .close? where plan.streamProtocol.canCloseStreams:
            if message.payload.readableBytesView.first == StreamChannel.stdin.rawValue { stdin.finish() }
        default:
            break
        }
    }

    /// The container's environment as the simulated kubelet resolves it, read from the store.
    private func resolveEnvironment() async throws(ContainerEnvironmentError) -> [(String, String)] {
        let store = self.store, namespace = plan.namespace
        let pod: Node
        do {
            pod = try await store.get(ExecEndpoint.pods, namespace: namespace, name: plan.pod)
        } catch {
            throw ContainerEnvironmentError(message: error.message)
        }
        return try await ContainerEnvironment.resolve(plan.container, in: pod) { plural, name in
            do {
                return try await store.get(ResourceID(version: "v1", plural: plural), namespace: namespace, name: name)
            } catch let error as StatusError where error.reason == "NotFound" {
                return Node?.none  // not `nil`: Node is ExpressibleByNilLiteral
            }
        }
    }

    /// Runs the command; the `Status` the kubelet would write for how it ended.
    private func execute(stdin: AsyncStream<[UInt8]>?, _ connection: ChannelConnection) async -> Node {
        let environment: [String: String]
        do {
            environment = Dictionary(try await resolveEnvironment(), uniquingKeysWith: { _, last in last })
        } catch {
            return ExecStatus.internalError("error executing command in container: \(error.message)")
        }
        let process = LocalProcess(command: plan.command, environment: baseEnvironment.merging(environment) { $1 },
                                   workingDirectory: plan.container["workingDir"]?.string)
        let (stdout, stderr) = (plan.stdout, plan.stderr)
        do {
            let termination = try await process.run(
                stdin: stdin,
                stdout: { bytes in if stdout { try await connection.send(.stdout, bytes) } },
                stderr: { bytes in if stderr { try await connection.send(.stderr, bytes) } })
            return termination == .exited(0) ? ExecStatus.success : ExecStatus.nonZeroExit(termination.code, command: plan.command)
        } catch .executableNotFound(let program) {
            return ExecStatus.internalError(ExecStatus.runtimeNotFound(program))
        } catch {
            return ExecStatus.internalError("error executing command in container: \(error)")
        }
    }

    /// What every container sees before its own `env`: a `PATH` (the host's, standing in for the
    /// image's) and `HOSTNAME` (the pod's name).
    private var baseEnvironment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "HOSTNAME": plan.pod]
    }
}

/// The `Status` objects the kubelet writes on the error channel, as JSON without `kind` (it
/// marshals a bare `metav1.Status`).
enum ExecStatus {
    /// The command exited 0.
    static let success: Node = .mapping(["metadata": .mapping([]), "status": "Success"])

    /// The command exited non-zero: reason `NonZeroExitCode`, the code as the `ExitCode` cause.
    static func nonZeroExit(_ code: Int32, command: [String]) -> Node {
        .mapping([
            "metadata": .mapping([]), "status": "Failure",
            "message": .string("command terminated with non-zero exit code: error executing command [\(command.joined(separator: " "))], exit code \(code)"),
            "reason": "NonZeroExitCode",
            "details": .mapping(["causes": [.mapping(["reason": "ExitCode", "message": .string(String(code))])]]),
        ])
    }

    /// Anything else that went wrong: `apierrors.NewInternalError`.
    static func internalError(_ message: String) -> Node {
        .mapping([
            "metadata": .mapping([]), "status": "Failure", "message": .string("Internal error occurred: \(message)"),
            "reason": "InternalError", "details": .mapping(["causes": [.mapping(["message": .string(message)])]]), "code": .int(500),
        ])
    }

    /// containerd's words for a command that is not in the image.
    static func runtimeNotFound(_ program: String) -> String {
        let execID = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: .min ... .max)) }.joined()
        return "error executing command in container: failed to exec in container: failed to start exec \"\(execID)\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"\(program)\": executable file not found in $PATH: unknown"
    }
}
