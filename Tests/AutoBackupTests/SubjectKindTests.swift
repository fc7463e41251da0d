import AutoBackup
import Blueprint
import CairnAPI
import CairnTesting
import Kube
import Testing
import YAML

extension AutoBackupSandboxTests {
    /// Kinds a blueprint lists in `spec.subjects` beyond the built-in ones, such as a database
    /// custom resource, are watched while some blueprint lists them.
    @Suite struct SubjectKindTests {
        @Test func givenABlueprintListingACustomKind_WhenACustomResourceIsAnnotated_ThenItsConfigurationAppears_AndRemovingTheAnnotationDeletesIt() async throws {
            try await Harness.with { harness in
                try await harness.installPostgresClusterCRD()
                try await harness.createBlueprint(subjects: [postgresClusterSubject])

                let cluster = try await harness.createCluster("main", annotations: postgres(dbName: "orders"))

                let live = try await harness.waitForClusterConfiguration("main", "the configuration to appear") { _ in true }
                #expect(live[path: "spec", "target"] == .mapping(["apiVersion": "db.example.com/v1", "kind": "PostgresCluster", "name": "main"]))
                #expect(live.dumpCommand?.hasSuffix("--file=/var/lib/postgresql/data/cairn-orders.sql orders") == true, "\(live.dumpCommand ?? "no command")")
                #expect(live[path: "metadata", "labels", CairnLabel.targetKind] == "PostgresCluster")
                let owner = try #require(live[path: "metadata", "ownerReferences"]?.sequence?.first)
                #expect(owner["uid"] == cluster[path: "metadata", "uid"] && owner["kind"] == "PostgresCluster" && owner["apiVersion"] == "db.example.com/v1")
                #expect(harness.controller.watchedKinds.contains { $0.kind == "PostgresCluster" && $0.resource == postgresClusters })

                try await harness.edit(postgresClusters, "main") { withAnnotations($0) { $0[BlueprintAnnotation.name] = nil } }

                try await eventually("the configuration to be deleted", .seconds(20)) { try await harness.clusterConfiguration("main") == nil }
                try await harness.waitForStatistics("one create and one delete") { $0.creates == 1 && $0.deletes == 1 }
            }
        }

        @Test func givenABlueprintListingAKindNobodyServes_ThenAWarningNamesTheKind_AndInstallingTheCRDLaterPicksItUp() async throws {
            try await Harness.with(configure: { $0.subjectRecheckInterval = .milliseconds(200) }) { harness in
                try await harness.createBlueprint(subjects: [postgresClusterSubject])

                let event = try await eventually("a SubjectKindNotServed Event on the blueprint", .seconds(20)) {
                    try await harness.blueprintWarnings().first { $0["reason"] == "SubjectKindNotServed" }
                }
                let message = try #require(event["message"]?.string)
                #expect(message.contains("PostgresCluster.db.example.com") && message.contains("Install the CRD"), "\(message)")
                #expect(!harness.controller.watchedKinds.contains { $0.kind == "PostgresCluster" })

                try await harness.installPostgresClusterCRD()
                try await harness.createCluster("main", annotations: postgres(dbName: "orders"))

                try await harness.waitForClusterConfiguration("main", "the configuration to appear without a restart") { _ in true }
                let warnings = try await harness.blueprintWarnings().filter { $0["reason"] == "SubjectKindNotServed" }
                #expect(warnings.count == 1 && warnings.first?["count"] == 1, "reported once, not on every recheck: \(warnings)")
            }
        }

        @Test func givenAWatchedCustomKind_WhenNoBlueprintListsItAnyMore_ThenItsInformerStops() async throws {
            try await Harness.with { harness in
                let server = try harness.cluster.sandboxOnly()
                try await harness.installPostgresClusterCRD()
                try await harness.createBlueprint(subjects: [postgresClusterSubject, deploymentSubject])
                try await harness.createCluster("main", annotations: postgres(dbName: "orders"))
                try await harness.waitForClusterConfiguration("main", "the configuration to appear") { _ in true }
                // One watch per informer the controller runs, the PostgresCluster one included.
                try await eventually("a watch for each of the controller's informers", .seconds(20)) {
                    server.faults.openWatches == harness.controller.informerStatistics.count
                }
                let watching = server.faults.openWatches

                try await harness.edit(CairnResource.blueprints, "postgres-nightly") { withSubjects($0, [deploymentSubject]) }

                try await eventually("the PostgresCluster informer to stop", .seconds(20)) {
                    !harness.controller.watchedKinds.contains { $0.kind == "PostgresCluster" } && server.faults.openWatches == watching - 1
                }
                try await harness.createCluster("late", annotations: postgres(dbName: "orders"))
                try await harness.createDeployment("web", annotations: postgres(dbName: "orders"))
                try await harness.waitForConfiguration("web", "the Deployment's configuration, made after the PostgresCluster was annotated")
                #expect(try await harness.clusterConfiguration("late") == nil, "a kind no blueprint lists is not watched")
            }
        }
    }
}

let postgresClusters = TestCluster.postgresClusters
let postgresClusterSubject: Node = .mapping(["apiGroup": "db.example.com", "kind": "PostgresCluster"])
let deploymentSubject: Node = .mapping(["apiGroup": "apps", "kind": "Deployment"])

/// The blueprint with `spec.subjects` replaced.
func withSubjects(_ blueprint: Node, _ subjects: [Node]) -> Node {
    var blueprint = blueprint
    var spec = blueprint["spec"] ?? .mapping([])
    spec["subjects"] = .sequence(subjects)
    blueprint["spec"] = spec
    return blueprint
}

extension Harness {
    /// Creates the CRD of a database operator's `PostgresCluster` and waits until discovery serves it.
    func installPostgresClusterCRD() async throws { try await cluster.installPostgresClusterCRD() }

    /// Creates the postgres blueprint listing `subjects`.
    @discardableResult
    func createBlueprint(subjects: [Node]) async throws -> Node {
        try await createBlueprint { $0 = withSubjects($0, subjects) }
    }

    /// Creates a `PostgresCluster` with these annotations.
    @discardableResult
    func createCluster(_ name: String, annotations: [String: String]) async throws -> Node {
        try await client.create(postgresClusters, namespace: namespace, .mapping([
            "apiVersion": "db.example.com/v1", "kind": "PostgresCluster",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace), "annotations": mapping(annotations)]),
            "spec": .mapping(["instances": 1, "postgresVersion": 16]),
        ]))
    }

    /// The configuration generated for a `PostgresCluster`, or nil while there is none.
    func clusterConfiguration(_ name: String) async throws -> Node? {
        do {
            return try await client.get(CairnResource.configurations, namespace: namespace, name: "postgrescluster-\(name)")
        } catch let error as KubeError where error.kind == .notFound {
            return Node?.none
        }
    }

    /// Waits until the configuration for a `PostgresCluster` exists and satisfies `condition`.
    @discardableResult
    func waitForClusterConfiguration(_ name: String, _ what: String, _ condition: @escaping @Sendable (Node) -> Bool) async throws -> Node {
        try await eventually("\(what) (BackupConfiguration postgrescluster-\(name))", .seconds(20)) {
            guard let live = try await clusterConfiguration(name), condition(live) else { return Node?.none }
            return live
        }
    }

    /// The Warning Events recorded on the test namespace's BackupBlueprints.
    func blueprintWarnings() async throws -> [Node] {
        try await client.list(EventRecorder.events, namespace: namespace).items.filter { event in
            event["type"]?.string == "Warning" && event[path: "involvedObject", "kind"]?.string == "BackupBlueprint"
        }
    }
}
