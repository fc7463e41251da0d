import AutoBackup
import Blueprint
import CairnAPI
import CairnTesting
import Foundation
import Kube
import Logging
import Testing
import YAML

let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)

/// A test cluster with the CRDs installed and an AutoBackup controller running against it over HTTPS.
struct Harness: Sendable {
    let cluster: TestCluster
    let controller: AutoBackupController
    var client: KubeClient { cluster.client }
    var namespace: String { cluster.namespace }

    /// Runs `body` with a fresh sandbox and a synced controller watching its test namespace; stops both after.
    ///
    /// `storage` creates the BackupStorage the blueprints' configurations name (``storageName``
    /// in the test namespace) first; `configure` adjusts the controller's options (metrics, delays).
    static func with(
        storage: Bool = true, configure: @Sendable (inout AutoBackupController.Options) -> Void = { _ in },
        _ body: @escaping @Sendable (Harness) async throws -> Void
    ) async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            if storage { try await createStorage(in: cluster) }
            try await runController(cluster, configure: configure) { controller in
                try await body(Harness(cluster: cluster, controller: controller))
            }
            if !cluster.isSandbox { try await releaseBlueprints(in: cluster) }
        }
    }

    /// Removes the controller's finalizer from the blueprints left in the test namespace, which
    /// would otherwise hold a real cluster's namespace in Terminating once the controller is gone.
    static func releaseBlueprints(in cluster: TestCluster) async throws {
        for blueprint in try await cluster.client.list(CairnResource.blueprints, namespace: cluster.namespace).items {
            guard let released = DeletionPlan.removingFinalizer(blueprint) else { continue }
            _ = try await cluster.client.update(CairnResource.blueprints, namespace: cluster.namespace, released)
        }
    }

    /// Runs an AutoBackup controller against `cluster` until `body` returns, then stops it.
    static func runController(
        _ cluster: TestCluster, configure: @Sendable (inout AutoBackupController.Options) -> Void = { _ in },
        _ body: @escaping @Sendable (AutoBackupController) async throws -> Void
    ) async throws {
        var options = AutoBackupController.Options(namespace: cluster.namespace)
        configure(&options)
        let controller = AutoBackupController(client: cluster.client, options: options, logger: quietControllerLogger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await controller.run() }
            defer { group.cancelAll() }
            try await withDeadline("the controller's informers to sync", .seconds(20)) { try await controller.waitForSync() }
            try await body(controller)
        }
    }

    /// The BackupStorage the test blueprints' configurations name, in the test namespace.
    static let storageName = "default"

    /// Creates BackupStorage ``storageName`` in the test namespace.
    @discardableResult
    static func createStorage(in cluster: TestCluster) async throws -> Node {
        let storage: Node = .mapping([
            "apiVersion": "cairn.dev/v1alpha1", "kind": "BackupStorage",
            "metadata": .mapping(["name": .string(storageName), "namespace": .string(cluster.namespace)]),
            "spec": .mapping(["backend": .mapping(["local": .mapping(["path": "/var/backups/cairn"])])]),
        ])
        return try await cluster.client.create(CairnResource.storages, namespace: cluster.namespace, storage)
    }

    /// Creates `blueprints/<file>` in the test namespace, changed by `edit` first.
    @discardableResult
    func createBlueprint(_ file: String = "postgres-pgdump.yaml", edit: (inout Node) throws -> Void = { _ in }) async throws -> Node {
        let url = TestCluster.repository.appendingPathComponent("blueprints").appendingPathComponent(file)
        var blueprint = try YAML.parse(try String(contentsOf: url, encoding: .utf8), file: file)
        try edit(&blueprint)
        var metadata = try #require(blueprint["metadata"])
        metadata["namespace"] = .string(namespace)
        blueprint["metadata"] = metadata
        // The storage in the test namespace, so tests create and delete it without touching others.
        var spec = try #require(blueprint["spec"])
        var template = try #require(spec["template"])
        var storage = template["storage"] ?? .mapping([])
        storage["namespace"] = .string(namespace)
        template["storage"] = storage
        spec["template"] = template
        blueprint["spec"] = spec
        return try await client.create(CairnResource.blueprints, namespace: namespace, blueprint)
    }

    /// Creates a Deployment with these annotations.
    @discardableResult
    func createDeployment(_ name: String, annotations: [String: String]) async throws -> Node {
        try await client.create(deployments, namespace: namespace, deployment(name, annotations: annotations))
    }

    /// A Deployment manifest with these annotations, in the test namespace.
    func deployment(_ name: String, annotations: [String: String]) -> Node {
        let labels = mapping(["app": name])
        let container: Node = .mapping(["name": "postgres", "image": "postgres:16"])
        return .mapping([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace), "annotations": mapping(annotations)]),
            "spec": .mapping([
                "replicas": 0, "selector": .mapping(["matchLabels": labels]),
                "template": .mapping(["metadata": .mapping(["labels": labels]), "spec": .mapping(["containers": .sequence([container])])]),
            ]),
        ])
    }

    /// Reads, edits and writes back a Deployment's annotations.
    func editAnnotations(of name: String, _ edit: (inout [String: String]) -> Void) async throws {
        let deployment = try await client.get(deployments, namespace: namespace, name: name)
        _ = try await client.update(deployments, namespace: namespace, withAnnotations(deployment, edit))
    }

    /// Reads, changes and writes back an object in the test namespace, reading again after a 409
    /// Conflict: the controller writes blueprints and configurations too.
    @discardableResult
    func edit(_ resource: Resource, _ name: String, _ change: (Node) throws -> Node) async throws -> Node {
        var attempt = 0
        while true {
            attempt += 1
            let live = try await client.get(resource, namespace: namespace, name: name)
            do {
                return try await client.update(resource, namespace: namespace, try change(live))
            } catch let error as KubeError where error.kind == .conflict && attempt < 10 {
                continue
            }
        }
    }

    /// The generated configuration's name for a Deployment.
    static func configurationName(_ deployment: String) -> String { Naming.configurationName(kind: "Deployment", name: deployment) }

    /// The configuration generated for a Deployment, or nil while there is none.
    func configuration(for deployment: String) async throws -> Node? {
        do {
            return try await client.get(CairnResource.configurations, namespace: namespace, name: Self.configurationName(deployment))
        } catch let error as KubeError where error.kind == .notFound {
            return Node?.none
        }
    }

    /// Waits until the configuration for `deployment` exists and satisfies `condition`; returns it.
    @discardableResult
    func waitForConfiguration(_ deployment: String, _ what: String, _ condition: @escaping @Sendable (Node) -> Bool = { _ in true }) async throws -> Node {
        try await eventually("\(what) (BackupConfiguration \(Self.configurationName(deployment)))", .seconds(20)) {
            guard let live = try await configuration(for: deployment), condition(live) else { return Node?.none }
            return live
        }
    }

    /// The blueprint `name` in the test namespace, as the server holds it; nil once it is gone.
    func blueprint(_ name: String = "postgres-nightly") async throws -> Node? {
        do {
            return try await client.get(CairnResource.blueprints, namespace: namespace, name: name)
        } catch let error as KubeError where error.kind == .notFound {
            return Node?.none
        }
    }

    /// Waits until the blueprint's status satisfies `condition`; returns the blueprint.
    @discardableResult
    func waitForBlueprint(_ what: String, name: String = "postgres-nightly", _ condition: @escaping @Sendable (Node) -> Bool) async throws -> Node {
        try await eventually("\(what) (BackupBlueprint \(name))", .seconds(20)) {
            guard let live = try await blueprint(name), condition(live) else { return Node?.none }
            return live
        }
    }

    /// The Warning Events recorded on a Deployment.
    func warnings(on deployment: String) async throws -> [Node] {
        try await client.list(EventRecorder.events, namespace: namespace).items.filter { event in
            event["type"]?.string == "Warning" && event[path: "involvedObject", "kind"]?.string == "Deployment"
                && event[path: "involvedObject", "name"]?.string == deployment
        }
    }

    /// Waits until the controller's counters satisfy `condition`: a write shows on the server a
    /// moment before the controller's own call returns and counts it.
    func waitForStatistics(_ what: String, _ condition: @escaping @Sendable (AutoBackupController.Statistics) -> Bool) async throws {
        try await eventually("the controller to count \(what)", .seconds(20)) { condition(controller.statistics) }
    }

    /// Waits until the controller has finished more reconciles than `count`.
    func waitForReconciles(after count: Int) async throws {
        try await eventually("the controller to reconcile again", .seconds(20)) { controller.statistics.reconciles > count }
    }
}

