import CairnTesting
import Foundation
import Kube
import Subprocess
import Testing
import YAML
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// `cairn sandbox` as a real process, driven by the real kubectl.
@Suite struct SandboxCommandTests {
    @Test func givenCairnSandbox_WhenStarted_ThenKubectlListsTheNodesAndSIGTERMStopsItCleanly() async throws {
        let scratch = try ScratchDirectory()
        let kubeconfig = scratch.url.appendingPathComponent("kubeconfig").path
        let status = try await CairnSandbox.run(["sandbox", "--kubeconfig", kubeconfig, "--nodes", "3", "--root", scratch.url.appendingPathComponent("root").path],
                                                in: scratch.url) { lines in
            let line = try await lines.first { $0.hasPrefix("kubeconfig: ") }
            #expect(line == "kubeconfig: \(kubeconfig)")
            _ = try await lines.first { $0.contains("export KUBECONFIG=\(kubeconfig)") }
            let nodes = try await CairnSandbox.eventuallyKubectl(["get", "nodes", "-o", "name"], kubeconfig: kubeconfig) { $0.contains("sandbox-node-3") }
            #expect(nodes.split(separator: "\n") == ["node/sandbox-node-1", "node/sandbox-node-2", "node/sandbox-node-3"])
        }
        #expect(status == 0)
    }

    @Test func givenAStateFile_WhenTheSandboxRestarts_ThenAConfigMapSurvives() async throws {
        let scratch = try ScratchDirectory()
        let kubeconfig = scratch.url.appendingPathComponent("kubeconfig").path
        let state = scratch.url.appendingPathComponent("state.json").path
        let arguments = ["sandbox", "--kubeconfig", kubeconfig, "--state", state, "--root", scratch.url.appendingPathComponent("root").path]
        let first = try await CairnSandbox.run(arguments, in: scratch.url) { lines in
            _ = try await lines.first { $0.hasPrefix("kubeconfig: ") }
            // From a file: `kubectl create configmap` sends protobuf, which the sandbox does not read.
            let manifest = scratch.url.appendingPathComponent("configmap.json")
            try Data(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep-me","namespace":"default"},"data":{"answer":"42"}}"#.utf8).write(to: manifest)
            _ = try await CairnSandbox.kubectl(["create", "-f", manifest.path], kubeconfig: kubeconfig)
            // Saved while running, not only at shutdown, so a killed sandbox keeps it too.
            try await eventually("the state file to hold the ConfigMap", .seconds(20)) {
                (try? String(contentsOfFile: state, encoding: .utf8))?.contains("keep-me") == true  // absent until the first save
            }
        }
        #expect(first == 0)
        #expect(FileManager.default.fileExists(atPath: state))

        let second = try await CairnSandbox.run(arguments, in: scratch.url) { lines in
            _ = try await lines.first { $0.hasPrefix("kubeconfig: ") }
            let value = try await CairnSandbox.kubectl(["get", "configmap", "keep-me", "-o", "jsonpath={.data.answer}"], kubeconfig: kubeconfig)
            #expect(value == "42")
        }
        #expect(second == 0)
    }

    @Test func givenABareAPIServer_WhenNodesOnlyJoinsIt_ThenNodesAppearAndAPodBoundToOneRuns() async throws {
        // The cluster is a sandbox API server without simulated nodes, standing in for any
        // cluster: `--nodes-only` reaches it through its kubeconfig alone.
        try await TestCluster.with { cluster in
            let scratch = try ScratchDirectory()
            let arguments = ["sandbox", "--nodes-only", "--kubeconfig", cluster.kubeconfig.path, "--nodes", "1",
                             "--root", scratch.url.appendingPathComponent("root").path]
            let status = try await CairnSandbox.run(arguments, in: scratch.url) { _ in
                let pods = Resource(group: "", version: "v1", plural: "pods", namespaced: true)
                let nodes = Resource(group: "", version: "v1", plural: "nodes", namespaced: false)
                _ = try await eventually("node sandbox-node-1", .seconds(30)) {
                    do {
                        return try await cluster.client.get(nodes, name: "sandbox-node-1")
                    } catch let error as KubeError where error.kind == .notFound {
                        return Node?.none  // not `nil`: Node is ExpressibleByNilLiteral, and that would be Node.null
                    }
                }
                _ = try await cluster.client.create(pods, try JSON.parse("""
                    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "once", "namespace": "\(cluster.namespace)"},
                     "spec": {"nodeName": "sandbox-node-1", "restartPolicy": "Never",
                              "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo joined > \\"$CAIRN_TERMINATION_LOG\\""]}]}}
                    """))
                let done = try await eventually("the pod to succeed", .seconds(30)) { () -> Node? in
                    let pod = try await cluster.client.get(pods, namespace: cluster.namespace, name: "once")
                    return pod[path: "status", "phase"]?.string == "Succeeded" ? pod : Node?.none
                }
                let terminated = done[path: "status", "containerStatuses"]?.sequence?.first?[path: "state", "terminated"]
                #expect(terminated?["exitCode"]?.int == 0)
                #expect(terminated?["message"]?.string == "joined\n")
            }
            #expect(status == 0)
        }
    }

    @Test func givenACorruptStateFile_WhenTheSandboxStarts_ThenItExitsNamingTheFile() async throws {
        let scratch = try ScratchDirectory()
        let state = scratch.url.appendingPathComponent("state.json")
        try Data("{\"objects\": [".utf8).write(to: state)

        let result = try await CairnSandbox.runToEnd(["sandbox", "--state", state.path, "--kubeconfig", scratch.url.appendingPathComponent("kc").path], in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("--state \(state.path) is not a sandbox state file"))
        #expect(result.stderr.contains("move it away"))
        #expect(try String(contentsOf: state, encoding: .utf8) == "{\"objects\": [")  // not reset
    }

    @Test(arguments: [["sandbox", "--nodes", "0"], ["sandbox", "--no-such-flag"], ["sandbox", "--nodes-only"], ["sandbox", "--port", "70000"]])
    func givenABadCommandLine_WhenTheSandboxStarts_ThenItExitsTwo(arguments: [String]) async throws {
        let scratch = try ScratchDirectory()
        let result = try await CairnSandbox.runToEnd(arguments, in: scratch.url)
        #expect(result.status == 2)
        #expect(!result.stderr.isEmpty)
    }
}

/// Runs the `cairn` binary that `swift build` put beside the tests.
enum CairnSandbox {
    static var binary: String { Processes.cairnBinary }

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `cairn` to its end (for commands that fail at start), with a deadline.
    static func runToEnd(_ arguments: [String], in directory: URL) async throws -> Output {
        try await withDeadline(.seconds(60)) {
            let result = try await Subprocess.run(.path(FilePath(binary)), arguments: Arguments(arguments), workingDirectory: FilePath(directory.path),
                                                  output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
            return Output(status: code(result.terminationStatus), stdout: result.standardOutput, stderr: result.standardError)
        }
    }

    /// Starts `cairn`, hands its stdout lines to `body`, then sends SIGTERM and returns its exit
    /// status.
    static func run(_ arguments: [String], in directory: URL, _ body: @escaping @Sendable (Lines) async throws -> Void) async throws -> Int32 {
        try await withDeadline(.seconds(90)) {
            let result = try await Subprocess.run(
                .path(FilePath(binary)), arguments: Arguments(arguments), workingDirectory: FilePath(directory.path),
                input: .none, output: .sequence, error: .discarded
            ) { execution in
                let (lines, sink) = AsyncStream.makeStream(of: String.self)
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await line in execution.standardOutput.strings() { sink.yield(line.trimmingCharacters(in: .newlines)) }
                        sink.finish()
                    }
                    let outcome: Result<Void, any Error>
                    do {
                        outcome = .success(try await body(Lines(stream: lines)))
                    } catch {
                        outcome = .failure(error)
                    }
                    try execution.send(signal: .terminate)
                    try await group.waitForAll()
                    try outcome.get()
                }
            }
            return code(result.terminationStatus)
        }
    }

