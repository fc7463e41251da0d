import CairnTesting
import Foundation
import Kube
import Logging
import Sandbox
import Synchronization
import YAML

let configMaps = Resource(group: "", version: "v1", plural: "configmaps", namespaced: true)

/// A ConfigMap with labels, annotations and data.
func configMap(_ name: String, in namespace: String, labels: [String: String] = [:], annotations: [String: String] = [:],
               data: [String: String] = [:]) -> Node {
    .mapping([
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": .mapping(["name": .string(name), "namespace": .string(namespace), "labels": mapping(labels), "annotations": mapping(annotations)]),
        "data": mapping(data),
    ])
}

func mapping(_ values: [String: String]) -> Node {
    .mapping(values.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })
}

/// Runs `body`, failing with `DeadlineExceeded` when it takes longer than `limit`.
func within<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withDeadline(what, limit, body)
}

/// Polls `condition` every 20 ms until it holds; throws `DeadlineExceeded` after `limit`.
func eventually(_ limit: Duration = .seconds(20), _ what: String, _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    try await CairnTesting.eventually(what, limit, interval: .milliseconds(20), condition)
}

/// Runs the informer for the duration of `body`, then stops it.
func running<T: Sendable>(_ informer: Informer, _ body: @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await informer.run() }
        defer { group.cancelAll() }
        try await within(.seconds(20), "the informer's first list") { try await informer.waitForSync() }
        return try await body()
    }
}

/// The keys and resourceVersions of a fresh list, to compare an informer's cache with.
func serverState(_ client: KubeClient, namespace: String) async throws -> [String: String] {
    let list = try await client.list(configMaps, namespace: namespace)
    return versions(list.items)
}

func versions(_ objects: [Node]) -> [String: String] {
    Dictionary(uniqueKeysWithValues: objects.map { (ObjectKey($0).description, $0[path: "metadata", "resourceVersion"]?.string ?? "") })
}

/// Creates `count` ConfigMaps named `<prefix>-<n>`, eight at a time.
func createConfigMaps(_ client: KubeClient, namespace: String, prefix: String, count: Int,
                      labels: @escaping @Sendable (Int) -> [String: String] = { _ in [:] }) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<count {
            if index >= 8 { try await group.next() }
            group.addTask {
                _ = try await client.create(configMaps, configMap("\(prefix)-\(index)", in: namespace, labels: labels(index)))
            }
        }
        try await group.waitForAll()
    }
}

/// A clock that moves only when the test advances it; sleepers wake when their time comes.
final class TestClock: KubeClock {
    private struct Sleeper {
        var due: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let state = Mutex<(now: Duration, sleepers: [Int: Sleeper], next: Int)>((.zero, [:], 0))

    func now() -> Duration { state.withLock { $0.now } }

    /// How many tasks are asleep on this clock.
    var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    func sleep(for duration: Duration) async throws {
        let id = state.withLock { state in
            state.next += 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let due = state.withLock { state -> Bool in
                    if duration <= .zero { return true }
                    state.sleepers[id] = Sleeper(due: state.now + duration, continuation: continuation)
                    return false
                }
                if due { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes the sleepers now due.
    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now += duration
            let due = state.sleepers.filter { $0.value.due <= state.now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }
}

/// A sandbox server on a fixed port over the test cluster's store, which the test can stop and
/// start again: its clients see the connection drop and come back, as after an API server restart.
actor RestartableServer {
    let server: SandboxServer
    let kubeconfig: URL
    private var running: (task: Task<Void, any Error>, stop: AsyncStream<Void>.Continuation)?

    /// Finds a free port, and writes a kubeconfig for it into `directory`.
    init(store: ObjectStore, directory: URL) async throws {
        let probe = try SandboxServer(store: store)
        let port = try await probe.withRunning { url in url.port ?? 0 }
        server = try SandboxServer(store: store, port: port)
        kubeconfig = directory.appendingPathComponent("restartable-kubeconfig")
        try await start()
        try server.writeKubeconfig(to: kubeconfig)
    }

    /// A client for this server, with quick retries.
    nonisolated func client() throws -> KubeClient {
        var options = KubeClientOptions()
        options.retry = RetryPolicy(maxAttempts: 1)
        options.connectTimeout = .seconds(2)
        return KubeClient(connection: try KubeConfigLoader(explicitPath: kubeconfig.path).connection(), options: options)
    }

    /// Starts serving; returns once it listens.
    func start() async throws {
        let server = server
        let (stopSignal, stop) = AsyncStream.makeStream(of: Void.self)
        let (ready, readySignal) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            defer { readySignal.finish() }
            try await server.withRunning { _ in
                readySignal.finish()
                for await _ in stopSignal {}
            }
        }
        for await _ in ready {}
        running = (task, stop)
        guard server.port != nil else {
            try await task.value  // rethrows the bind error
            throw DeadlineExceeded(description: "the restartable server stopped before it listened")
        }
    }

    /// Stops serving and waits until it has.
    func stop() async throws {
        guard let running else { return }
        self.running = nil
        running.stop.finish()
        try await running.task.value
    }
}

/// Log messages kept for assertions.
final class LogCapture: Sendable {
    private let entries = Mutex<[(level: Logger.Level, message: String, metadata: String)]>([])

    /// A logger that writes here.
    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    /// The messages at `level` or above, with their metadata.
    func messages(atLeast level: Logger.Level) -> [String] {
        entries.withLock { $0.filter { $0.level >= level }.map { "\($0.message) \($0.metadata)" } }
    }

    fileprivate func append(_ level: Logger.Level, _ message: String, _ metadata: String) {
        entries.withLock { $0.append((level, message, metadata)) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append(event.level, event.message.description, all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
    }
}