/// The object with its annotations edited.
func withAnnotations(_ object: Node, _ edit: (inout [String: String]) -> Void) -> Node {
    var object = object
    var annotations = object.annotationMap
    edit(&annotations)
    var metadata = object["metadata"] ?? .mapping([])
    metadata["annotations"] = mapping(annotations)
    object["metadata"] = metadata
    return object
}

func mapping(_ values: [String: String]) -> Node {
    .mapping(values.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })
}

extension Node {
    /// `metadata.annotations` as strings.
    var annotationMap: [String: String] {
        var map: [String: String] = [:]
        for pair in self[path: "metadata", "annotations"]?.mapping ?? [] { map[pair.key.scalarText] = pair.value.string }
        return map
    }

    /// `metadata.resourceVersion`.
    var resourceVersion: String? { self[path: "metadata", "resourceVersion"]?.string }

    /// The pre-backup hook's shell command of the first hook, where the postgres blueprint puts dbName.
    var dumpCommand: String? { self[path: "spec", "hooks", "preBackup"]?.sequence?.first?[path: "exec", "command"]?.sequence?.last?.string }

    /// The status condition of `type`, if any.
    func condition(_ type: String) -> Node? {
        self[path: "status", "conditions"]?.sequence?.first { $0["type"]?.string == type }
    }

    /// `status.<field>` as an integer.
    func statusInt(_ field: String) -> Int? { self[path: "status", field]?.int }

    /// The first session's schedule.
    var schedule: String? { self[path: "spec", "sessions"]?.sequence?.first?["schedule"]?.string }
}

/// The annotations that opt a Deployment in to the postgres blueprint.
func postgres(dbName: String?) -> [String: String] {
    var annotations = [BlueprintAnnotation.name: "postgres-nightly"]
    if let dbName { annotations[BlueprintAnnotation.variable("dbName")] = dbName }
    return annotations
}

/// The suites that start a sandbox and a controller, one test at a time: each runs seven informers
/// over HTTPS, and running them all at once starves the timing-sensitive tests of other targets
/// (the leader-election takeover bound) on a small machine.
@Suite(.serialized) enum AutoBackupSandboxTests {}

/// A controller logger that shows warnings and errors only.
func quietControllerLogger() -> Logger {
    var logger = Logger(label: "cairn.autobackup.test")
    logger.logLevel = .warning
    return logger
}

/// A sandbox server logger that shows warnings and errors only (no "server started" line).
func quietServerLogger() -> Logger {
    var logger = Logger(label: "cairn.sandbox.http")
    logger.logLevel = .warning
    return logger
}
