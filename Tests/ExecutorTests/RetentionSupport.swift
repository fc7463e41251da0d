import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Logging
import SandboxNodes
import Testing
import YAML

/// A sandbox with the CRDs, a real local restic repository, a manual clock, and RetentionKeepers
/// run against it; the simulated kubelet runs the forget Jobs as the real `cairn agent`.
struct RetentionHarness: Sendable {
    let base: RunnerHarness
    let clock: ManualClock
    var client: KubeClient { base.client }
    var namespace: String { base.namespace }
    var repository: String { base.cluster.directory.appendingPathComponent("repository").path }
    static let configuration = RunnerHarness.configurationName
    static let session = "nightly"
    static let claim = "data"

    /// Runs `body` with a fresh sandbox, an initialised repository and a clock at `start`.
    static func with(start: Date, _ body: @escaping @Sendable (RetentionHarness) async throws -> Void) async throws {
        try await RunnerHarness.with { base in
            _ = try base.cluster.sandboxOnly()
            let harness = RetentionHarness(base: base, clock: ManualClock(start: start))
            try await harness.restic(["init"])
            try await body(harness)
        }
    }

    /// Runs the simulated nodes (kubelet and Job controller) until `body` returns.
    func withNodes(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let root = base.cluster.directory.appendingPathComponent("nodes")
        let nodes = SimulatedNodes(client: client, configuration: .init(nodes: 1, root: root, cairnBinary: Processes.cairnBinary), logger: quietLogger())
        let simulated = Task { try await nodes.run() }
        defer { simulated.cancel() }
        try await body()
    }

