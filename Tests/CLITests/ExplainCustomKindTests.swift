import AutoBackup
import CairnTesting
import Foundation
import Kube
import Testing
import YAML

/// `cairn explain` on a kind a blueprint lists in `spec.subjects` beyond the built-in ones, such as
/// a database custom resource: named as kubectl names it, offline and live.
@Suite struct ExplainCustomKindTests {
    static let crd = TestCluster.postgresClusterCRD

    /// The CLI tests' blueprint in `namespace`, listing PostgresCluster as its subject.
    static func blueprint(namespace: String) -> String {
        RenderCLITests.blueprint
            .replacingOccurrences(of: "  namespace: cairn-system\nspec:", with: "  namespace: \(namespace)\nspec:")
            .replacingOccurrences(of: "  - apiGroup: apps\n    kind: Deployment", with: "  - apiGroup: db.example.com\n    kind: PostgresCluster")
    }

    static func cluster(namespace: String) -> String {
        """
        apiVersion: db.example.com/v1
        kind: PostgresCluster
        metadata:
          name: main
          namespace: \(namespace)
          annotations:
            blueprint.cairn.dev/name: nightly
            variables.cairn.dev/dbName: orders
        spec: {instances: 2}

        """
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test("Given a custom resource among the manifests, when explained by any of its names, then its configuration is rendered",
          arguments: ["postgrescluster", "PostgresClusters", "pgc", "postgresclusters.db.example.com", "PostgresCluster"])
    func givenACustomResourceInTheManifests_whenExplainedByName_thenItRenders(kind: String) async throws {
        let scratch = try Scratch()
        let file = try scratch.write("db.yaml", Self.crd + "---\n" + Self.blueprint(namespace: "db") + "---\n" + Self.cluster(namespace: "db"))

        let result = try await ExplainCLITests.explain(["\(kind)/main", "-n", "db", "--manifests", file])

        let lines = Self.lines(result.stdout)
        #expect(lines.first?.hasPrefix("PostgresCluster db/main (") == true, "\(result.stdout)\(result.stderr)")
        #expect(lines.contains("  renders BackupConfiguration db/postgrescluster-main from BackupBlueprint db/nightly"), "\(result.stdout)")
        #expect(lines.contains("live BackupConfiguration db/postgrescluster-main: not created yet (in the manifests)"), "\(result.stdout)")
    }

    @Test func givenAKindNotAmongTheManifests_whenExplainedOffline_thenExit1NamingIt() async throws {
        let result = try await ExplainCLITests.explain(["foo/db", "-n", "shop", "--manifests", "examples/shop"])

        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("cairn explain: foo shop/db not found in the manifests ("), "\(result.stderr)")
    }

    @Test func givenACustomResourceInTheCluster_whenExplainedByItsQualifiedPlural_thenItRendersAndIsNotCreatedYet() async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            try await cluster.installPostgresClusterCRD()
            let clusters = TestCluster.postgresClusters
            _ = try await cluster.client.create(CairnResource.blueprints, namespace: cluster.namespace, try YAML.parse(Self.blueprint(namespace: cluster.namespace)))
            _ = try await cluster.client.create(clusters, namespace: cluster.namespace, try YAML.parse(Self.cluster(namespace: cluster.namespace)))

            for kind in ["postgresclusters.db.example.com", "pgc"] {
                let result = try await Processes.run(
                    CairnProcess.binary.path, ["explain", "\(kind)/main", "-n", cluster.namespace, "--kubeconfig", cluster.kubeconfig.path])

                let lines = Self.lines(result.stdout)
                #expect(lines.first == "PostgresCluster \(cluster.namespace)/main", "\(result.stdout)\(result.stderr)")
                #expect(lines.contains { $0.hasPrefix("  dbName ") && $0.contains("annotation variables.cairn.dev/dbName") }, "\(result.stdout)")
                #expect(lines.last == "live BackupConfiguration \(cluster.namespace)/postgrescluster-main: not created yet (in the cluster)")
            }
        }
    }

    @Test func givenAKindTheClusterDoesNotServe_whenExplainedLive_thenExit1NamingTheKindAndTheFix() async throws {
        try await TestCluster.with { cluster in
            let result = try await Processes.run(
                CairnProcess.binary.path, ["explain", "frobnicator/x", "-n", cluster.namespace, "--kubeconfig", cluster.kubeconfig.path])

            #expect(result.status == 1)
            #expect(result.stderr == "cairn explain: cannot explain frobnicator/x: the server has no resource type \"frobnicator\" (as a plural, singular, short name or kind); "
                + "check the spelling against kubectl api-resources, or install the CRD that defines it\n", "\(result.stderr)")
        }
    }
}
