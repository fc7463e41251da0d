import ArgumentParser
import Foundation
import Kube
import Logging
import Sandbox
import SandboxNodes
import ServiceLifecycle
import YAML

/// `cairn sandbox`: the sandbox API server with its simulated nodes, for trying Cairn without a
/// cluster; or, with `--nodes-only`, just the simulated nodes joined to an existing cluster.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the sandbox API server and its simulated nodes until interrupted.",
        discussion: """
            Serves a Kubernetes-compatible API over HTTPS on 127.0.0.1, writes a kubeconfig for \
            it (default ./.cairn/sandbox.kubeconfig), and runs simulated nodes against it: Node \
            objects, a kubelet that runs Job pods as local processes, the Deployment, StatefulSet, \
            DaemonSet and Job controllers, a volume provisioner and a CSI snapshotter. Volumes, \
            snapshots and pod files live under --root (default ./.cairn/sandbox).

            With --state FILE the objects are loaded from FILE at start (when it exists) and saved \
            to it at shutdown. With --nodes-only, only the nodes, kubelet, provisioner and \
            snapshotter run, against the cluster that --kubeconfig names.

            Stops on SIGINT or SIGTERM. Exit codes: 0 stopped cleanly; 1 it could not start or \
            save (the reason is printed to stderr); 2 bad usage.
            """)

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port = 0

    @Option(help: ArgumentHelp("Where to write the kubeconfig (with --nodes-only: the cluster to join).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("Load objects from this file at start and save them to it at shutdown.", valueName: "file"))
    var state: String?

    @Option(help: "How many simulated nodes to run.")
    var nodes = 2

    @Option(help: ArgumentHelp("The directory for volumes, snapshots and pod files.", valueName: "dir"))
    var root = ".cairn/sandbox"

    @Flag(help: "Run only the simulated nodes, kubelet, provisioner and snapshotter, against --kubeconfig's cluster.")
    var nodesOnly = false

    @Option(help: ArgumentHelp("The cairn executable that pods of Cairn's image run (default: this one).", valueName: "path"))
    var cairnBinary: String?

    @Option(help: "An image whose name contains this text is Cairn's.")
    var cairnImage = "cairn"

    /// The default kubeconfig path.
    static let defaultKubeconfig = ".cairn/sandbox.kubeconfig"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is out of range: use 0 (any free port) to 65535.") }
        guard (1...100).contains(nodes) else { throw ValidationError("--nodes \(nodes) is out of range: use 1 to 100.") }
        if let cairnBinary, !FileManager.default.isExecutableFile(atPath: cairnBinary) {
            throw ValidationError("--cairn-binary \(cairnBinary) is not an executable file.")
        }
        guard nodesOnly else { return }
        guard let kubeconfig else { throw ValidationError("--nodes-only needs --kubeconfig FILE: the cluster the nodes join.") }
        guard FileManager.default.fileExists(atPath: kubeconfig) else { throw ValidationError("--kubeconfig \(kubeconfig): no such file.") }
        guard state == nil, port == 0 else { throw ValidationError("--state and --port belong to the sandbox API server, which --nodes-only does not run.") }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        do {
            if nodesOnly { try await runNodesOnly() } else { try await runSandbox() }
        } catch let error as SandboxCommandError {
            printError("cairn sandbox: \(error.description)")
            throw ExitCode(ExitStatus.problems)
        }
    }

    private var nodesConfiguration: SimulatedNodes.Configuration {
        SimulatedNodes.Configuration(nodes: nodes, root: Self.absolute(root), cairnBinary: cairnBinary ?? SimulatedNodes.runningExecutable,
                                     cairnImageMarker: cairnImage, runsControllers: !nodesOnly)
    }

    private func runNodesOnly() async throws {
        let connection: ClusterConnection
        do {
            connection = try KubeConfigLoader(explicitPath: kubeconfig).connection()
        } catch {
            throw SandboxCommandError("cannot use --kubeconfig \(kubeconfig ?? ""): \(error)")
        }
        let simulated = SimulatedNodes(client: KubeClient(connection: connection), configuration: nodesConfiguration, logger: Self.logger("cairn.sandbox.nodes"))
        Self.say("cairn sandbox: joining \(nodesConfiguration.nodeNames.joined(separator: ", ")) to \(connection.server); stop with Ctrl-C")
        try await ServiceGroup(configuration: Self.group([simulated])).run()
    }

    private func runSandbox() async throws {
        let store = ObjectStore()
        let stateFile = state.map(Self.absolute)
        if let stateFile { try await Self.load(stateFile, into: store) }
        try await Self.ensureNamespace("default", in: store)
        let server: SandboxServer
        do {
            server = try SandboxServer(store: store, port: port, logger: Self.logger("cairn.sandbox.http", level: .warning))
        } catch {
            throw SandboxCommandError("cannot start the API server: \(error)")
        }
        let kubeconfigFile = Self.absolute(kubeconfig ?? Self.defaultKubeconfig)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let announcer = NodesAfterListening(ports: ports, server: server, kubeconfig: kubeconfigFile, configuration: nodesConfiguration,
                                            say: { Self.say($0) }, logger: Self.logger("cairn.sandbox.nodes"))
        do {
            var services: [any Service] = [ServerService(server: server, onListening: { portSink.yield($0) }), announcer]
            if let stateFile { services.append(StateSaver(store: store, file: stateFile, logger: Self.logger("cairn.sandbox.state"))) }
            try await ServiceGroup(configuration: Self.group(services)).run()
        } catch {
            if let stateFile { try await Self.save(store, to: stateFile) }
            throw SandboxCommandError("the sandbox stopped: \(error)")
        }
        if let stateFile {
            try await Self.save(store, to: stateFile)
            Self.say("cairn sandbox: state saved to \(stateFile.path)")
        }
    }

    /// Writes a line to standard output at once (stdout is a pipe for scripts and tests).
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private static func group(_ services: [any Service]) -> ServiceGroupConfiguration {
        ServiceGroupConfiguration(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                                  logger: logger("cairn.sandbox", level: .warning))
    }

    private static func logger(_ label: String, level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    static func absolute(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
    }

    /// Loads a state file written by `save`; a missing file is a first start, anything unreadable
    /// an error (never a silent reset).
    static func load(_ file: URL, into store: ObjectStore) async throws {
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        let advice = "move it away to start empty, or name another file with --state"
        let snapshot: Node
        do {
            snapshot = try JSON.parse(Array(try Data(contentsOf: file)), file: file.path)
        } catch {
            throw SandboxCommandError("--state \(file.path) is not a sandbox state file (\(error)); \(advice)")
        }
        do {
            try await store.restore(from: snapshot)
        } catch {
            throw SandboxCommandError("--state \(file.path) is not a sandbox state file: \(error.message); \(advice)")
        }
    }

    /// Saves the store atomically, so an interrupted save leaves the previous state.
    static func save(_ store: ObjectStore, to file: URL) async throws {
        do {
            let text = try JSON.emit(await store.snapshot())
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file, options: .atomic)
        } catch {
            throw SandboxCommandError("could not save the state to --state \(file.path): \(error)")
        }
    }

    private static func ensureNamespace(_ name: String, in store: ObjectStore) async throws {
        do {
            _ = try await store.create(.mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": .string(name)])]), in: .namespaces)
        } catch where error.reason == "AlreadyExists" {
            return
        } catch {
            throw SandboxCommandError("cannot create the \(name) namespace: \(error)")
        }
    }
}

/// Saves the store to the `--state` file every few seconds when it has changed, so a sandbox that
/// is killed rather than stopped loses at most that much; the save at shutdown stays the last word.
struct StateSaver: Service {
    let store: ObjectStore
    let file: URL
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        var saved = await store.resourceVersion
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // shutting down: the final save follows the service group
            }
            let current = await store.resourceVersion
            guard current != saved else { continue }
            do {
                try await SandboxCommand.save(store, to: file)
                saved = current
            } catch {
                logger.warning("could not save the state; will try again", metadata: ["file": "\(file.path)", "error": "\(error)"])
            }
        }
    }
}