    /// Runs a RetentionKeeper for `namespace` (the test's by default) until `body` returns.
    func keeping(namespace: String? = nil, grace: TimeInterval, retryDelay: TimeInterval = 600,
                 _ body: @escaping @Sendable (RetentionKeeper) async throws -> Void) async throws {
        var options = RetentionKeeper.Options(namespace: namespace ?? self.namespace)
        (options.grace, options.retryDelay, options.agentImage) = (grace, retryDelay, "cairn:test")
        var logger = Logger(label: "cairn.retention.test")
        logger.logLevel = ProcessInfo.processInfo.environment["CAIRN_TEST_DEBUG"] == nil ? .critical : .info
        let keeper = RetentionKeeper(client: client, clock: clock, options: options, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await keeper.run() }
            defer { group.cancelAll() }
            try await withDeadline("the keeper's informers to sync", .seconds(20)) { try await keeper.waitForSync() }
            try await body(keeper)
        }
    }

    // MARK: Fixtures

    /// Storage `store` on the local repository, Secret `restic` with `password`, and configuration
    /// ``configuration`` whose session ``session`` keeps `retention` in `timeZone`.
    @discardableResult
    func createFixtures(namespace: String? = nil, retention: Retention?, timeZone: String? = nil,
                        password: String = RunnerHarness.password) async throws -> Node {
        let namespace = namespace ?? self.namespace
        let repository = repository
        try await base.createStorage(namespace: namespace) { $0.spec.backend.local = LocalBackend(path: repository) }
        try await base.createSecret("restic", ["RESTIC_PASSWORD": password], namespace: namespace)
        var session = SessionSpec(name: Self.session, schedule: "@daily", retention: retention)
        session.timeZone = timeZone
        var spec = BackupConfigurationSpec(target: TargetRef(apiVersion: "v1", kind: "PersistentVolumeClaim", name: Self.claim),
                                           storage: NamespacedRef(name: "store"), sessions: [session])
        spec.encryptionSecret = LocalRef(name: "restic")
        let configuration = BackupConfiguration(metadata: ObjectMeta(name: Self.configuration, namespace: namespace), spec: spec)
        return try await client.create(ExecutorResource.configurations, namespace: namespace, try NodeEncoder().encode(configuration))
    }

    /// A Snapshot object as the session runner writes it, owned by `configuration`.
    @discardableResult
    func createSnapshot(_ name: String, configuration: Node, time: Date, resticID: String, pinned: Bool = false) async throws -> Node {
        let namespace = configuration[path: "metadata", "namespace"]?.string ?? ""
        var spec = SnapshotSpec(configuration: Self.configuration, session: Self.session, backupSession: name, pvc: Self.claim,
                                method: .restic, time: KubeTime.time(time))
        spec.storage = NamespacedRef(name: "store", namespace: namespace)
        spec.resticSnapshotID = resticID
        spec.hostname = "\(namespace)/\(Self.configuration)"
        spec.tags = ["pvc=\(Self.claim)"]
        var labels = [
            CairnLabel.managedBy: CairnLabel.managedByValue, ExecutorLabel.configuration: Self.configuration,
            ExecutorLabel.session: Self.session, ExecutorLabel.pvc: Self.claim,
        ]
        if pinned { labels[RetentionLabel.keep] = "true" }
        var metadata = ObjectMeta(name: name, namespace: namespace, labels: labels)
        metadata.ownerReferences = [OwnerReference(apiVersion: CairnGroup.apiVersion, kind: "BackupConfiguration",
                                                   name: Self.configuration, uid: configuration.uid)]
        return try await client.create(ExecutorResource.snapshots, namespace: namespace, try NodeEncoder().encode(Snapshot(metadata: metadata, spec: spec)))
    }

    // MARK: restic

    /// Backs up a tiny directory with real restic as `<namespace>/<configuration>` at `time`; returns the snapshot ID.
    func resticBackup(namespace: String? = nil, time: Date) async throws -> String {
        let data = base.cluster.directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("retention \(time)\n".utf8).write(to: data.appendingPathComponent("file-\(Int(time.timeIntervalSince1970))"))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let output = try await restic([
            "backup", "--json", "--host", "\(namespace ?? self.namespace)/\(Self.configuration)", "--tag", "pvc=\(Self.claim)",
            "--time", formatter.string(from: time), data.path,
        ])
        for line in output.split(separator: "\n").reversed() {
            let message = try JSON.parse(String(line))
            guard message["message_type"]?.string == "summary", let short = message["snapshot_id"]?.string else { continue }
            // restic 0.14's summary names the short ID; the agent records the full one, and so does this.
            let listed = try await restic(["snapshots", "--json", short])
            return try #require(try JSON.parse(listed).sequence?.first?["id"]?.string)
        }
        throw HarnessError(description: "restic backup printed no summary: \(output)")
    }

    /// The IDs of the repository's snapshots of `<namespace>/<configuration>`.
    func resticSnapshotIDs(namespace: String? = nil) async throws -> Set<String> {
        let output = try await restic(["snapshots", "--json", "--host", "\(namespace ?? self.namespace)/\(Self.configuration)"])
        return Set(try #require(try JSON.parse(output).sequence).compactMap { $0["id"]?.string })
    }

    @discardableResult
    func restic(_ arguments: [String]) async throws -> String {
        let result = try await Processes.run("/usr/bin/env", [
            "TZ=UTC", "RESTIC_PASSWORD=\(RunnerHarness.password)", "restic", "--repo", repository, "--no-cache", "--quiet",
        ] + arguments)
        guard result.status == 0 else { throw HarnessError(description: "restic \(arguments.first ?? "") exited \(result.status): \(result.stderr)") }
        return result.stdout
    }

    // MARK: Reading

    /// The Snapshot objects of `namespace`, by name.
    func snapshots(namespace: String? = nil) async throws -> [String: Snapshot] {
        let items = try await client.list(Snapshot.self, ExecutorResource.snapshots, namespace: namespace ?? self.namespace).items
        return Dictionary(uniqueKeysWithValues: items.map { ($0.metadata.name ?? "", $0) })
    }

    /// The forget Jobs of `namespace`.
    func forgetJobs(namespace: String? = nil) async throws -> [Node] {
        try await client.list(ExecutorResource.jobs, namespace: namespace ?? self.namespace,
                              options: ListOptions(labelSelector: "cairn.dev/retention=forget")).items
    }

    /// The Events in `namespace` with `reason`, after the keeper wrote what it recorded.
    func events(reason: String, namespace: String? = nil, keeper: RetentionKeeper) async throws -> [Node] {
        await keeper.flushEvents()
        return try await client.list(eventResource, namespace: namespace ?? self.namespace).items.filter { $0["reason"]?.string == reason }
    }
}

extension Snapshot {
    /// Its retention labels (the period labels, `delete-after` and `keep`).
    var retentionLabels: [String: String] {
        (metadata.labels ?? [:]).filter { RetentionLabel.managed.contains($0.key) || $0.key == RetentionLabel.keep }
    }
}
