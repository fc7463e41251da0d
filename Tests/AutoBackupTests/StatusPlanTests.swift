import AutoBackup
import Blueprint
import CairnAPI
import Testing
import YAML

/// The status, report and deletion decisions, one transition at a time, with no server involved.
@Suite struct StatusPlanTests {
    static let blueprint = NamespacedRef(name: "postgres-nightly", namespace: "app")
    static let storage = NamespacedRef(name: "default", namespace: "app")

    static func observation(failure: TargetReport.Failure? = nil, storageExists: Bool = true, generation: Int = 1) -> ConfigurationStatusPlan.Observation {
        ConfigurationStatusPlan.Observation(
            generation: generation, renderedFrom: failure == nil ? blueprint : nil, renderFailure: failure,
            storage: storage, storageExists: storageExists)
    }

    static func key(_ name: String) -> TargetKey { TargetKey(kind: "Deployment", namespace: "app", name: name) }

    // MARK: Conditions

    @Test func givenACondition_WhenSetWithTheSameStatus_ThenItsTransitionTimeStays_AndWithAnotherStatusItMoves() {
        let old = Condition(type: "Ready", status: .true, reason: "A", message: "a", lastTransitionTime: "t1")
        let same = Conditions.setting(Condition(type: "Ready", status: .true, reason: "B", message: "b", lastTransitionTime: "t2"), in: [old])
        #expect(same.count == 1 && same[0].lastTransitionTime == "t1" && same[0].reason == "B")
        let flipped = Conditions.setting(Condition(type: "Ready", status: .false, reason: "C", message: "c", lastTransitionTime: "t3"), in: same)
        #expect(flipped[0].lastTransitionTime == "t3" && flipped[0].status == .false)
    }

    // MARK: Configuration status

    @Test func givenNoStatus_WhenRenderedWithItsStorage_ThenRenderedAndReadyAreTrueAndThePhaseIsReady() throws {
        let status = try #require(ConfigurationStatusPlan.desired(live: nil, observed: Self.observation(), now: "t1"))
        #expect(status.phase == "Ready" && status.managedBy == Self.blueprint)
        #expect(status.conditions?.map(\.type) == ["Rendered", "Ready"])
        #expect(status.conditions?.allSatisfy { $0.status == .true && $0.observedGeneration == 1 } == true)
    }

    @Test func givenTheStatusInStep_WhenObservedAgainLater_ThenNothingIsWritten() throws {
        let status = ConfigurationStatusPlan.desired(live: nil, observed: Self.observation(), now: "t1")
        #expect(ConfigurationStatusPlan.desired(live: status, observed: Self.observation(), now: "t2") == nil)
    }

    @Test func givenARenderedConfiguration_WhenTheNextRenderFails_ThenRenderedIsFalseWithTheFix_AndManagedByStays() throws {
        let good = ConfigurationStatusPlan.desired(live: nil, observed: Self.observation(), now: "t1")
        let failure = TargetReport.Failure(reason: "MissingVariable", message: "fix: set annotation variables.cairn.dev/dbName")
        let status = try #require(ConfigurationStatusPlan.desired(live: good, observed: Self.observation(failure: failure), now: "t2"))
        let rendered = try #require(status.conditions?.first { $0.type == "Rendered" })
        #expect(rendered.status == .false && rendered.reason == "MissingVariable" && rendered.lastTransitionTime == "t2")
        #expect(rendered.message.contains("variables.cairn.dev/dbName"))
        #expect(status.managedBy == Self.blueprint && status.phase == "Ready")
        #expect(status.conditions?.first { $0.type == "Ready" }?.lastTransitionTime == "t1")
    }

