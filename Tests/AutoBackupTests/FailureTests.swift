import AutoBackup
import CairnAPI
import CairnTesting
import Kube
import MetricsTestKit
import Testing
import YAML

/// One way a target fails, how the test brings it about and how it fixes it.
struct FailureCase: Sendable, CustomTestStringConvertible {
    /// The reason the Event, the blueprint status and the metrics carry.
    var reason: String
    /// Text of the fix the Event's message must name.
    var fix: String
    /// Whether the harness creates the BackupStorage first.
    var storage = true
    /// The blueprint whose status lists the failure; nil when there is none to write to.
    var reportedIn: String? = "postgres-nightly"
    /// The blueprint that counts the target once fixed.
    var resolvedIn = "postgres-nightly"
    /// Brings the failure about for Deployment db.
    var cause: @Sendable (Harness) async throws -> Void
    /// Removes its cause.
    var repair: @Sendable (Harness) async throws -> Void

    var testDescription: String { reason }

    static let all: [FailureCase] = [
        FailureCase(
            reason: "MissingVariable", fix: "set annotation variables.cairn.dev/dbName",
            cause: { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: nil))
            },
            repair: { try await $0.editAnnotations(of: "db") { $0[BlueprintAnnotation.variable("dbName")] = "orders" } }),
        FailureCase(
            reason: "InvalidValue", fix: "variables.cairn.dev/dbName",
            cause: { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "not-a-name!"))
            },
            repair: { try await $0.editAnnotations(of: "db") { $0[BlueprintAnnotation.variable("dbName")] = "orders" } }),
        FailureCase(
            reason: "NamespaceNotAllowed", fix: "spec.usagePolicy.allowedNamespaces",
            cause: { harness in
                try await harness.createBlueprint { blueprint in
                    blueprint = blueprint.setting(["spec", "usagePolicy", "allowedNamespaces"], to: .mapping([
                        "from": "Selector", "selector": .mapping(["matchLabels": .mapping(["cairn-test": "allowed"])]),
                    ]))
                }
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
            },
            repair: { try await $0.labelNamespace("cairn-test", "allowed") }),
        FailureCase(
            reason: "BlueprintNotFound", fix: "or create BackupBlueprint", reportedIn: nil, resolvedIn: "renamed",
            cause: { harness in
                try await harness.createBlueprint()
                var annotations = postgres(dbName: "orders")
                annotations[BlueprintAnnotation.name] = "renamed"
                try await harness.createDeployment("db", annotations: annotations)
            },
            repair: { harness in
                try await harness.createBlueprint { $0 = $0.setting(["metadata", "name"], to: "renamed") }
            }),
        FailureCase(
            reason: "StorageNotFound", fix: "create BackupStorage", storage: false,
            cause: { harness in
                try await harness.createBlueprint()
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
            },
            repair: { try await Harness.createStorage(in: $0.cluster) }),
        FailureCase(
            reason: "NameConflict", fix: "rename or delete that configuration",
            cause: { harness in
                try await harness.createBlueprint()
                _ = try await harness.client.create(CairnResource.configurations, namespace: harness.namespace, userConfiguration(harness))
                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))
            },
            repair: { harness in
                try await harness.client.delete(CairnResource.configurations, namespace: harness.namespace, name: Harness.configurationName("db"))
            }),
    ]
}

extension AutoBackupSandboxTests {
    /// Every failure is loud (Event, blueprint status, metrics) and clears by itself once fixed.
    @Suite struct FailureTests {
        @Test(arguments: FailureCase.all)
        func givenAFailingTarget_WhenItsCauseIsFixed_ThenTheEventEntryAndGaugeAppearThenClear(failure: FailureCase) async throws {
            let metrics = TestMetrics()
            try await Harness.with(storage: failure.storage, configure: { $0.metricsFactory = metrics }) { harness in
                try await failure.cause(harness)

                let event = try await eventually("a \(failure.reason) Warning Event on Deployment db", .seconds(20)) {
                    try await harness.warnings(on: "db").first { $0["reason"]?.string == failure.reason }
                }
                let message = try #require(event["message"]?.string)
                #expect(message.contains(failure.fix), "\(message)")
                if let blueprint = failure.reportedIn {
                    let live = try await harness.waitForBlueprint("the failure entry", name: blueprint) { $0.statusInt("failed") == 1 }
                    let entry = try #require(live[path: "status", "failures"]?.sequence?.first)
                    #expect(entry["name"] == "db" && entry["reason"]?.string == failure.reason)
                    #expect(entry["message"]?.string?.contains(failure.fix) == true, "\(entry)")
                }
                try await eventually("failing_targets{reason=\(failure.reason)} at 1", .seconds(20)) { metrics.failingTargets(failure.reason) == 1 }
                #expect(metrics.counterTotal(label: "cairn_autobackup_render_failures_total", dimensions: [("reason", failure.reason)]) >= 1)

                try await failure.repair(harness)

                let configuration = try await harness.waitForConfiguration("db", "a rendered, ready configuration") {
                    $0.condition("Rendered")?["status"] == "True" && $0.condition("Ready")?["status"] == "True"
                }
                #expect(configuration[path: "metadata", "labels", CairnLabel.managedBy] == "cairn")
                try await eventually("failing_targets{reason=\(failure.reason)} back at 0", .seconds(20)) { metrics.failingTargets(failure.reason) == 0 }
                let fixed = try await harness.waitForBlueprint("the entry to clear", name: failure.resolvedIn) { $0.statusInt("resolved") == 1 }
                #expect(fixed.statusInt("failed") == 0 && (fixed[path: "status", "failures"]?.sequence?.isEmpty ?? true))
            }
        }

        @Test func givenAMissingStorage_WhenTheConfigurationIsGenerated_ThenItIsNotReadyAndNamesTheStorage() async throws {
            try await Harness.with(storage: false) { harness in
                try await harness.createBlueprint()

                try await harness.createDeployment("db", annotations: postgres(dbName: "orders"))

                let live = try await harness.waitForConfiguration("db", "phase NotReady") { $0[path: "status", "phase"] == "NotReady" }
                let ready = try #require(live.condition("Ready"))
                #expect(ready["status"] == "False" && ready["reason"] == "StorageNotFound")
                #expect(ready["message"]?.string?.contains("create BackupStorage \(harness.namespace)/\(Harness.storageName)") == true, "\(ready)")
                #expect(live.condition("Rendered")?["status"] == "True", "rendering worked; only the storage is missing")
            }
        }
    }
}

extension TestMetrics {
    /// The last value of `cairn_autobackup_failing_targets{reason}`, nil before it was first set.
    func failingTargets(_ reason: String) -> Double? {
        recorders(label: "cairn_autobackup_failing_targets", dimensions: [("reason", reason)]).first?.lastValue
    }
}

extension Harness {
    /// Sets a label on the test namespace.
    func labelNamespace(_ key: String, _ value: String) async throws {
        let namespaces = Resource(group: "", version: "v1", plural: "namespaces", namespaced: false)
        let live = try await client.get(namespaces, name: namespace)
        _ = try await client.update(namespaces, live.setting(["metadata", "labels", key], to: .string(value)))
    }
}

extension Node {
    /// The node with `value` at `path`, creating mappings on the way.
    func setting(_ path: [String], to value: Node) -> Node {
        guard let first = path.first else { return value }
        var copy = self
        copy[first] = (self[first] ?? .mapping([])).setting(Array(path.dropFirst()), to: value)
        return copy
    }
}
