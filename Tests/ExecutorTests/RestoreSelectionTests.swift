import CairnAPI
import Executor
import Testing
import YAML

/// Which snapshot a restore takes, and every refusal, one case at a time.
@Suite struct RestoreSelectionTests {
    /// Snapshots of configuration `deployment-db` for PVCs `data` and `logs`, and one of `other`.
    static let snapshots: [Snapshot] = [
        snapshot("db-data-1", pvc: "data", time: "2026-11-19T01:30:00Z"),
        snapshot("db-data-2", pvc: "data", time: "2026-11-20T01:30:00Z"),
        snapshot("db-data-3", pvc: "data", time: "2026-11-21T01:30:00.250000Z"),
        snapshot("db-logs-1", pvc: "logs", time: "2026-11-21T02:00:00Z"),
        snapshot("other-1", pvc: "other", time: "2026-11-22T00:00:00Z", configuration: "deployment-other"),
        snapshot("db-csi-1", pvc: "data", time: "2026-11-23T00:00:00Z", restic: false),
    ]

    static func snapshot(_ name: String, pvc: String, time: String, configuration: String = "deployment-db", restic: Bool = true) -> Snapshot {
        var spec = SnapshotSpec(configuration: configuration, session: "nightly", backupSession: "s", pvc: pvc,
                                method: restic ? .restic : .snapshot, time: time)
        spec.resticSnapshotID = restic ? "id-\(name)" : nil
        return Snapshot(metadata: ObjectMeta(name: name, namespace: "app"), spec: spec)
    }

    static func restore(configuration: String? = "deployment-db", pvc: String? = nil, snapshot: String? = nil, before: String? = nil,
                        targetPVC: String? = nil, template: String? = nil, allowDifferent: Bool? = nil) -> RestoreSession {
        var source = RestoreSource(configuration: configuration, pvc: pvc, snapshot: snapshot)
        source.before = before
        var target = RestoreTarget(pvc: targetPVC, pvcTemplate: template.map { PVCTemplate(name: $0, spec: .mapping([])) })
        target.allowDifferentPVC = allowDifferent
        return RestoreSession(metadata: ObjectMeta(name: "back", namespace: "app"), spec: RestoreSessionSpec(source: source, target: target))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var restore: RestoreSession
        var snapshot: String
        var target: String
        var creates = false
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(name: "latest into its own PVC", restore: restore(targetPVC: "data"), snapshot: "db-data-3", target: "data"),
        Case(name: "latest of the other PVC", restore: restore(targetPVC: "logs"), snapshot: "db-logs-1", target: "logs"),
        Case(name: "latest before a time", restore: restore(before: "2026-11-20T12:00:00Z", targetPVC: "data"), snapshot: "db-data-2", target: "data"),
        Case(name: "a named snapshot", restore: restore(snapshot: "db-data-1", targetPVC: "data"), snapshot: "db-data-1", target: "data"),
        Case(name: "into a new PVC from a template", restore: restore(pvc: "data", template: "data-restored"), snapshot: "db-data-3", target: "data-restored", creates: true),
        Case(name: "named, into a new PVC", restore: restore(snapshot: "db-logs-1", template: "logs-copy"), snapshot: "db-logs-1", target: "logs-copy", creates: true),
        Case(name: "another PVC, explicitly allowed", restore: restore(snapshot: "db-data-2", targetPVC: "logs", allowDifferent: true), snapshot: "db-data-2", target: "logs"),
    ])
    func givenARestore_WhenTheSnapshotIsChosen_ThenItIsTheRightOne(testCase: Case) throws {
        let choice = try RestoreSelection.choose(testCase.restore, among: Self.snapshots).get()
        #expect(choice.snapshot == testCase.snapshot)
        #expect(choice.resticSnapshotID == "id-\(testCase.snapshot)")
        #expect(choice.targetPVC == testCase.target)
        #expect(choice.createsPVC == testCase.creates)
    }

    @Test(arguments: [
        ("a snapshot of another PVC", restore(snapshot: "db-logs-1", targetPVC: "data"), "spec.target.pvc",
         "RestoreSession app/back: spec.target.pvc is data, but Snapshot db-logs-1 holds PVC logs; restore into logs, or set spec.target.allowDifferentPVC: true to overwrite data with it"),
        ("a snapshot of another configuration", restore(snapshot: "other-1", targetPVC: "other"), "spec.source.snapshot",
         "RestoreSession app/back: spec.source.snapshot names Snapshot other-1 of configuration deployment-other, not of spec.source.configuration deployment-db"),
        ("a snapshot that does not exist", restore(snapshot: "nope", targetPVC: "data"), "spec.source.snapshot",
         "RestoreSession app/back: spec.source.snapshot names Snapshot nope, which does not exist; list them with kubectl get snapshots"),
        ("no target", restore(), "spec.target",
         "RestoreSession app/back: spec.target names no PVC; set spec.target.pvc to an existing PVC, or spec.target.pvcTemplate for a new one"),
        ("two targets", restore(targetPVC: "data", template: "x"), "spec.target",
         "RestoreSession app/back: spec.target names both pvc and pvcTemplate; keep one: an existing PVC, or a new one from the template"),
        ("latest without a configuration", restore(configuration: nil, targetPVC: "data"), "spec.source.configuration",
         "RestoreSession app/back: spec.source.configuration is required with snapshot latest; name the BackupConfiguration whose snapshots to choose from"),
        ("a template and several PVCs", restore(template: "new"), "spec.source.pvc",
         "RestoreSession app/back: spec.source.pvc is required: configuration deployment-db has snapshots of 2 PVCs (data, logs); name the one to restore"),
        ("nothing before the time", restore(before: "2026-01-01T00:00:00Z", targetPVC: "data"), "spec.source",
         "RestoreSession app/back: spec.source finds no restic Snapshot of configuration deployment-db, PVC data taken before 2026-01-01T00:00:00Z; list them with kubectl get snapshots -l cairn.dev/configuration=deployment-db"),
        ("a bad time", restore(before: "yesterday", targetPVC: "data"), "spec.source.before",
         "RestoreSession app/back: spec.source.before is \"yesterday\", not an RFC 3339 time; write it like 2026-11-21T01:30:00Z"),
        ("a CSI snapshot", restore(snapshot: "db-csi-1", targetPVC: "data"), "spec.source.snapshot",
         "RestoreSession app/back: spec.source.snapshot names Snapshot db-csi-1, which has no restic snapshot (method snapshot); choose a restic one"),
    ])
    func givenAWrongRestore_WhenTheSnapshotIsChosen_ThenItIsRefusedNamingTheFieldAndTheFix(
        name: String, restore: RestoreSession, field: String, message: String
    ) {
        guard case .failure(let error) = RestoreSelection.choose(restore, among: Self.snapshots) else {
            Issue.record("\(name): not refused")
            return
        }
        #expect(error.field == field, "\(name)")
        #expect(error.description == message, "\(name)")
    }
}
