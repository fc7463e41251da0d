import CairnAPI
import Foundation
import Kube
import Testing
import YAML

@testable import Executor

/// The runner's pure decisions, one transition at a time, with no server involved.
@Suite struct PlanTests {
    // MARK: Admission

    static func slot(_ name: String, _ created: String, _ place: Admission.Place) -> Admission.Slot {
        Admission.Slot(key: ObjectKey(namespace: "ns", name: name), created: created, place: place)
    }

    @Test func givenRoomForOne_thenOnlyTheOldestWaitingSessionStarts() {
        let waiting = [Self.slot("new", "2026-01-02T00:00:00Z", .anywhere), Self.slot("old", "2026-01-01T00:00:00Z", .anywhere)]
        let limits = Admission.Limits(global: 2, perNode: nil)
        let running = [Self.slot("r", "2025-12-31T00:00:00Z", .anywhere)]
        #expect(Admission.decide(candidate: ObjectKey(namespace: "ns", name: "old"), running: running, waiting: waiting, limits: limits) == .start)
        guard case .wait(let reason, _) = Admission.decide(candidate: ObjectKey(namespace: "ns", name: "new"), running: running, waiting: waiting, limits: limits) else {
            Issue.record("the newer session must wait")
            return
        }
        #expect(reason == "ConcurrencyLimit")
    }

    @Test func givenAFullNode_thenASessionBoundElsewhereOvertakesOneThatWaitsForIt() {
        let limits = Admission.Limits(global: nil, perNode: 1)
        let running = [Self.slot("r", "1", .node("a"))]
        let waiting = [Self.slot("w-a", "2", .node("a")), Self.slot("w-b", "3", .node("b"))]
        #expect(Admission.decide(candidate: ObjectKey(namespace: "ns", name: "w-b"), running: running, waiting: waiting, limits: limits) == .start)
        guard case .wait(let reason, let message) = Admission.decide(candidate: ObjectKey(namespace: "ns", name: "w-a"), running: running, waiting: waiting, limits: limits) else {
            Issue.record("node a is full")
            return
        }
        #expect(reason == "NodeConcurrencyLimit" && message.contains("node a"))
    }

    @Test func givenAnOlderSessionWhoseNodeIsUnknown_thenItCountsAgainstEveryNode() {
        let limits = Admission.Limits(global: nil, perNode: 1)
        let waiting = [Self.slot("unknown", "1", .unknown), Self.slot("w-b", "2", .node("b"))]
        #expect(Admission.decide(candidate: ObjectKey(namespace: "ns", name: "w-b"), running: [], waiting: waiting, limits: limits) != .start)
    }

    // MARK: Results

    @Test func givenTheCurrentFormat_thenTheResultDecodes_andAnythingElseIsRefusedWithTheReason() throws {
        var result = AgentResult(operation: .backup, phase: .succeeded)
        result.volumes = [AgentVolumeResult(pvc: "data", phase: .succeeded)]
        let text = try JSON.emit(try NodeEncoder().encode(result))
        #expect(try JobResult.decode(text).get() == result)
        let restore = try JSON.emit(try NodeEncoder().encode(AgentResult(operation: .restore, phase: .succeeded)))
        #expect(throws: JobResult.ResultProblem.self) { try JobResult.decode(restore).get() }
        #expect(throws: JobResult.ResultProblem.self) { try JobResult.decode("{}").get() }
        #expect(throws: JobResult.ResultProblem.self) { try JobResult.decode("OK").get() }
    }

    @Test func givenAJobWithoutAFinishedCondition_thenItIsStillRunning_evenIfAPodEnded() {
        let job: Node = .mapping(["metadata": .mapping(["name": "j", "uid": "u"]), "status": .mapping(["failed": 1])])
        #expect(JobResult.read(job: job, pods: []) == .running)
    }

