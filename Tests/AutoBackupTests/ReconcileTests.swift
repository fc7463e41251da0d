import AutoBackup
import Blueprint
import CairnAPI
import CairnTesting
import Kube
import Testing
import YAML

extension AutoBackupSandboxTests {
    /// The AutoBackup controller against the sandbox over HTTPS: annotated Deployments become
    /// BackupConfigurations and stay in step.
    @Suite struct ReconcileTests {
        @Test func givenABlueprint_WhenADeploymentIsAnnotated_ThenItsConfigurationAppears() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()

                let deployment = try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))

                let live = try await harness.waitForConfiguration("db", "the configuration to appear")
                #expect(live.dumpCommand?.contains("--file=/var/lib/postgresql/data/cairn-orders.sql orders") == true, "\(live.dumpCommand ?? "no command")")
                #expect(live[path: "spec", "target", "kind"] == "Deployment" && live[path: "spec", "target", "name"] == "db")
                #expect(live[path: "metadata", "labels", CairnLabel.managedBy] == "cairn")
                #expect(live[path: "metadata", "labels", CairnLabel.blueprint] == "postgres-nightly")
                #expect(live[path: "metadata", "annotations", CairnLabel.renderedHash]?.string?.isEmpty == false)
                let owner = try #require(live[path: "metadata", "ownerReferences"]?.sequence?.first)
                #expect(owner["uid"] == deployment[path: "metadata", "uid"] && owner["controller"] == true)
                try await harness.waitForStatistics("one create") { $0.creates == 1 }
            }
        }

        @Test func givenAGeneratedConfiguration_WhenAVariableAnnotationChanges_ThenItIsUpdated() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                let first = try await harness.waitForConfiguration("db", "the configuration to appear")

                try await harness.editAnnotations(of: "db") { $0[BlueprintAnnotation.variable("dbName")] = "billing" }

                let updated = try await harness.waitForConfiguration("db", "the dump to name billing") { $0.dumpCommand?.hasSuffix(" billing") == true }
                #expect(updated[path: "metadata", "uid"] == first[path: "metadata", "uid"], "updated in place, not recreated")
                #expect(updated[path: "metadata", "annotations", CairnLabel.renderedHash] != first[path: "metadata", "annotations", CairnLabel.renderedHash])
            }
        }

        @Test func givenAGeneratedConfiguration_WhenTheAnnotationIsRemoved_ThenItIsDeleted() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                try await harness.waitForConfiguration("db", "the configuration to appear")

                try await harness.editAnnotations(of: "db") { $0[BlueprintAnnotation.name] = nil }

                try await eventually("the configuration to be deleted", .seconds(20)) { try await harness.configuration(for: "db") == nil }
                try await harness.waitForStatistics("one delete") { $0.deletes == 1 }
                #expect(try await harness.client.get(deployments, namespace: harness.namespace, name: "db")[path: "metadata", "name"] == "db", "the workload stays")
            }
        }

        @Test func givenTwoDependants_WhenTheBlueprintIsEdited_ThenBothAreUpdated() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                for name in ["db", "db2"] {
                    try await harness.createDeployment(name, annotations: postgres(dbName: "orders"))
                    try await harness.waitForConfiguration(name, "the configuration to appear")
                }

                try await harness.edit(CairnResource.blueprints, "postgres-nightly") { try edited($0, schedule: "15 3 * * *") }

                for name in ["db", "db2"] {
                    try await harness.waitForConfiguration(name, "the new default schedule") { $0.schedule == "15 3 * * *" }
                }
            }
        }

        @Test func givenAGeneratedConfiguration_WhenItIsEditedByHand_ThenTheEditIsReverted() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                try await harness.waitForConfiguration("db", "the configuration to appear")

                let edited = try await harness.edit(CairnResource.configurations, Harness.configurationName("db")) { try withSchedule($0, "0 0 * * *") }

                let reverted = try await harness.waitForConfiguration("db", "the schedule to be put back") {
                    $0.schedule == "30 1 * * *" && $0.resourceVersion != edited.resourceVersion
                }
                #expect(reverted[path: "metadata", "uid"] == edited[path: "metadata", "uid"])
            }
        }

        @Test func givenADetachedConfiguration_WhenItsTargetChanges_ThenItIsLeftAlone() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                // Once Ready, its status is written and the controller has nothing more to write.
                try await harness.waitForConfiguration("db", "phase Ready") { $0[path: "status", "phase"] == "Ready" }
                // Let the create's own watch event reconcile first, so each wait below sees the edit before it.
                try await harness.waitForReconciles(after: 1)
                let reconciles = harness.controller.statistics.reconciles
                let detached = try await harness.edit(CairnResource.configurations, Harness.configurationName("db")) { live in
                    try withSchedule(live.setting(["metadata", "annotations", CairnLabel.managed], to: "false"), "0 0 * * *")
                }
                try await harness.waitForReconciles(after: reconciles)

                let afterEdit = harness.controller.statistics.reconciles
                try await harness.editAnnotations(of: "db") { $0[BlueprintAnnotation.variable("dbName")] = "billing" }
                try await harness.waitForReconciles(after: afterEdit)

                let after = try #require(try await harness.configuration(for: "db"))
                #expect(after.resourceVersion == detached.resourceVersion)
                #expect(after.schedule == "0 0 * * *" && after.dumpCommand?.hasSuffix(" orders") == true)
                #expect(harness.controller.statistics.updates == 0)
            }
        }

        @Test func givenAUserOwnedConfigurationWithTheGeneratedName_WhenTheDeploymentIsAnnotated_ThenItIsLeftAloneAndANameConflictIsReported() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                let own = try await harness.client.create(CairnResource.configurations, namespace: harness.namespace, userConfiguration(harness))

                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))

                let event = try await eventually("a NameConflict Event on the Deployment", .seconds(20)) {
                    try await harness.warnings(on: "db").first { $0["reason"] == "NameConflict" }
                }
                #expect(event["message"]?.string?.contains("Cairn did not create it") == true)
                let after = try #require(try await harness.configuration(for: "db"))
                #expect(after.resourceVersion == own.resourceVersion)
                #expect(after.schedule == "@daily")
                #expect(harness.controller.statistics.creates == 0 && harness.controller.statistics.updates == 0)
            }
        }

        @Test func givenAMissingRequiredVariable_WhenAnnotated_ThenAWarningNamesTheAnnotation_AndFixingItRenders() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()

                try await harness.createDeployment("db", annotations: postgres(dbName: nil))

                let event = try await eventually("a Warning Event on the Deployment", .seconds(20)) {
                    try await harness.warnings(on: "db").first
                }
                #expect(event["reason"] == "MissingVariable")
                let message = try #require(event["message"]?.string)
                #expect(message.contains("set annotation variables.cairn.dev/dbName"), "\(message)")
                #expect(try await harness.configuration(for: "db") == nil)

                try await harness.editAnnotations(of: "db") { $0[BlueprintAnnotation.variable("dbName")] = "orders" }

                try await harness.waitForConfiguration("db", "the configuration to appear once fixed")
            }
        }

        @Test func givenAConfigurationAndBlueprintStatusInStep_WhenEveryTargetIsRequeued_ThenNothingIsWritten() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                let live = try await harness.waitForConfiguration("db", "phase Ready") { $0[path: "status", "phase"] == "Ready" }
                let blueprint = try await harness.waitForBlueprint("one resolved target") { $0.statusInt("resolved") == 1 }
                // Let the create's own watch event reconcile first, so the counters below are settled.
                try await harness.waitForReconciles(after: 1)
                let before = harness.controller.statistics

                for _ in 0..<3 {
                    let reconciles = harness.controller.statistics.reconciles
                    await harness.controller.requeueAll()
                    try await harness.waitForReconciles(after: reconciles)
                }

                let after = harness.controller.statistics
                #expect(after.creates == before.creates && after.updates == 0 && after.deletes == 0 && after.warnings == 0)
                #expect(after.statusWrites == before.statusWrites)
                #expect(try await harness.configuration(for: "db")?.resourceVersion == live.resourceVersion)
                #expect(try await harness.blueprint()?.resourceVersion == blueprint.resourceVersion)
            }
        }
    }
}

