import AutoBackup
import Blueprint
import CairnAPI
import CairnTesting
import Foundation
import Testing
import YAML

/// The reconcile decision, one transition at a time, with no server involved.
@Suite struct PlanTests {
    static let target = RenderTarget(
        apiVersion: "apps/v1", kind: "Deployment", name: "db", namespace: "app", uid: "uid-db",
        annotations: [BlueprintAnnotation.name: "postgres-nightly", BlueprintAnnotation.namespace: "app", BlueprintAnnotation.variable("dbName"): "orders"])

    static func renderer() throws -> Renderer {
        let url = TestCluster.repository.appendingPathComponent("blueprints/postgres-pgdump.yaml")
        var blueprint = try NodeDecoder().decode(BackupBlueprint.self, from: try YAML.parse(try String(contentsOf: url, encoding: .utf8)))
        blueprint.metadata.namespace = "app"
        return Renderer(blueprints: [blueprint])
    }

    /// The rendered configuration as the server would hold it.
    static func live() throws -> (RenderOutcome, Node) {
        let outcome = try renderer().render(target)
        let rendering = try #require(outcome.rendering)
        var node = try NodeEncoder().encode(rendering.configuration)
        var metadata = try #require(node["metadata"])
        metadata["resourceVersion"] = "7"
        node["metadata"] = metadata
        return (outcome, node)
    }

    @Test func givenNoConfiguration_WhenRendered_ThenCreate() throws {
        let outcome = try Self.renderer().render(Self.target)
        guard case .create(let node) = ReconcilePlan.decide(outcome: outcome, live: nil, target: Self.target) else {
            Issue.record("expected a create")
            return
        }
        #expect(node[path: "metadata", "name"] == "deployment-db")
    }

    @Test func givenTheConfigurationInStep_WhenRendered_ThenNothing() throws {
        let (outcome, live) = try Self.live()
        #expect(ReconcilePlan.decide(outcome: outcome, live: live, target: Self.target) == .nothing)
    }

    @Test func givenAHandEditedSpecWithTheSameHash_WhenRendered_ThenUpdateKeepsTheResourceVersion() throws {
        let (outcome, live) = try Self.live()
        let edited = try withSchedule(live, "0 0 * * *")
        guard case .update(let node) = ReconcilePlan.decide(outcome: outcome, live: edited, target: Self.target) else {
            Issue.record("expected an update")
            return
        }
        #expect(node.schedule == "30 1 * * *" && node.resourceVersion == "7")
    }

    @Test func givenADetachedConfiguration_WhenRenderedOrOptedOut_ThenNothing() throws {
        let (outcome, live) = try Self.live()
        var detached = try withSchedule(live, "0 0 * * *")
        var metadata = try #require(detached["metadata"])
        var annotations = try #require(metadata["annotations"])
        annotations[CairnLabel.managed] = "false"
        metadata["annotations"] = annotations
        detached["metadata"] = metadata
        #expect(ReconcilePlan.decide(outcome: outcome, live: detached, target: Self.target) == .nothing)
        #expect(ReconcilePlan.decide(outcome: .notOptedIn, live: detached, target: Self.target) == .nothing)
    }

    @Test func givenAGeneratedConfiguration_WhenOptedOut_ThenDelete() throws {
        let (_, live) = try Self.live()
        #expect(ReconcilePlan.decide(outcome: .notOptedIn, live: live, target: Self.target) == .delete(name: "deployment-db"))
    }

    @Test func givenAConfigurationOwnedByAnotherUID_WhenRenderedOrOptedOut_ThenConflictOrNothing() throws {
        let (outcome, live) = try Self.live()
        var other = Self.target
        other.uid = "uid-of-a-recreated-db"
        #expect(ReconcilePlan.decide(outcome: .notOptedIn, live: live, target: other) == .nothing)
        guard case .warn(let reason, _) = ReconcilePlan.decide(outcome: outcome, live: live, target: other) else {
            Issue.record("expected a warning")
            return
        }
        #expect(reason == ReconcilePlan.nameConflict)
    }

    @Test func givenTwoProblems_WhenRendered_ThenOneWarningListsBothFixes() throws {
        var target = Self.target
        target.annotations[BlueprintAnnotation.variable("dbName")] = nil
        target.annotations[BlueprintAnnotation.variable("keepDaily")] = "seven"
        let outcome = try Self.renderer().render(target)
        guard case .warn(let reason, let message) = ReconcilePlan.decide(outcome: outcome, live: nil, target: target) else {
            Issue.record("expected a warning")
            return
        }
        #expect(reason == ReconcilePlan.renderFailed)
        #expect(message.contains("2 problems"), "\(message)")
        #expect(message.contains("set annotation variables.cairn.dev/dbName"), "\(message)")
        #expect(message.contains("variables.cairn.dev/keepDaily"), "\(message)")
    }
}
