import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Testing
import YAML

extension RunnerHarness {
    /// Runs a RestoreRunner for the test namespace until `body` returns.
    func restoring(_ body: @escaping @Sendable (RestoreRunner) async throws -> Void) async throws {
        var options = RestoreRunner.Options(namespace: namespace)
        options.pendingRecheck = .milliseconds(500)
        let runner = RestoreRunner(client: client, options: options, logger: quietLogger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await runner.run() }
            defer { group.cancelAll() }
            try await withDeadline("the restore runner's informers to sync", .seconds(20)) { try await runner.waitForSync() }
            try await body(runner)
        }
    }

    /// A Snapshot of `pvc` as the session runner records one, taken at `time`.
    @discardableResult
    func createSnapshot(_ name: String, pvc: String = "data", id: String = "4f2a9c1e77aa", time: String = "2026-11-21T01:00:00Z",
                        configuration: String = configurationName) async throws -> Node {
        var spec = SnapshotSpec(configuration: configuration, session: "nightly", backupSession: "\(name)-session", pvc: pvc, method: .restic, time: time)
        spec.resticSnapshotID = id
        let snapshot = Snapshot(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec)
        return try await client.create(ExecutorResource.snapshots, namespace: namespace, try NodeEncoder().encode(snapshot))
    }

    /// Creates a RestoreSession of the harness's configuration.
    @discardableResult
    func createRestore(_ name: String, snapshot: String? = nil, into target: RestoreTarget = RestoreTarget(pvc: "data"),
                       configuration: String? = configurationName, edit: (inout RestoreSession) -> Void = { _ in }) async throws -> Node {
        var restore = RestoreSession(metadata: ObjectMeta(name: name, namespace: namespace),
                                     spec: RestoreSessionSpec(source: RestoreSource(configuration: configuration, snapshot: snapshot), target: target))
        edit(&restore)
        return try await client.create(ExecutorResource.restores, namespace: namespace, try NodeEncoder().encode(restore))
    }

    /// A PVC template of 1Gi, ReadWriteOnce.
    static func template(_ name: String) -> PVCTemplate {
        PVCTemplate(name: name, spec: .mapping(["accessModes": ["ReadWriteOnce"], "resources": .mapping(["requests": .mapping(["storage": "1Gi"])])]))
    }

    func restore(_ name: String) async throws -> RestoreSession {
        try await client.get(RestoreSession.self, ExecutorResource.restores, namespace: namespace, name: name)
    }

    /// Waits until the restore reaches `phase`, and returns it.
    @discardableResult
    func waitForRestore(_ name: String, _ phase: String, _ limit: Duration = .seconds(20)) async throws -> RestoreSession {
        try await eventually("RestoreSession \(name) to be \(phase)", limit) {
            let restore = try await self.restore(name)
            return restore.status?.phase == phase ? restore : nil
        }
    }

    /// Waits for the restore's Job and returns it.
    func restoreJob(for restore: String) async throws -> Node {
        try await eventually("the Job of RestoreSession \(restore)", .seconds(20)) {
            do {
                return try await self.client.get(ExecutorResource.jobs, namespace: self.namespace, name: SessionNaming.restoreJob(restore: restore))
            } catch let error as KubeError where error.kind == .notFound {
                return nil
            }
        }
    }

    /// The Events recorded about a restore, after the runner wrote them.
    func events(about name: String, restorer: RestoreRunner) async throws -> [Node] {
        await restorer.flushEvents()
        return try await client.list(eventResource, namespace: namespace).items.filter { $0[path: "involvedObject", "name"]?.string == name }
    }

    /// A termination message as `cairn agent restore` writes it.
    static func restoreResult(_ phase: AgentPhase = .succeeded, files: Int = 12, bytes: Int = 5_000, reason: String? = nil, message: String? = nil) throws -> String {
        var result = AgentResult(operation: .restore, phase: phase)
        (result.reason, result.message) = (reason, message)
        if phase == .succeeded { result.restored = AgentRestoreFigures(resticSnapshotID: "4f2a9c1e77aa", files: files, bytes: bytes) }
        result.startTime = "2026-11-22T01:00:05Z"
        result.completionTime = "2026-11-22T01:01:29Z"
        return try JSON.emit(try NodeEncoder().encode(result))
    }
}