/// The blueprint with its `schedule` variable's default changed.
func edited(_ blueprint: Node, schedule: String) throws -> Node {
    var blueprint = blueprint
    var spec = try #require(blueprint["spec"])
    var variables = try #require(spec["variables"]?.sequence)
    let index = try #require(variables.firstIndex { $0["name"] == "schedule" })
    variables[index]["default"] = .string(schedule)
    spec["variables"] = .sequence(variables)
    blueprint["spec"] = spec
    return blueprint
}

/// The configuration with its first session's schedule replaced.
func withSchedule(_ configuration: Node, _ schedule: String) throws -> Node {
    var configuration = configuration
    var spec = try #require(configuration["spec"])
    var sessions = try #require(spec["sessions"]?.sequence)
    sessions[0]["schedule"] = .string(schedule)
    spec["sessions"] = .sequence(sessions)
    configuration["spec"] = spec
    return configuration
}

/// A BackupConfiguration the user wrote by hand, with the name Cairn would generate for Deployment db.
func userConfiguration(_ harness: Harness) -> Node {
    .mapping([
        "apiVersion": "cairn.dev/v1alpha1", "kind": "BackupConfiguration",
        "metadata": .mapping(["name": .string(Harness.configurationName("db")), "namespace": .string(harness.namespace)]),
        "spec": .mapping([
            "target": .mapping(["apiVersion": "apps/v1", "kind": "Deployment", "name": "db"]),
            "storage": .mapping(["name": "default", "namespace": "cairn-system"]),
            "sessions": .sequence([.mapping(["name": "mine", "schedule": "@daily", "method": "restic"])]),
        ]),
    ])
}