    /// Runs kubectl against `kubeconfig` and returns its stdout; a non-zero exit throws.
    static func kubectl(_ arguments: [String], kubeconfig: String) async throws -> String {
        let result = try await Subprocess.run(.name("kubectl"), arguments: Arguments(arguments + ["--kubeconfig", kubeconfig, "--request-timeout=10s"]),
                                              output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        guard code(result.terminationStatus) == 0 else {
            throw WaitError(description: "kubectl \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
        return (result.standardOutput).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs kubectl until its output satisfies `accept`, for up to 20 seconds.
    static func eventuallyKubectl(_ arguments: [String], kubeconfig: String, accept: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(20)
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await kubectl(arguments, kubeconfig: kubeconfig)
            if accept(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw WaitError(description: "kubectl \(arguments.joined(separator: " ")) never gave the expected output; last: \(last)")
    }

    private static func code(_ status: TerminationStatus) -> Int32 { Processes.code(status) }

    /// Runs `body`, failing (and cancelling it) when it takes longer than `limit`.
    static func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await CairnTesting.withDeadline("cairn to finish", limit, body)
    }
}

/// The stdout lines of a running `cairn`, read by one iterator across calls.
actor Lines {
    private var iterator: AsyncStream<String>.Iterator

    init(stream: AsyncStream<String>) { iterator = stream.makeAsyncIterator() }

    /// The next line matching `predicate`; throws if the process ends first.
    func first(where predicate: @Sendable (String) -> Bool) async throws -> String {
        // Copied out and back: an actor's stored property cannot be mutated across a suspension;
        // only one caller reads at a time.
        var lines = iterator
        defer { iterator = lines }
        while let line = await lines.next(isolation: self) {
            if predicate(line) { return line }
        }
        throw WaitError(description: "cairn's output ended before the expected line")
    }
}

/// A temporary directory, removed when the value goes away.
final class ScratchDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-nodes-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        do { try FileManager.default.removeItem(at: url) } catch { print("warning: could not remove \(url.path): \(error)") }
    }
}