    @Test func givenAMissingStorage_WhenObserved_ThenReadyIsFalseNamingIt_AndTheExecutorsFieldsStay() throws {
        var live = BackupConfigurationStatus()
        live.lastBackup = BackupRecord(session: "nightly", backupSession: "bs-1", phase: "Succeeded", time: "t0")
        live.conditions = [Condition(type: "RPOMet", status: .true, reason: "Recent", message: "ok", lastTransitionTime: "t0")]
        let status = try #require(ConfigurationStatusPlan.desired(live: live, observed: Self.observation(storageExists: false), now: "t1"))
        let ready = try #require(status.conditions?.first { $0.type == "Ready" })
        #expect(ready.status == .false && ready.reason == "StorageNotFound" && ready.message.contains("create BackupStorage app/default"))
        #expect(status.phase == "NotReady" && status.lastBackup == live.lastBackup)
        #expect(status.conditions?.map(\.type) == ["RPOMet", "Rendered", "Ready"])
    }

    @Test func givenANewGeneration_WhenObserved_ThenTheConditionsFollowItWithoutATransition() throws {
        let first = ConfigurationStatusPlan.desired(live: nil, observed: Self.observation(generation: 1), now: "t1")
        let second = try #require(ConfigurationStatusPlan.desired(live: first, observed: Self.observation(generation: 2), now: "t2"))
        #expect(second.conditions?.allSatisfy { $0.observedGeneration == 2 && $0.lastTransitionTime == "t1" } == true)
    }

    // MARK: Blueprint status

    @Test func givenReports_WhenSummed_ThenCountsAreRightFailuresSortedAndBlueprintNotFoundLeftOut() throws {
        let reports: [TargetKey: TargetReport] = [
            Self.key("b"): TargetReport(blueprint: Self.blueprint, failure: .init(reason: "InvalidValue", message: "m")),
            Self.key("a"): TargetReport(blueprint: Self.blueprint, failure: .init(reason: "MissingVariable", message: "m")),
            Self.key("c"): TargetReport(blueprint: Self.blueprint),
            Self.key("gone"): TargetReport(blueprint: Self.blueprint, failure: .init(reason: "BlueprintNotFound", message: "m")),
        ]
        let status = try #require(BlueprintStatusPlan.desired(live: nil, generation: 4, reports: reports, now: "t1"))
        #expect(status.targets == 3 && status.resolved == 1 && status.failed == 2 && status.omittedFailures == 0)
        #expect(status.failures?.map(\.name) == ["a", "b"] && status.observedGeneration == 4)
        #expect(status.conditions?.first?.type == "NameConflict" && status.conditions?.first?.status == .false)
        #expect(BlueprintStatusPlan.desired(live: status, generation: 4, reports: reports, now: "t2") == nil)
    }

    @Test func givenMoreFailuresThanTheLimit_WhenSummed_ThenTheFirstAreListedAndTheRestCounted() throws {
        var reports: [TargetKey: TargetReport] = [:]
        for index in 0..<7 { reports[Self.key("t\(index)")] = TargetReport(blueprint: Self.blueprint, failure: .init(reason: "InvalidValue", message: "m")) }
        let status = try #require(BlueprintStatusPlan.desired(live: nil, generation: 1, reports: reports, now: "t1", limit: 5))
        #expect(status.failures?.map(\.name) == ["t0", "t1", "t2", "t3", "t4"] && status.omittedFailures == 2 && status.failed == 7)
    }

    @Test func givenANameConflict_WhenSummedAndThenResolved_ThenTheConditionFlipsTrueThenFalse() throws {
        var reports = [Self.key("db"): TargetReport(blueprint: Self.blueprint, failure: .init(reason: "NameConflict", message: "m"))]
        let conflicted = try #require(BlueprintStatusPlan.desired(live: nil, generation: 1, reports: reports, now: "t1"))
        #expect(conflicted.conditions?.first?.status == .true && conflicted.conditions?.first?.message.contains("Deployment app/db") == true)
        reports[Self.key("db")] = TargetReport(blueprint: Self.blueprint)
        let clear = try #require(BlueprintStatusPlan.desired(live: conflicted, generation: 1, reports: reports, now: "t2"))
        #expect(clear.conditions?.first?.status == .false && clear.conditions?.first?.lastTransitionTime == "t2")
    }

    // MARK: Outcome book

