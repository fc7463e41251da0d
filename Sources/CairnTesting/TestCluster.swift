import CairnAPI
import Foundation
import Kube
import Logging
import Sandbox
import YAML

/// A cluster for one test: the sandbox API server over HTTPS on loopback, or, when
/// `CAIRN_TEST_KUBECONFIG` names a kubeconfig, the real cluster it points at. Either way the test
/// gets a `KubeClient`, a kubeconfig file (for kubectl) and a namespace of its own, removed after.
///
/// Tests that must look inside the server (`store`) only run against the sandbox; check
/// `isSandbox` or use `sandboxOnly`.
public struct TestCluster: Sendable {
    /// The environment variable that points the tests at a real cluster.
    public static let kubeconfigVariable = "CAIRN_TEST_KUBECONFIG"

    /// A client for the cluster.
    public let client: KubeClient
    /// A kubeconfig file that reaches the cluster (kubectl's `--kubeconfig`).
    public let kubeconfig: URL
    /// The namespace created for this test.
    public let namespace: String
    /// A private directory, removed afterwards.
    public let directory: URL
    /// The sandbox server, when the cluster is the sandbox.
    public let server: SandboxServer?

    /// A cluster from its parts, for a test that runs (and restarts) its own sandbox server; the
    /// namespace is not created here.
    public init(client: KubeClient, kubeconfig: URL, namespace: String, directory: URL, server: SandboxServer?) {
        (self.client, self.kubeconfig, self.namespace, self.directory, self.server) = (client, kubeconfig, namespace, directory, server)
    }

    /// Whether this is the in-process sandbox (as against a real cluster).
    public var isSandbox: Bool { server != nil }
    /// The sandbox's store, for tests that assert on the server's state directly.
    public var store: ObjectStore? { server?.store }

    /// Runs `body` against a fresh namespace of the test cluster; removes the namespace (and stops
    /// the sandbox) afterwards, whether `body` succeeded or not.
    public static func with<T: Sendable>(
        options: KubeClientOptions = KubeClientOptions(), historyLimit: Int = 1000,
        bookmarkInterval: Duration = .seconds(1),
        _ body: @Sendable (TestCluster) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-test-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { removeQuietly(directory) }
        let namespace = "t-\(UUID().uuidString.prefix(8).lowercased())"

        if let path = ProcessInfo.processInfo.environment[kubeconfigVariable], !path.isEmpty {
            let connection = try KubeConfigLoader(explicitPath: path).connection()
            let cluster = TestCluster(client: KubeClient(connection: connection, options: options),
                                      kubeconfig: URL(fileURLWithPath: path), namespace: namespace, directory: directory, server: nil)
            return try await cluster.inNamespace(body)
        }

        let store = ObjectStore(configuration: ObjectStore.Configuration(historyLimit: historyLimit))
        var logger = Logger(label: "cairn.sandbox.http")
        logger.logLevel = .warning  // no "server started" line per test
        let server = try SandboxServer(store: store, bookmarkInterval: bookmarkInterval, logger: logger)
        return try await server.withRunning { _ in
            let kubeconfig = directory.appendingPathComponent("kubeconfig")
            try server.writeKubeconfig(to: kubeconfig)
            let connection = try KubeConfigLoader(explicitPath: kubeconfig.path).connection()
            let cluster = TestCluster(client: KubeClient(connection: connection, options: options),
                                      kubeconfig: kubeconfig, namespace: namespace, directory: directory, server: server)
            return try await cluster.inNamespace(body)
        }
    }

    /// Fails with a clear message unless the cluster is the sandbox; for tests of sandbox-only
    /// behaviour (fault injection, the store's internals).
    public func sandboxOnly() throws -> SandboxServer {
        guard let server else {
            throw TestClusterError(description: "this test needs the sandbox (it looks inside the server); unset \(Self.kubeconfigVariable) to run it")
        }
        return server
    }

