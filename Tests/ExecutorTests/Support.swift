import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Logging
import Testing
import YAML

let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)
let eventResource = Resource(group: "", version: "v1", plural: "events", namespaced: true)

/// A sandbox with the CRDs installed, the objects a backup needs, and a SessionRunner running
/// against it over HTTPS. Tests play the kubelet's and the Job controller's part by writing Pod
/// and Job statuses through the API: the same contract the runner reads from a real cluster.
struct RunnerHarness: Sendable {
    let cluster: TestCluster
    var client: KubeClient { cluster.client }
    var namespace: String { cluster.namespace }

    static let password = "correct horse battery staple"

    /// Runs `body` with a fresh sandbox (or the real test cluster) holding the CRDs; removes the
    /// cluster-scoped objects and extra namespaces the test made, whether it passed or not.
    static func with(_ body: @escaping @Sendable (RunnerHarness) async throws -> Void) async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            let harness = RunnerHarness(cluster: cluster)
            let result: Result<Void, any Error>
            do {
                result = .success(try await body(harness))
            } catch {
                result = .failure(error)
            }
            try await harness.removeOutsideObjects()
            try result.get()
        }
    }

    /// The label on what a test makes outside its namespace: other namespaces, PersistentVolumes.
    static let ownerLabel = "cairn-test.dev/namespace"

    /// Deletes the namespaces and PersistentVolumes labelled with this test's namespace.
    func removeOutsideObjects() async throws {
        for resource in [ExecutorResource.namespaces, ExecutorResource.volumes] {
            let owned = try await client.list(resource, options: ListOptions(labelSelector: "\(Self.ownerLabel)=\(namespace)")).items
            for object in owned { _ = try await client.delete(resource, name: object.name) }
        }
    }

    /// Runs a SessionRunner for the test namespace until `body` returns.
    func running(configure: @Sendable (inout SessionRunner.Options) -> Void = { _ in },
                 _ body: @escaping @Sendable (SessionRunner) async throws -> Void) async throws {
        var options = SessionRunner.Options(namespace: namespace)
        options.queuedRecheck = .seconds(1)
        configure(&options)
        let runner = SessionRunner(client: client, options: options, logger: quietLogger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await runner.run() }
            defer { group.cancelAll() }
            try await withDeadline("the runner's informers to sync", .seconds(20)) { try await runner.waitForSync() }
            try await body(runner)
        }
    }

    // MARK: Fixtures

    /// Everything a valid backup of Deployment `app` with PVC `data` needs: storage, password, PVC,
    /// Deployment, configuration.
    func createFixtures(configuration edit: (inout BackupConfiguration) -> Void = { _ in }) async throws {
        try await createStorage()
        try await createSecret("restic", ["RESTIC_PASSWORD": Self.password])
        try await createClaim("data")
        try await createDeployment("app", claims: ["data"])
        try await createConfiguration(Self.configurationName, edit)
    }

    /// A BackupStorage `store` on a local repository in the test's directory, and the encryption
    /// Secret `restic`; returns the repository's path.
    @discardableResult
    func createLocalRepository() async throws -> String {
        let repository = cluster.directory.appendingPathComponent("repository").path
        try await createStorage { $0.spec.backend.local = LocalBackend(path: repository) }
        try await createSecret("restic", ["RESTIC_PASSWORD": Self.password])
        return repository
    }

    @discardableResult
    func createStorage(_ name: String = "store", namespace: String? = nil, edit: (inout BackupStorage) -> Void = { _ in }) async throws -> Node {
        var backend = Backend()
        backend.local = LocalBackend(path: "/var/backups/cairn")
        var storage = BackupStorage(metadata: ObjectMeta(name: name, namespace: namespace ?? self.namespace), spec: BackupStorageSpec(backend: backend))
        edit(&storage)
        return try await client.create(ExecutorResource.storages, namespace: namespace ?? self.namespace, try NodeEncoder().encode(storage))
    }

    @discardableResult
    func createSecret(_ name: String, _ values: [String: String], namespace: String? = nil) async throws -> Node {
        let data = values.mapValues { Data($0.utf8).base64EncodedString() }
        let secret: Node = .mapping([
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace ?? self.namespace)]),
            "data": strings(data),
        ])
        return try await client.create(ExecutorResource.secrets, namespace: namespace ?? self.namespace, secret)
    }

    /// A PVC, bound to PersistentVolume `volume` when given.
    @discardableResult
    func createClaim(_ name: String, accessMode: String = "ReadWriteOnce", volume: String? = nil) async throws -> Node {
        var spec: Node = .mapping([
            "accessModes": [.string(accessMode)], "resources": .mapping(["requests": .mapping(["storage": "1Gi"])]),
        ])
        if let volume { spec["volumeName"] = .string(volume) }
        let claim: Node = .mapping([
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]), "spec": spec,
        ])
        return try await client.create(ExecutorResource.claims, namespace: namespace, claim)
    }

    /// A PersistentVolume whose required node affinity names `node`.
    func createVolume(_ name: String, node: String) async throws {
        let term: Node = .mapping(["matchExpressions": [.mapping(["key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]])]])
        let volume: Node = .mapping([
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": .mapping(["name": .string(name), "labels": strings([Self.ownerLabel: namespace])]),
            "spec": .mapping([
                "capacity": .mapping(["storage": "1Gi"]), "accessModes": ["ReadWriteOnce"],
                "local": .mapping(["path": "/mnt/disk"]),
                "nodeAffinity": .mapping(["required": .mapping(["nodeSelectorTerms": [term]])]),
            ]),
        ])
        _ = try await client.create(ExecutorResource.volumes, volume)
    }

    /// A Deployment whose pod template mounts `claims`, running as user 1001 with fsGroup 2000.
    func createDeployment(_ name: String, claims: [String]) async throws {
        let labels: Node = .mapping(["app": .string(name)])
        let volumes: [Node] = claims.map { .mapping(["name": .string($0), "persistentVolumeClaim": .mapping(["claimName": .string($0)])]) }
        let deployment: Node = .mapping([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]),
            "spec": .mapping([
                "replicas": 1, "selector": .mapping(["matchLabels": labels]),
                "template": .mapping([
                    "metadata": .mapping(["labels": labels]),
                    "spec": .mapping([
                        "securityContext": .mapping(["runAsUser": 1001, "runAsGroup": 1002, "fsGroup": 2000, "runAsNonRoot": true]),
                        "containers": [.mapping(["name": "app", "image": "postgres:16"])], "volumes": .sequence(volumes),
                    ]),
                ]),
            ]),
        ])
        _ = try await client.create(deployments, namespace: namespace, deployment)
    }

    /// A Running pod on `node` that mounts `claims`.
    func createRunningPod(_ name: String, node: String, claims: [String]) async throws {
        let volumes: [Node] = claims.map { .mapping(["name": .string($0), "persistentVolumeClaim": .mapping(["claimName": .string($0)])]) }
        let pod: Node = .mapping([
            "apiVersion": "v1", "kind": "Pod", "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]),
            "spec": .mapping(["nodeName": .string(node), "containers": [.mapping(["name": "app", "image": "postgres:16"])], "volumes": .sequence(volumes)]),
        ])
        var created = try await client.create(ExecutorResource.pods, namespace: namespace, pod)
        created["status"] = .mapping(["phase": "Running"])
        _ = try await client.updateStatus(ExecutorResource.pods, namespace: namespace, created)
    }

    static let configurationName = "deployment-app"

    @discardableResult
    func createConfiguration(_ name: String = configurationName, target: String = "app", _ edit: (inout BackupConfiguration) -> Void = { _ in }) async throws -> Node {
        var spec = BackupConfigurationSpec(
            target: TargetRef(apiVersion: "apps/v1", kind: "Deployment", name: target), storage: NamespacedRef(name: "store"),
            sessions: [SessionSpec(name: "nightly", schedule: "@daily")])
        spec.encryptionSecret = LocalRef(name: "restic")
        spec.timeout = "2h"
        var configuration = BackupConfiguration(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec)
        edit(&configuration)
        return try await client.create(ExecutorResource.configurations, namespace: namespace, try NodeEncoder().encode(configuration))
    }

    @discardableResult
    func createSession(_ name: String, configuration: String = configurationName, session: String = "nightly") async throws -> Node {
        let object = BackupSession(metadata: ObjectMeta(name: name, namespace: namespace),
                                   spec: BackupSessionSpec(configuration: configuration, session: session, trigger: .manual))
        return try await client.create(ExecutorResource.sessions, namespace: namespace, try NodeEncoder().encode(object))
    }

    // MARK: Reading

    func session(_ name: String) async throws -> BackupSession {
        try await client.get(BackupSession.self, ExecutorResource.sessions, namespace: namespace, name: name)
    }

    /// Waits until the session reaches `phase`, and returns it.
    @discardableResult
    func waitFor(_ name: String, _ phase: SessionPhase, _ limit: Duration = .seconds(20)) async throws -> BackupSession {
        try await eventually("BackupSession \(name) to be \(phase.rawValue)", limit) {
            let session = try await self.session(name)
            return session.status?.phase == phase ? session : nil
        }
    }

    /// Waits for the session's Job and returns it.
    func job(for session: String) async throws -> Node {
        try await eventually("the Job of BackupSession \(session)", .seconds(20)) {
            do {
                return try await self.client.get(ExecutorResource.jobs, namespace: self.namespace, name: SessionNaming.backupJob(session: session))
            } catch let error as KubeError where error.kind == .notFound {
                return nil
            }
        }
    }

    /// The Events recorded about an object, after the runner wrote what it recorded.
    func events(about name: String, runner: SessionRunner) async throws -> [Node] {
        await runner.flushEvents()
        return try await client.list(eventResource, namespace: namespace).items.filter { $0[path: "involvedObject", "name"]?.string == name }
    }

    // MARK: Playing the kubelet and the Job controller

    /// Creates the Job's Pod as the Job controller would, ends its agent container with `message`
    /// (none when nil) as the kubelet would, then marks the Job Complete or Failed with `reason`.
    func endJob(of session: String, message: String?, exitCode: Int = 0, containerReason: String? = nil,
                jobFailure: (reason: String, message: String)? = nil) async throws {
        try await end(try await job(for: session), message: message, exitCode: exitCode, containerReason: containerReason, jobFailure: jobFailure)
    }

    /// Ends `job` as ``endJob(of:message:exitCode:containerReason:jobFailure:)`` describes.
    func end(_ job: Node, message: String?, exitCode: Int = 0, containerReason: String? = nil,
             jobFailure: (reason: String, message: String)? = nil) async throws {
        var pod = try await client.create(ExecutorResource.pods, namespace: namespace, podFromTemplate(of: job))
        var terminated: Node = .mapping([
            "exitCode": .int(exitCode), "reason": .string(containerReason ?? (exitCode == 0 ? "Completed" : "Error")),
            "startedAt": "2026-11-22T01:00:00Z", "finishedAt": "2026-11-22T01:01:30Z",
        ])
        if let message { terminated["message"] = .string(message) }
        pod["status"] = .mapping([
            "phase": .string(exitCode == 0 ? "Succeeded" : "Failed"),
            "containerStatuses": [.mapping(["name": "agent", "image": "cairn", "ready": false, "restartCount": 0, "state": .mapping(["terminated": terminated])])],
        ])
        _ = try await client.updateStatus(ExecutorResource.pods, namespace: namespace, pod)
        try await writeJobStatus(job, failed: jobFailure)
    }

    /// Marks a Job Complete, or Failed with a reason, as the Job controller does.
    func writeJobStatus(_ job: Node, failed: (reason: String, message: String)?) async throws {
        var live = try await client.get(ExecutorResource.jobs, namespace: namespace, name: job.name)
        let condition: Node = .mapping([
            "type": .string(failed == nil ? "Complete" : "Failed"), "status": "True",
            "reason": .string(failed?.reason ?? "CompletionsReached"), "message": .string(failed?.message ?? "Reached expected number of succeeded pods"),
            "lastTransitionTime": "2026-11-22T01:01:31Z",
        ])
        var status: Node = .mapping([
            "startTime": "2026-11-22T01:00:00Z", "conditions": [condition],
            "succeeded": .int(failed == nil ? 1 : 0), "failed": .int(failed == nil ? 0 : 1),
        ])
        if failed == nil { status["completionTime"] = "2026-11-22T01:01:31Z" }
        live["status"] = status
        _ = try await client.updateStatus(ExecutorResource.jobs, namespace: namespace, live)
    }

    /// A Pod from the Job's template, labelled and owned as the Job controller does it.
    func podFromTemplate(of job: Node) -> Node {
        var labels = job[path: "spec", "template", "metadata", "labels"] ?? .mapping([])
        labels["job-name"] = .string(job.name)
        labels["batch.kubernetes.io/job-name"] = .string(job.name)
        let owner: Node = .mapping([
            "apiVersion": "batch/v1", "kind": "Job", "name": .string(job.name), "uid": .string(job.uid), "controller": true, "blockOwnerDeletion": true,
        ])
        var spec = job[path: "spec", "template", "spec"] ?? .mapping([])
        spec["nodeName"] = "node-a"
        return .mapping([
            "apiVersion": "v1", "kind": "Pod",
            "metadata": .mapping(["generateName": .string("\(job.name)-"), "namespace": .string(namespace), "labels": labels, "ownerReferences": [owner]]),
            "spec": spec,
        ])
    }

    /// A termination message as `cairn agent backup` writes it.
    static func agentResult(_ phase: AgentPhase = .succeeded, volumes: [AgentVolumeResult], reason: String? = nil) throws -> String {
        var result = AgentResult(operation: .backup, phase: phase)
        result.reason = reason
        result.volumes = volumes
        result.startTime = "2026-11-22T01:00:05Z"
        result.completionTime = "2026-11-22T01:01:29Z"
        return try JSON.emit(try NodeEncoder().encode(result))
    }

    static func volume(_ pvc: String, id: String, phase: AgentPhase = .succeeded) -> AgentVolumeResult {
        var volume = AgentVolumeResult(pvc: pvc, phase: phase)
        (volume.resticSnapshotID, volume.size, volume.files, volume.bytesAdded) = (id, 5_000, 12, 4_000)
        return volume
    }
}

extension Node {
    var name: String { self[path: "metadata", "name"]?.string ?? "" }
    var uid: String { self[path: "metadata", "uid"]?.string ?? "" }
}

func strings(_ map: [String: String]) -> Node {
    .mapping(map.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })
}

func quietLogger() -> Logger {
    var logger = Logger(label: "cairn.executor.test")
    logger.logLevel = .critical
    return logger
}
