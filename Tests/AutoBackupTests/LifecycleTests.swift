import AutoBackup
import Blueprint
import CairnAPI
import CairnTesting
import Kube
import Testing
import YAML

extension AutoBackupSandboxTests {
    /// What happens around a target's configuration: deletions, late blueprints, namespace policies.
    @Suite struct LifecycleTests {
        @Test func givenAGeneratedConfiguration_WhenItIsDeletedByHand_ThenItIsRecreated() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                let first = try await harness.waitForConfiguration("db", "the configuration to appear")

                try await harness.client.delete(CairnResource.configurations, namespace: harness.namespace, name: Harness.configurationName("db"))

                try await harness.waitForConfiguration("db", "a new configuration") { $0[path: "metadata", "uid"] != first[path: "metadata", "uid"] }
                try await harness.waitForStatistics("two creates") { $0.creates == 2 }
            }
        }

        @Test func givenADeploymentNamingAMissingBlueprint_WhenTheBlueprintIsCreated_ThenItsConfigurationAppears() async throws {
            try await Harness.with { harness in
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                let event = try await eventually("a BlueprintNotFound Event", .seconds(20)) {
                    try await harness.warnings(on: "db").first { $0["reason"] == "BlueprintNotFound" }
                }
                #expect(event["message"]?.string?.contains("postgres-nightly does not exist") == true, "\(event["message"]?.string ?? "")")

                try await harness.createBlueprint()

                try await harness.waitForConfiguration("db", "the configuration to appear once the blueprint exists")
            }
        }

        @Test func givenASelectorPolicy_WhenTheNamespaceGainsTheLabel_ThenTheConfigurationAppears() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint("csi-snapshot.yaml")
                try await harness.createDeployment("web", annotations: [BlueprintAnnotation.name: "csi-snapshot"])
                let event = try await eventually("a NamespaceNotAllowed Event", .seconds(20)) {
                    try await harness.warnings(on: "web").first { $0["reason"] == "NamespaceNotAllowed" }
                }
                #expect(event["message"]?.string?.contains("does not match the selector") == true, "\(event["message"]?.string ?? "")")

                var namespace = try await harness.client.get(CairnResource.namespaces, name: harness.namespace)
                var metadata = try #require(namespace["metadata"])
                metadata["labels"] = mapping(["cairn.dev/snapshots": "allowed"])
                namespace["metadata"] = metadata
                _ = try await harness.client.update(CairnResource.namespaces, namespace)

                let live = try await harness.waitForConfiguration("web", "the configuration to appear once the namespace is allowed")
                #expect(live[path: "spec", "sessions"]?.sequence?.first?["method"] == "snapshot")
            }
        }

        @Test func givenAGeneratedConfiguration_WhenTheDeploymentIsDeleted_ThenGarbageCollectionRemovesIt() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                try await harness.waitForConfiguration("db", "the configuration to appear")

                try await harness.client.delete(deployments, namespace: harness.namespace, name: "db")

                try await eventually("the configuration to be collected", .seconds(20)) { try await harness.configuration(for: "db") == nil }
                #expect(harness.controller.statistics.deletes == 0, "the controller wrote nothing: the owner reference did it")
            }
        }
    }
}