    @Test func givenABook_WhenATargetFailsMovesAndIsFixed_ThenChangesNameBothBlueprintsAndTheGaugeReturnsToZero() throws {
        var book = OutcomeBook()
        let other = NamespacedRef(name: "other", namespace: "app")
        let failing = TargetReport(blueprint: Self.blueprint, failure: .init(reason: "InvalidValue", message: "m"))
        let first = book.record(Self.key("db"), failing)
        let change = try #require(first)
        #expect(change.blueprints == [Self.blueprint] && change.reasons == ["InvalidValue"] && book.failing["InvalidValue"] == 1)
        let again = book.record(Self.key("db"), failing)
        #expect(again == nil, "the same report changes nothing")
        let move = book.record(Self.key("db"), TargetReport(blueprint: other))
        let moved = try #require(move)
        #expect(moved.blueprints == [Self.blueprint, other] && book.failing["InvalidValue"] == 0)
        #expect(book.reports(naming: Self.blueprint).isEmpty && book.reports(naming: other).count == 1)
        let removal = book.record(Self.key("db"), nil)
        let gone = try #require(removal)
        #expect(gone.blueprints == [other] && gone.reasons.isEmpty && book.report(Self.key("db")) == nil)
    }

    // MARK: Reports

    @Test func givenARenderedTarget_WhenItsStorageIsMissingOrItsNameTaken_ThenTheReportSaysWhy() throws {
        let (outcome, _) = try PlanTests.live()
        #expect(ReconcilePlan.report(outcome: outcome, action: .nothing, missingStorage: nil) == TargetReport(blueprint: Self.blueprint))
        let missing = try #require(ReconcilePlan.report(outcome: outcome, action: .nothing, missingStorage: NamespacedRef(name: "default", namespace: "cairn-system"))?.failure)
        #expect(missing.reason == "StorageNotFound" && missing.message.contains("create BackupStorage cairn-system/default"))
        let conflict = ReconcilePlan.report(outcome: outcome, action: .warn(reason: "NameConflict", message: "m"), missingStorage: nil)
        #expect(conflict?.failure?.reason == "NameConflict")
        #expect(ReconcilePlan.report(outcome: .notOptedIn, action: .nothing, missingStorage: nil) == nil)
    }

    // MARK: Deletion

    @Test func givenGeneratedConfigurations_WhenTheBlueprintGoes_ThenDeleteDeletesAndOrphanDetaches_AndDetachedOnesAreLeftAlone() throws {
        let (_, live) = try PlanTests.live()
        let detached = live.setting(["metadata", "name"], to: "mine").setting(["metadata", "annotations", CairnLabel.managed], to: "false")
        #expect(DeletionPlan.actions(policy: .delete, configurations: [live, detached]) == [.delete(namespace: "app", name: "deployment-db")])
        let orphaned = DeletionPlan.actions(policy: .orphan, configurations: [live, detached])
        guard orphaned.count == 1, case .detach(let node) = orphaned[0] else {
            Issue.record("expected one detach, got \(orphaned)")
            return
        }
        #expect(ReconcilePlan.isDetached(node) && node["spec"] == live["spec"] && node.resourceVersion == "7")
    }

    @Test func givenABlueprint_WhenTheFinalizerIsAddedAndRemoved_ThenEachHappensOnce_AndThePolicyDefaultsToOrphan() throws {
        let blueprint: Node = .mapping(["metadata": .mapping(["name": "b", "finalizers": .sequence(["other"])]), "spec": .mapping([:])])
        let held = try #require(DeletionPlan.addingFinalizer(blueprint))
        #expect(held.finalizers == ["other", DeletionPlan.finalizer] && DeletionPlan.addingFinalizer(held) == nil)
        let released = try #require(DeletionPlan.removingFinalizer(held))
        #expect(released.finalizers == ["other"] && DeletionPlan.removingFinalizer(released) == nil)
        #expect(DeletionPlan.policy(of: blueprint) == .orphan)
        #expect(DeletionPlan.policy(of: blueprint.setting(["spec", "deletionPolicy"], to: "Delete")) == .delete)
    }
}
