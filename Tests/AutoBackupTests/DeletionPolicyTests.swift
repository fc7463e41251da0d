import AutoBackup
import CairnAPI
import CairnTesting
import Kube
import MetricsTestKit
import Testing
import YAML

extension AutoBackupSandboxTests {
    /// Deleting a blueprint follows its deletionPolicy, through a finalizer the controller holds.
    @Suite struct DeletionPolicyTests {
        @Test func givenABlueprintWithoutAPolicy_WhenItIsDeleted_ThenItsConfigurationsAreDetachedAndTheBlueprintIsGone() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                let generated = try await harness.waitForConfiguration("db", "the configuration to appear")
                try await harness.waitForBlueprint("the finalizer") { $0.finalizers.contains(DeletionPlan.finalizer) }

                try await harness.client.delete(CairnResource.blueprints, namespace: harness.namespace, name: "postgres-nightly")

                try await eventually("the blueprint to be gone", .seconds(20)) { try await harness.blueprint() == nil }
                let kept = try #require(try await harness.configuration(for: "db"))
                #expect(kept[path: "metadata", "annotations", CairnLabel.managed] == "false")
                #expect(kept[path: "metadata", "uid"] == generated[path: "metadata", "uid"] && kept["spec"] == generated["spec"])
            }
        }

        @Test func givenDeletionPolicyDelete_WhenTheBlueprintIsDeleted_ThenItsConfigurationsAreDeletedAndTheWorkloadStays() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint { $0 = $0.setting(["spec", "deletionPolicy"], to: "Delete") }
                for name in ["db", "db2"] {
                    try await harness.createDeployment(name, annotations: postgres(dbName: "orders"))
                    try await harness.waitForConfiguration(name, "the configuration to appear")
                }
                try await harness.waitForBlueprint("the finalizer") { $0.finalizers.contains(DeletionPlan.finalizer) }

                try await harness.client.delete(CairnResource.blueprints, namespace: harness.namespace, name: "postgres-nightly")

                try await eventually("the blueprint to be gone", .seconds(20)) { try await harness.blueprint() == nil }
                for name in ["db", "db2"] {
                    #expect(try await harness.configuration(for: name) == nil)
                    #expect(try await harness.client.get(deployments, namespace: harness.namespace, name: name)[path: "metadata", "name"]?.string == name)
                }
                let event = try await eventually("a BlueprintNotFound Event on db", .seconds(20)) {
                    try await harness.warnings(on: "db").first { $0["reason"] == "BlueprintNotFound" }
                }
                #expect(event["message"]?.string?.contains("postgres-nightly") == true)
            }
        }

        @Test func givenTheControllerWasDown_WhenABlueprintWasDeleted_ThenTheNextControllerCarriesOutThePolicyAndReleasesIt() async throws {
            try await TestCluster.with { cluster in
                try await cluster.installCRDs()
                try await Harness.createStorage(in: cluster)
                try await Harness.runController(cluster) { controller in
                    let harness = Harness(cluster: cluster, controller: controller)
                    try await harness.createBlueprint { $0 = $0.setting(["spec", "deletionPolicy"], to: "Delete") }
                    try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                    try await harness.waitForConfiguration("db", "the configuration to appear")
                    try await harness.waitForBlueprint("the finalizer") { $0.finalizers.contains(DeletionPlan.finalizer) }
                }

                try await cluster.client.delete(CairnResource.blueprints, namespace: cluster.namespace, name: "postgres-nightly")
                let held = try await cluster.client.get(CairnResource.blueprints, namespace: cluster.namespace, name: "postgres-nightly")
                #expect(held[path: "metadata", "deletionTimestamp"] != nil, "the finalizer holds the blueprint while no controller runs")

                try await Harness.runController(cluster) { controller in
                    let harness = Harness(cluster: cluster, controller: controller)
                    try await eventually("the blueprint to be gone", .seconds(20)) { try await harness.blueprint() == nil }
                    #expect(try await harness.configuration(for: "db") == nil)
                }
            }
        }
    }

    /// The metrics, read from a `TestMetrics` of the test's own.
    @Suite struct MetricsTests {
        @Test func givenATargetThatOptsInAndOut_WhenItReconciles_ThenWritesAreCountedByVerbAndManagedConfigurationsFollow() async throws {
            let metrics = TestMetrics()
            try await Harness.with(configure: { $0.metricsFactory = metrics }) { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                try await harness.waitForConfiguration("db", "phase Ready") { $0[path: "status", "phase"] == "Ready" }
                try await harness.waitForBlueprint("one resolved target") { $0.statusInt("resolved") == 1 }

                try await eventually("one managed configuration", .seconds(20)) { metrics.gauge("cairn_autobackup_managed_configurations") == 1 }
                #expect(metrics.writes("create") == 1)
                #expect(metrics.writes("update") == 1, "the blueprint's finalizer")
                let statistics = harness.controller.statistics
                #expect(metrics.writes("status") == Int64(statistics.statusWrites) && statistics.statusWrites >= 2)
                #expect(metrics.counterTotal(label: "cairn_autobackup_reconciles_total", dimensions: [("result", "success")]) >= 1)
                #expect(try metrics.expectTimer("cairn_autobackup_reconcile_duration_seconds").values.isEmpty == false)
                #expect(metrics.gauge("cairn_autobackup_queue_depth") != nil)

                try await harness.editAnnotations(of: "db") { $0[BlueprintAnnotation.name] = nil }

                try await eventually("no managed configuration", .seconds(20)) { metrics.gauge("cairn_autobackup_managed_configurations") == 0 }
                try await eventually("one delete counted", .seconds(20)) { metrics.writes("delete") == 1 }
            }
        }
    }
}

extension TestMetrics {
    /// The last value of a gauge without dimensions.
    func gauge(_ label: String) -> Double? { recorders(label: label, dimensions: []).first?.lastValue }

    /// `cairn_autobackup_api_writes_total{verb}`.
    func writes(_ verb: String) -> Int64 {
        counterTotal(label: "cairn_autobackup_api_writes_total", dimensions: [("verb", verb)])
    }
}

extension Node {
    /// `metadata.finalizers`.
    var finalizers: [String] { self[path: "metadata", "finalizers"]?.sequence?.compactMap(\.string) ?? [] }
}
