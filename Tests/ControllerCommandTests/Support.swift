import AutoBackup
import CairnAPI
import CairnTesting
import Foundation
import Kube
import Subprocess
import Synchronization
import Testing
import YAML
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(System)
import System
#else
import SystemPackage
#endif

let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)
let leases = Resource(group: "coordination.k8s.io", version: "v1", plural: "leases", namespaced: true)

/// The suites that run `cairn controller` processes against a sandbox, one test at a time: each
/// process runs seven informers over HTTPS, and the leader-election timings need the CPU.
@Suite(.serialized) enum ControllerProcessTests {}

/// A `cairn controller` process started by a test, with its log (stderr) collected line by line.
final class RunningController: Sendable {
    private let lines = Mutex<[String]>([])
    private let ended = Mutex(false)
    private let sendSignal: @Sendable (Signal) throws -> Void

    init(sendSignal: @escaping @Sendable (Signal) throws -> Void) { self.sendSignal = sendSignal }

    /// The log so far.
    var log: [String] { lines.withLock { $0 } }
    /// Whether the process closed its stderr (it exited).
    var hasExited: Bool { ended.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    func end() { ended.withLock { $0 = true } }

    /// Sends `signal` to the process.
    func send(_ signal: Signal) throws { try sendSignal(signal) }

    /// The first log line matching `predicate`, waiting up to `limit`.
    @discardableResult
    func line(_ what: String, within limit: Duration = .seconds(30), where predicate: @escaping @Sendable (String) -> Bool) async throws -> String {
        try await eventually("cairn controller to log \(what)", limit) { [self] in
            if let line = log.first(where: predicate) { return line }
            guard !hasExited else { throw HarnessError(description: "cairn controller exited before logging \(what); its log:\n\(log.joined(separator: "\n"))") }
            return String?.none
        }
    }

    /// `http://HOST:PORT` of the endpoint that `flag` set up, from its "listening" log line.
    func endpoint(_ flag: String) async throws -> String {
        let line = try await line("that it listens for \(flag)") { $0.contains("msg=listening") && $0.contains("flag=\(flag)") }
        let address = try #require(logField("address", in: line))
        return "http://\(address)"
    }

    /// Waits until the process has exited (closed its stderr).
    func waitForExit(within limit: Duration = .seconds(30)) async throws {
        try await eventually("cairn controller to exit", limit) { [self] in hasExited }
    }

    /// Lines that record a write to a BackupConfiguration.
    var writes: [String] {
        log.filter { $0.contains("msg=\"created BackupConfiguration") || $0.contains("msg=\"updated BackupConfiguration") || $0.contains("msg=\"deleted BackupConfiguration") }
    }
}

/// Runs the `cairn` binary that `swift build` put beside the tests.
enum CairnController {
    static var binary: String { Processes.cairnBinary }

    /// The arguments every test passes: a free port for each endpoint and short Lease timings.
    static func arguments(_ cluster: some TestTarget, leaseNamespace: String? = nil, _ more: [String] = []) -> [String] {
        ["controller", "--kubeconfig", cluster.kubeconfig.path, "--namespace", cluster.namespace,
         "--leader-election-namespace", leaseNamespace ?? cluster.namespace,
         "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0",
         "--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "500ms"] + more
    }

    /// Starts `cairn controller`, runs `body`, then sends SIGTERM (unless the process has exited)
    /// and returns its exit status (128 + signal when a signal ended it) and its log.
    static func run(_ arguments: [String], within limit: Duration = .seconds(120),
                    _ body: @escaping @Sendable (RunningController) async throws -> Void) async throws -> (status: Int32, log: [String]) {
        try await withDeadline("cairn controller to finish", limit) {
            let result = try await Subprocess.run(.path(FilePath(binary)), arguments: Arguments(arguments), input: .none, output: .discarded, error: .sequence) { execution in
                let controller = RunningController { try execution.send(signal: $0) }
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await line in execution.standardError.strings() { controller.append(line.trimmingCharacters(in: .newlines)) }
                        controller.end()
                    }
                    let outcome: Result<Void, any Error>
                    do {
                        outcome = .success(try await body(controller))
                    } catch {
                        outcome = .failure(error)
                    }
                    if !controller.hasExited {
                        do { try controller.send(.terminate) } catch { print("note: SIGTERM not sent, the process had ended: \(error)") }
                    }
                    try await group.waitForAll()
                    if case .failure(let error) = outcome {
                        print("cairn controller's log:\n\(controller.log.joined(separator: "\n"))")
                        throw error
                    }
                    return controller.log
                }
            }
            return (code(result.terminationStatus), result.closureResult)
        }
    }

    /// Runs `cairn` to its end (for command lines that fail at start).
    static func runToEnd(_ arguments: [String]) async throws -> (status: Int32, stderr: String) {
        try await withDeadline("cairn to exit", .seconds(60)) {
            let result = try await Subprocess.run(.path(FilePath(binary)), arguments: Arguments(arguments), output: .discarded, error: .string(limit: 1 << 20))
            return (code(result.terminationStatus), result.standardError)
        }
    }

    private static func code(_ status: TerminationStatus) -> Int32 { Processes.code(status) }
}

