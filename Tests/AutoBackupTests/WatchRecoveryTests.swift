import AutoBackup
import Blueprint
import CairnAPI
import CairnTesting
import Foundation
import Kube
import Logging
import Sandbox
import Synchronization
import Testing
import YAML

extension AutoBackupSandboxTests {
    /// The controller's watches fail under it: cut mid-stream, refused, expired (410 Gone), or the
    /// API server restarted. Whatever changed meanwhile converges, and nothing is created twice.
    @Suite struct WatchRecoveryTests {
        @Test func givenWatchesDownWhileTargetsAndTheBlueprintChange_WhenTheyResumeIntoCompactedHistory_ThenTheControllerRelistsAndConverges() async throws {
            try await Harness.with { harness in
                let server = try harness.cluster.sandboxOnly()
                let added = try await AddedCounter.start(harness.cluster)
                defer { added.stop() }
                let blueprint = try await harness.createBlueprintAndTargets()
                let before = harness.controller.informerStatistics

                server.faults.refuseWatches()
                server.faults.cutWatches()
                try await eventually("every watch to be down", .seconds(20)) { server.faults.openWatches == 0 }
                try await harness.changeEverything(blueprint: blueprint)
                let store = try #require(harness.cluster.store)
                await store.compactHistory()
                server.faults.acceptWatches()

                try await harness.waitForEverythingChanged()
                let after = harness.controller.informerStatistics
                for resource in ["deployments.apps/v1", "backupblueprints.cairn.dev/v1alpha1", "backupconfigurations.cairn.dev/v1alpha1"] {
                    #expect((after[resource]?.relists ?? 0) > (before[resource]?.relists ?? 0), "\(resource) listed again after 410 Gone")
                }
                try await added.expectEachOnce(["keep", "rename", "leave", "late"])
                #expect(harness.controller.statistics.creates == 4)
            }
        }

        @Test func givenARunningController_WhenItsWatchesAreCutWhileTargetsChange_ThenItResumesAndConverges() async throws {
            try await Harness.with { harness in
                let server = try harness.cluster.sandboxOnly()
                let added = try await AddedCounter.start(harness.cluster)
                defer { added.stop() }
                let blueprint = try await harness.createBlueprintAndTargets()
                let before = harness.controller.informerStatistics["deployments.apps/v1"]

                server.faults.cutWatches()
                try await harness.changeEverything(blueprint: blueprint, between: { server.faults.cutWatches() })

                try await harness.waitForEverythingChanged()
                let after = harness.controller.informerStatistics["deployments.apps/v1"]
                #expect((after?.watches ?? 0) > (before?.watches ?? 0), "the deployments watch was opened again")
                #expect(after?.relists == before?.relists, "resumed from its resourceVersion: the history was still there")
                try await added.expectEachOnce(["keep", "rename", "leave", "late"])
                #expect(harness.controller.statistics.creates == 4)
            }
        }

        @Test func givenARunningController_WhenTheAPIServerRestartsOnTheSamePortAfterChangesItMissed_ThenItConverges() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-restart-\(UUID().uuidString.prefix(8).lowercased())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }  // best-effort cleanup of a temporary directory
            let first = try SandboxServer(store: ObjectStore(), bookmarkInterval: .seconds(1), logger: quietServerLogger())
            let kubeconfig = directory.appendingPathComponent("kubeconfig")
            let (cluster, port) = try await first.withRunning { _ in
                try first.writeKubeconfig(to: kubeconfig)
                let client = KubeClient(connection: try KubeConfigLoader(explicitPath: kubeconfig.path).connection())
                let cluster = TestCluster(client: client, kubeconfig: kubeconfig, namespace: "restart", directory: directory, server: first)
                _ = try await client.create(TestCluster.namespaces, .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": "restart"])]))
                try await cluster.installCRDs()
                return (cluster, try #require(first.port))
            }
            let controller = AutoBackupController(client: cluster.client, options: .init(namespace: cluster.namespace), logger: quietControllerLogger())
            let harness = Harness(cluster: cluster, controller: controller)
            let added = try await AddedCounter.start(cluster)
            defer { added.stop() }

            // The controller outlives both servers: while none listens, its informers and workers retry.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await controller.run() }
                defer { group.cancelAll() }
                let blueprint = try await SandboxServer(restarting: first, port: port).withRunning { _ in
                    try await withDeadline("the controller's informers to sync", .seconds(20)) { try await controller.waitForSync() }
                    let blueprint = try await harness.createBlueprintAndTargets()
                    return blueprint
                }

                try await harness.changeEverything(blueprint: blueprint, through: .store(first.store, namespace: cluster.namespace))

                try await SandboxServer(restarting: first, port: port).withRunning { _ in
                    try await harness.waitForEverythingChanged()
                }
            }
            try await added.expectEachOnce(["keep", "rename", "leave", "late"])
            #expect(controller.statistics.creates == 4)
        }
    }
}