    @Test func givenAResultThatOmitsAVolumeTheJobBackedUp_thenTheSessionFailsAsIncomplete() throws {
        let session = BackupSession(metadata: ObjectMeta(name: "s", namespace: "ns"), spec: BackupSessionSpec(configuration: "c", session: "n", trigger: .manual))
        let job: Node = .mapping([
            "metadata": .mapping(["name": "s", "namespace": "ns"]),
            "spec": .mapping(["template": .mapping(["spec": .mapping(["volumes": [
                .mapping(["name": "data-0", "persistentVolumeClaim": .mapping(["claimName": "a"])]),
                .mapping(["name": "data-1", "persistentVolumeClaim": .mapping(["claimName": "b"])]),
            ]])])]),
        ])
        var result = AgentResult(operation: .backup, phase: .succeeded)
        var volume = AgentVolumeResult(pvc: "a", phase: .succeeded)
        volume.resticSnapshotID = "1234"
        result.volumes = [volume]
        let completion = SessionCompletion.plan(session: session, job: job, ending: .init(result: result, attempts: 1, completionTime: "2026-01-01T00:00:00Z"),
                                                configuration: nil, now: Date())
        #expect(completion.status.phase == .failed)
        #expect(completion.status.reason == "IncompleteResult")
        #expect(completion.snapshots.isEmpty)
        #expect(completion.status.volumes?.map(\.phase) == ["Succeeded", "Failed"])
    }

    @Test func givenAnOlderRecord_thenTheConfigurationKeepsTheNewerOne() {
        let newer = BackupRecord(session: "n", backupSession: "b", phase: "Succeeded", time: "2026-01-02T00:00:00Z")
        let older = SessionCompletion(status: BackupSessionStatus(), snapshots: [],
                                      record: BackupRecord(session: "n", backupSession: "a", phase: "Failed", time: "2026-01-01T00:00:00Z"), successful: false)
        var live = BackupConfigurationStatus()
        live.lastBackup = newer
        #expect(older.configurationStatus(live) == nil)
    }

    // MARK: History

    @Test(arguments: [(nil as Int?, 1), (2, 4), (0, 6)])
    func givenSixFinishedSessions_thenAllBeyondTheLimitGo_oldestFirst(limit: Int?, deleted: Int) {
        let entries = (1...6).map { HistoryPlan.Entry(name: "s\($0)", finished: "2026-01-0\($0)T00:00:00Z") }
        let excess = HistoryPlan.excess(entries.shuffled(), limit: limit)
        #expect(excess == Array(entries.prefix(deleted).map(\.name)))
    }

    // MARK: Placement

    @Test func givenAReadWriteManyClaim_thenNothingPinsTheJob() throws {
        let claim: Node = .mapping(["spec": .mapping(["accessModes": ["ReadWriteMany"], "volumeName": "pv"])])
        let pod: Node = .mapping([
            "metadata": .mapping(["name": "p"]), "spec": .mapping(["nodeName": "n1", "volumes": [.mapping(["persistentVolumeClaim": .mapping(["claimName": "c"])])]]),
            "status": .mapping(["phase": "Running"]),
        ])
        #expect(try TargetVolumes.placement(claims: ["c"], claimObjects: ["c": claim], volumes: [:], pods: [pod]).get() == nil)
    }

    @Test func givenAStatefulSet_thenEachReplicasClaimFromItsTemplatesIsBackedUp() {
        let set: Node = .mapping([
            "kind": "StatefulSet", "metadata": .mapping(["name": "db"]),
            "spec": .mapping(["replicas": 2, "template": .mapping(["spec": .mapping([:])]),
                              "volumeClaimTemplates": [.mapping(["metadata": .mapping(["name": "data"])])]]),
        ])
        let spec = BackupConfigurationSpec(target: TargetRef(apiVersion: "apps/v1", kind: "StatefulSet", name: "db"), storage: NamespacedRef(name: "s"), sessions: [])
        #expect(TargetVolumes.claimNames(configuration: spec, target: set) == ["data-db-0", "data-db-1"])
    }

    // MARK: Stages

    @Test func givenASessionTheSchedulerCreatedToRecordASkippedRun_thenTheRunnerLeavesItAloneBeforeItsStatusIsWritten() {
        var session = BackupSession(metadata: ObjectMeta(name: "s", namespace: "ns"), spec: BackupSessionSpec(configuration: "c", session: "n", trigger: .scheduled))
        #expect(SessionPlan.stage(session, job: nil) == .starting)
        session.metadata.annotations = [Scheduler.skippedAnnotation: "ConcurrencyForbidden"]
        #expect(SessionPlan.stage(session, job: nil) == .finished)
    }
}
