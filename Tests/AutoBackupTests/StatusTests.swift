import AutoBackup
import CairnAPI
import CairnTesting
import Foundation
import Kube
import Sandbox
import Synchronization
import Testing
import YAML

extension AutoBackupSandboxTests {
    /// What the controller writes into configuration and blueprint status, against the sandbox over HTTPS.
    @Suite struct StatusTests {
        @Test func givenARenderedConfiguration_WhenItsStorageExists_ThenItsStatusSaysRenderedReadyAndManagedBy() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()

                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))

                let live = try await harness.waitForConfiguration("db", "phase Ready") { $0[path: "status", "phase"] == "Ready" }
                let rendered = try #require(live.condition("Rendered"))
                #expect(rendered["status"] == "True" && rendered["reason"] == "Rendered")
                #expect(rendered["message"]?.string?.contains("BackupBlueprint \(harness.namespace)/postgres-nightly") == true)
                #expect(rendered["observedGeneration"] == live[path: "metadata", "generation"])
                let ready = try #require(live.condition("Ready"))
                #expect(ready["status"] == "True" && ready["reason"] == "StorageFound")
                #expect(live[path: "status", "managedBy", "name"] == "postgres-nightly")
                #expect(live[path: "status", "managedBy", "namespace"]?.string == harness.namespace)
                try await harness.waitForStatistics("the status write") { $0.statusWrites >= 1 }
            }
        }

        @Test func givenALaterRenderFailure_WhenTheAnnotationBreaksAndIsFixed_ThenRenderedFollowsAndOnlyItsTransitionTimeMoves() async throws {
            try await Harness.with(configure: { $0.now = Ticker().now }) { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                let good = try await harness.waitForConfiguration("db", "Rendered=True") { $0.condition("Rendered")?["status"] == "True" }

                try await harness.editAnnotations(of: "db") { $0[BlueprintAnnotation.variable("dbName")] = "not-a-name!" }

                let failed = try await harness.waitForConfiguration("db", "Rendered=False") { $0.condition("Rendered")?["status"] == "False" }
                let condition = try #require(failed.condition("Rendered"))
                #expect(condition["reason"] == "InvalidValue")
                #expect(condition["message"]?.string?.contains("variables.cairn.dev/dbName") == true, "\(condition)")
                #expect(failed.dumpCommand?.hasSuffix(" orders") == true, "the last good configuration stays")
                #expect(condition["lastTransitionTime"] != good.condition("Rendered")?["lastTransitionTime"])
                #expect(failed.condition("Ready")?["lastTransitionTime"] == good.condition("Ready")?["lastTransitionTime"], "Ready did not change status")
                #expect(failed[path: "status", "phase"] == "Ready", "the last good configuration still runs")

                try await harness.editAnnotations(of: "db") { $0[BlueprintAnnotation.variable("dbName")] = "billing" }

                let fixed = try await harness.waitForConfiguration("db", "Rendered=True again") {
                    $0.condition("Rendered")?["status"] == "True" && $0.dumpCommand?.hasSuffix(" billing") == true
                }
                #expect(fixed.condition("Rendered")?["lastTransitionTime"] != condition["lastTransitionTime"])
                #expect(fixed.condition("Ready")?["lastTransitionTime"] == good.condition("Ready")?["lastTransitionTime"])
            }
        }

        @Test func givenTargetsAndAUserOwnedName_WhenTheyReconcile_ThenTheBlueprintCountsThemAndReportsTheConflictUntilItIsGone() async throws {
            try await Harness.with { harness in
                try await harness.createBlueprint()
                _ = try await harness.client.create(CairnResource.configurations, namespace: harness.namespace, userConfiguration(harness))
                for name in ["db", "db2", "db3"] { try await harness.createDeployment(name, annotations: postgres(dbName: "orders")) }

                let conflicted = try await harness.waitForBlueprint("three targets, one failed") { $0.statusInt("targets") == 3 && $0.statusInt("failed") == 1 }
                #expect(conflicted.statusInt("resolved") == 2)
                #expect(conflicted.statusInt("observedGeneration") == conflicted[path: "metadata", "generation"]?.int)
                let failure = try #require(conflicted[path: "status", "failures"]?.sequence?.first)
                #expect(failure["name"] == "db" && failure["kind"] == "Deployment" && failure["reason"] == "NameConflict")
                #expect(conflicted.condition("NameConflict")?["status"] == "True")

                try await harness.client.delete(CairnResource.configurations, namespace: harness.namespace, name: Harness.configurationName("db"))

                let clear = try await harness.waitForBlueprint("the conflict to clear") { $0.condition("NameConflict")?["status"] == "False" }
                #expect(clear.statusInt("resolved") == 3 && clear.statusInt("failed") == 0)
                #expect(clear[path: "status", "failures"]?.sequence?.isEmpty ?? true)
                try await harness.waitForConfiguration("db", "Cairn's own configuration once the name is free")
            }
        }

        @Test func givenManyTargetsAtOnce_WhenTheyConverge_ThenTheBlueprintStatusIsWrittenAFewTimesNotOncePerTarget() async throws {
            let delay = Duration.seconds(1)
            try await Harness.with(configure: { $0.blueprintStatusDelay = delay }) { harness in
                try await harness.createBlueprint()
                let names = (0..<20).map { "db\($0)" }
                let started = ContinuousClock.now

                for name in names { try await harness.createDeployment(name, annotations: postgres(dbName: "orders")) }

                try await harness.waitForBlueprint("twenty resolved targets") { $0.statusInt("resolved") == names.count }
                let windows = Int(((ContinuousClock.now - started) / delay).rounded(.up))
                let writes = harness.controller.statistics.blueprintStatusWrites
                // One write when the blueprint appeared, then at most one per window.
                #expect(writes <= 2 + windows && writes < names.count, "\(writes) blueprint status writes over \(windows) windows")
            }
        }

        @Test func givenAConflictOnABlueprintStatusWrite_WhenTheStatusIsStale_ThenTheControllerRetriesAndConverges() async throws {
            try await Harness.with { harness in
                let server = try harness.cluster.sandboxOnly()
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
                try await harness.waitForConfiguration("db", "phase Ready") { $0[path: "status", "phase"] == "Ready" }
                try await harness.waitForBlueprint("one resolved target") { $0.statusInt("resolved") == 1 }
                let conflicts = harness.controller.statistics.conflicts

                // The controller's next request is its status write (the stale status below comes
                // straight from the store, not over HTTP): the server answers it 409.
                server.faults.failNext(1, status: 409, retryAfter: nil)
                let blueprints = ResourceID(group: CairnGroup.group, version: CairnGroup.version, plural: "backupblueprints")
                var stale = try await server.store.get(blueprints, namespace: harness.namespace, name: "postgres-nightly")
                var status = try #require(stale["status"])
                status["targets"] = 99
                stale["status"] = status
                _ = try await server.store.updateStatus(stale, in: blueprints, namespace: harness.namespace, name: "postgres-nightly")

                // No HTTP from the test until the controller has met the 409.
                try await eventually("the controller to meet the 409", .seconds(20)) { server.faults.pendingFailures == 0 }
                try await harness.waitForStatistics("the conflict") { $0.conflicts > conflicts }
                try await harness.waitForBlueprint("the status put back") { $0.statusInt("targets") == 1 }
            }
        }
    }
}

/// A clock that moves one second per reading, so every condition written gets its own time.
final class Ticker: Sendable {
    private let seconds = Mutex(1_800_000_000.0)

    /// The next second.
    var now: @Sendable () -> Date {
        { [self] in Date(timeIntervalSince1970: seconds.withLock { $0 += 1; return $0 }) }
    }
}