    /// Creates the repository's CRDs from `crds/` (keeping ones already there) and waits until
    /// discovery lists their resources: a real API server serves a new CRD a moment after
    /// accepting it.
    public func installCRDs() async throws {
        let directory = Self.repository.appendingPathComponent("crds")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("cairn.dev_") && $0.hasSuffix(".yaml") }.sorted()
        var expected: [String: Set<String>] = [:]
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let crd = try YAML.parse(text, file: file)
            let group = crd[path: "spec", "group"]?.string ?? ""
            for version in crd[path: "spec", "versions"]?.sequence ?? [] where version["served"]?.bool == true {
                expected["\(group)/\(version["name"]?.string ?? "")", default: []].insert(crd[path: "spec", "names", "plural"]?.string ?? "")
            }
            do {
                _ = try await client.create(Self.customResourceDefinitions, crd)
            } catch let error as KubeError where error.kind == .alreadyExists {
                continue
            }
        }
        for (groupVersion, plurals) in expected {
            try await eventually("discovery to list \(plurals.sorted()) in \(groupVersion)") {
                do {
                    let served = Set(try await client.serverResources(forGroupVersion: groupVersion).map(\.name))
                    return plurals.isSubset(of: served)
                } catch let error as KubeError where error.kind == .notFound {
                    return false
                }
            }
        }
    }

    /// Polls `condition` every `interval` until it holds; throws naming `what` after `timeout`.
    /// Against the sandbox, whose garbage collector and CRDs act within the request, the first
    /// poll usually holds; a real cluster's controllers take a moment.
    public func eventually(_ what: String, timeout: Duration = .seconds(60), interval: Duration = .milliseconds(100),
                           _ condition: @Sendable () async throws -> Bool) async throws {
        try await CairnTesting.eventually(what, timeout, interval: interval, condition)
    }

    /// The repository root (for `crds/`, `blueprints/`, `examples/`).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `apiextensions.k8s.io/v1 customresourcedefinitions`.
    public static let customResourceDefinitions = Resource(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false)

    /// The CRD of a database operator's `PostgresCluster` (`db.example.com/v1`, short name `pgc`):
    /// a custom kind for blueprints to list in `spec.subjects`.
    public static let postgresClusterCRD = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: postgresclusters.db.example.com}
        spec:
          group: db.example.com
          scope: Namespaced
          names: {plural: postgresclusters, singular: postgrescluster, kind: PostgresCluster, listKind: PostgresClusterList, shortNames: [pgc]}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}

        """

    /// `db.example.com/v1 postgresclusters`.
    public static let postgresClusters = Resource(group: "db.example.com", version: "v1", plural: "postgresclusters", namespaced: true)

    /// Creates ``postgresClusterCRD`` and waits until discovery serves it.
    public func installPostgresClusterCRD() async throws {
        _ = try await client.create(Self.customResourceDefinitions, try YAML.parse(Self.postgresClusterCRD))
        try await eventually("discovery to serve postgresclusters", timeout: .seconds(20)) {
            try await client.serverResources(forGroupVersion: "db.example.com/v1").contains { $0.name == "postgresclusters" }
        }
    }
    /// `v1 namespaces`.
    public static let namespaces = Resource(group: "", version: "v1", plural: "namespaces", namespaced: false)

    private func inNamespace<T: Sendable>(_ body: @Sendable (TestCluster) async throws -> T) async throws -> T {
        _ = try await client.create(Self.namespaces, .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": .string(namespace)])]))
        let result: Result<T, any Error>
        do {
            result = .success(try await body(self))
        } catch {
            result = .failure(error)
        }
        do {
            _ = try await client.delete(Self.namespaces, name: namespace)
        } catch {
            if case .failure = result {} else { throw error }  // the body's own failure says more
        }
        return try result.get()
    }

    private static func removeQuietly(_ directory: URL) {
        do {
            try FileManager.default.removeItem(at: directory)
        } catch {
            print("warning: could not remove \(directory.path): \(error)")
        }
    }
}

/// The test asked for something this cluster cannot give.
public struct TestClusterError: Error, CustomStringConvertible {
    /// What and why.
    public let description: String

    /// Creates an error.
    public init(description: String) {
        self.description = description
    }
}