/// Why `cairn sandbox` could not start or stop cleanly.
struct SandboxCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The API server as a service that reports its port.
private struct ServerService: Service {
    let server: SandboxServer
    let onListening: @Sendable (Int) async -> Void

    func run() async throws { try await server.run(onListening: onListening) }
}

/// Waits for the server to listen, writes the kubeconfig, says how to use it, then runs the
/// simulated nodes against the server over HTTPS, as any client would.
private struct NodesAfterListening: Service {
    let ports: AsyncStream<Int>
    let server: SandboxServer
    let kubeconfig: URL
    let configuration: SimulatedNodes.Configuration
    let say: @Sendable (String) -> Void
    let logger: Logger

    func run() async throws {
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { return }
        do {
            try FileManager.default.createDirectory(at: kubeconfig.deletingLastPathComponent(), withIntermediateDirectories: true)
            try server.writeKubeconfig(to: kubeconfig)
        } catch {
            throw SandboxCommandError("cannot write the kubeconfig to \(kubeconfig.path): \(error)")
        }
        let connection = try KubeConfigLoader(explicitPath: kubeconfig.path).connection()
        say("""
            cairn sandbox: API server at https://127.0.0.1:\(port)
            kubeconfig: \(kubeconfig.path)
            nodes: \(configuration.nodeNames.joined(separator: ", ")) (files under \(configuration.root.path))
            Point kubectl at it:
              export KUBECONFIG=\(kubeconfig.path)
            Stop with Ctrl-C.
            """)
        try await SimulatedNodes(client: KubeClient(connection: connection), configuration: configuration, logger: logger).run()
    }
}