// MARK: - The changes made while the controller cannot watch

extension Harness {
    /// Creates the blueprint and the three workloads ``changeEverything(blueprint:through:between:)``
    /// changes, and waits for their configurations; returns the blueprint.
    func createBlueprintAndTargets() async throws -> Node {
        let blueprint = try await createBlueprint()
        for name in ["keep", "rename", "leave"] {
            try await createDeployment(name, annotations: postgres(dbName: "orders"))
            try await waitForConfiguration(name, "the configuration to appear")
        }
        return blueprint
    }

    /// Annotates a new workload, changes a variable, removes an opt-in and edits the blueprint,
    /// through the API server unless told otherwise, running `between` after each change.
    func changeEverything(blueprint: Node, through writer: Writer? = nil, between: @Sendable () -> Void = {}) async throws {
        let writer = writer ?? .api(self)
        try await writer.create(deployments, deployment("late", annotations: postgres(dbName: "orders")))
        between()
        try await writer.edit(deployments, "rename") { withAnnotations($0) { $0[BlueprintAnnotation.variable("dbName")] = "billing" } }
        between()
        try await writer.edit(deployments, "leave") { withAnnotations($0) { $0[BlueprintAnnotation.name] = nil } }
        between()
        try await writer.edit(CairnResource.blueprints, blueprint[path: "metadata", "name"]?.string ?? "") { try edited($0, schedule: "15 3 * * *") }
        between()
    }

    /// Waits until the configurations show every change of ``changeEverything(blueprint:between:)``.
    func waitForEverythingChanged() async throws {
        try await waitForConfiguration("late", "the new workload's configuration") { $0.schedule == "15 3 * * *" }
        try await waitForConfiguration("rename", "the new variable and schedule") {
            $0.dumpCommand?.hasSuffix(" billing") == true && $0.schedule == "15 3 * * *"
        }
        try await waitForConfiguration("keep", "the blueprint's new schedule") { $0.schedule == "15 3 * * *" }
        try await eventually("the opted-out configuration to be deleted", .seconds(20)) { try await configuration(for: "leave") == nil }
    }
}

/// Where a test writes: through the API server, or straight into the sandbox's store while no server runs.
struct Writer: Sendable {
    let create: @Sendable (Resource, Node) async throws -> Void
    /// Reads, changes and writes back the named object.
    let edit: @Sendable (Resource, String, (Node) throws -> Node) async throws -> Void

    /// Through the API server, reading again after a 409 Conflict (the controller writes blueprints too).
    static func api(_ harness: Harness) -> Writer {
        Writer(create: { _ = try await harness.client.create($0, namespace: harness.namespace, $1) },
               edit: { _ = try await harness.edit($0, $1, $2) })
    }

    /// Into the store, as another API server in front of the same storage would; nothing else
    /// writes while no server runs.
    static func store(_ store: ObjectStore, namespace: String) -> Writer {
        let id: @Sendable (Resource) -> ResourceID = { resource in ResourceID(group: resource.group, version: resource.version, plural: resource.plural) }
        return Writer(
            create: { _ = try await store.create($1, in: id($0), namespace: namespace) },
            edit: { resource, name, change in
                let live = try await store.get(id(resource), namespace: namespace, name: name)
                _ = try await store.update(try change(live), in: id(resource), namespace: namespace, name: name)
            })
    }
}

/// Counts the ADDED events per configuration on a watch of the sandbox's store itself, which no
/// injected HTTP fault cuts: a configuration created twice shows as two.
final class AddedCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts counting the test namespace's configurations from now on.
    static func start(_ cluster: TestCluster) async throws -> AddedCounter {
        let store = try #require(cluster.store, "this test needs the sandbox")
        let resource = ResourceID(group: CairnGroup.group, version: CairnGroup.version, plural: "backupconfigurations")
        let events = try await store.watch(resource, namespace: cluster.namespace)
        let counter = AddedCounter()
        counter.task.withLock {
            $0 = Task {
                for await event in events where event.type == .added {
                    let name = event.object[path: "metadata", "name"]?.string ?? ""
                    counter.counts.withLock { $0[name, default: 0] += 1 }
                }
            }
        }
        return counter
    }

    /// Ends the watch.
    func stop() { task.withLock { $0 }?.cancel() }

    /// Expects one ADDED event for the configuration of each Deployment, and no other.
    func expectEachOnce(_ deployments: [String]) async throws {
        let expected = Dictionary(uniqueKeysWithValues: deployments.map { (Harness.configurationName($0), 1) })
        // The store sends the last create's event as it commits; the counting task may lag a moment.
        try await eventually("an ADDED event for each configuration", .seconds(5)) { counts.withLock { $0.count } >= expected.count }
        #expect(counts.withLock { $0 } == expected)
    }
}