/// A field's value in a logfmt line: `key=value` or `key="quoted value"`.
func logField(_ key: String, in line: String) -> String? {
    guard let range = line.range(of: " \(key)=") else { return nil }
    let rest = line[range.upperBound...]
    if rest.hasPrefix("\"") {
        var value = "", escaped = false
        for character in rest.dropFirst() {
            if escaped { value.append(character); escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { return value } else { value.append(character) }
        }
        return nil
    }
    return String(rest.prefix { $0 != " " })
}

/// GETs `url` and returns the status code and body.
func httpGet(_ url: String) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: try #require(URL(string: url)))
    request.timeoutInterval = 10
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// The value of an unlabelled series in a Prometheus text page.
func metric(_ name: String, in page: String) -> Double? {
    page.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
}

extension TestTarget {
    /// Creates `blueprints/postgres-pgdump.yaml` in the test namespace.
    func createBlueprint() async throws {
        let url = TestCluster.repository.appendingPathComponent("blueprints/postgres-pgdump.yaml")
        var blueprint = try YAML.parse(try String(contentsOf: url, encoding: .utf8), file: url.path)
        var metadata = try #require(blueprint["metadata"])
        metadata["namespace"] = .string(namespace)
        blueprint["metadata"] = metadata
        _ = try await client.create(CairnResource.blueprints, namespace: namespace, blueprint)
    }

    /// Creates a Deployment (in this namespace unless told) opted in to the postgres blueprint of this namespace.
    func createAnnotatedDeployment(_ name: String, dbName: String = "orders", in target: String? = nil) async throws {
        let labels: Node = .mapping(["app": .string(name)])
        let deployment: Node = .mapping([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": .mapping([
                "name": .string(name), "namespace": .string(target ?? namespace),
                "annotations": .mapping([
                    .init(key: .string(BlueprintAnnotation.name), value: "postgres-nightly"),
                    .init(key: .string(BlueprintAnnotation.namespace), value: .string(namespace)),
                    .init(key: .string(BlueprintAnnotation.variable("dbName")), value: .string(dbName)),
                ]),
            ]),
            "spec": .mapping([
                "replicas": 0, "selector": .mapping(["matchLabels": labels]),
                "template": .mapping(["metadata": .mapping(["labels": labels]),
                                      "spec": .mapping(["containers": .sequence([.mapping(["name": "postgres", "image": "postgres:16"])])])]),
            ]),
        ])
        _ = try await client.create(deployments, namespace: target ?? namespace, deployment)
    }

    /// The configuration generated for a Deployment (in this namespace unless told), or nil while there is none.
    func configuration(for deployment: String, in target: String? = nil) async throws -> Node? {
        do {
            return try await client.get(CairnResource.configurations, namespace: target ?? namespace, name: "deployment-\(deployment)")
        } catch let error as KubeError where error.kind == .notFound {
            return Node?.none
        }
    }

    /// The Lease's holder, "" when free, nil when there is no Lease.
    func leaseHolder(_ name: String = "cairn-controller") async throws -> String? {
        do {
            return try await client.get(leases, namespace: namespace, name: name)[path: "spec", "holderIdentity"]?.string ?? ""
        } catch let error as KubeError where error.kind == .notFound {
            return String?.none
        }
    }
}

/// What the helpers above need of a cluster: a client, a namespace of the test's own, a kubeconfig.
protocol TestTarget: Sendable {
    var client: KubeClient { get }
    var namespace: String { get }
    var kubeconfig: URL { get }
}

extension TestCluster: TestTarget {}

/// A `cairn sandbox` process, for tests whose load would starve the other suites' timing-sensitive
/// tests if the API server ran on the test runner's own cooperative threads.
struct SandboxProcess: TestTarget {
    let client: KubeClient
    let namespace: String
    let kubeconfig: URL

    /// Starts `cairn sandbox`, creates a namespace and the CRDs, runs `body`, then stops it (SIGTERM).
    static func with(within limit: Duration, _ body: @escaping @Sendable (SandboxProcess) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-sandbox-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer {
            do { try FileManager.default.removeItem(at: directory) } catch { print("warning: could not remove \(directory.path): \(error)") }
        }
        let kubeconfig = directory.appendingPathComponent("kubeconfig")
        let arguments = ["sandbox", "--kubeconfig", kubeconfig.path, "--nodes", "1", "--root", directory.appendingPathComponent("root").path]
        let (status, _) = try await CairnController.run(arguments, within: limit) { _ in
            try await eventually("the sandbox's kubeconfig", .seconds(30)) { FileManager.default.fileExists(atPath: kubeconfig.path) }
            let client = KubeClient(connection: try KubeConfigLoader(explicitPath: kubeconfig.path).connection())
            let sandbox = SandboxProcess(client: client, namespace: "restart", kubeconfig: kubeconfig)
            _ = try await client.create(TestCluster.namespaces, .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": "restart"])]))
            let applied = try await Processes.run(Processes.kubectlPath, ["apply", "-k", TestCluster.repository.appendingPathComponent("crds").path, "--kubeconfig", kubeconfig.path])
            guard applied.status == 0 else { throw HarnessError(description: "kubectl apply -k crds/ failed: \(applied.stderr)") }
            try await eventually("the CRDs to be served", .seconds(30)) {
                do {
                    _ = try await client.list(CairnResource.configurations, namespace: "restart")
                    _ = try await client.list(CairnResource.blueprints, namespace: "restart")
                    return true
                } catch let error as KubeError where error.kind == .notFound {
                    return false
                }
            }
            try await body(sandbox)
        }
        #expect(status == 0, "cairn sandbox did not stop cleanly")
    }
}
