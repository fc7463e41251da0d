import AutoBackup
import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import SandboxNodes
import Testing
import YAML

/// The path an app owner takes, with every reconciler of `cairn controller` running in process:
/// the shipped `restic-workload` blueprint, a Deployment annotated with it, AutoBackup rendering
/// the configuration, the Scheduler (on an injected clock) creating the session when its time
/// comes, the runner's Job run by the simulated kubelet as the real `cairn agent`, and a Snapshot
/// that restores byte for byte.
@Suite struct AnnotationToSnapshotTests {
    @Test func givenADeploymentAnnotatedWithTheShippedBlueprint_whenItsScheduleComes_thenASnapshotExists_thatRestoresByteIdentical() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            let client = harness.client

            // Given: the shipped blueprint and a local storage in cairn-system, the password Secret
            // the blueprint names by default, and a PVC of mixed files mounted by Deployment app.
            let system: Node = .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": "cairn-system"])])
            _ = try await client.create(ExecutorResource.namespaces, system)
            let blueprintFile = TestCluster.repository.appendingPathComponent("blueprints/restic-workload.yaml")
            let blueprint = try YAML.parse(String(contentsOf: blueprintFile, encoding: .utf8))
            _ = try await client.create(CairnResource.blueprints, namespace: "cairn-system", blueprint)
            let repository = harness.cluster.directory.appendingPathComponent("repository")
            try await harness.createStorage("default", namespace: "cairn-system") { storage in
                storage.spec.backend.local = LocalBackend(path: repository.path)
                storage.spec.usagePolicy = UsagePolicy(allowedNamespaces: .init(from: .all))
            }
            try await harness.createSecret("cairn-restic", ["RESTIC_PASSWORD": RunnerHarness.password])
            try await harness.createClaim("data")
            let volume = layout.volume(namespace: harness.namespace, claim: "data")
            try await eventually("PVC data to be provisioned", .seconds(20)) { FileManager.default.fileExists(atPath: volume.path) }
            let files = try EndToEndTests.writeMixedFiles(into: volume)
            try await harness.createDeployment("app", claims: ["data"])

            // The clock starts now: the Scheduler catches up nothing from before a configuration was created.
            let clock = ManualClock(start: Date())
            let run = try #require(try CronSchedule("15 2 * * *").next(after: clock.now))
            let autoBackup = AutoBackupController(client: client, options: .init(namespace: harness.namespace), logger: quietLogger())
            let scheduler = Scheduler(client: client, clock: clock, options: .init(namespace: harness.namespace), logger: quietLogger())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await autoBackup.run() }
                group.addTask { await scheduler.run() }
                defer { group.cancelAll() }
                try await harness.running { _ in
                    // When: the owner annotates the Deployment.
                    let annotations: Node = .mapping(["metadata": .mapping(["annotations": .mapping([
                        "blueprint.cairn.dev/name": "restic-workload", "blueprint.cairn.dev/namespace": "cairn-system",
                        "variables.cairn.dev/schedule": "15 2 * * *",
                    ])])])
                    _ = try await client.patch(deployments, namespace: harness.namespace, name: "app", annotations)

                    // Then: its configuration appears, Ready, with the next run the Scheduler planned.
                    let configuration = try await eventually("the configuration to be Ready and scheduled", .seconds(30)) { () -> BackupConfiguration? in
                        let found = try await client.list(BackupConfiguration.self, ExecutorResource.configurations, namespace: harness.namespace).items.first
                        let ready = found?.status?.conditions?.first { $0.type == "Ready" }?.status == .true
                        return found?.status?.nextBackup == KubeTime.time(run) && ready ? found : nil
                    }
                    #expect(configuration.metadata.name == "deployment-app")

                    // When: the clock passes the run.
                    clock.advance(to: run.addingTimeInterval(1))

                    // Then: the session named after that minute succeeds, and its Snapshot restores every file.
                    let name = SessionNaming.scheduledSession(configuration: "deployment-app", session: "daily", scheduledTime: run)
                    try await eventually("the Scheduler to create BackupSession \(name)", .seconds(20)) {
                        try await client.list(ExecutorResource.sessions, namespace: harness.namespace).items.contains { $0.name == name }
                    }
                    let session = try await harness.waitFor(name, .succeeded, .seconds(120))
                    let id = try #require(session.status?.volumes?.first?.resticSnapshotID)
                    let snapshot = try await client.get(Snapshot.self, ExecutorResource.snapshots, namespace: harness.namespace, name: "\(name)-data")
                    #expect(snapshot.spec.resticSnapshotID == id)
                    #expect(try await client.get(BackupConfiguration.self, ExecutorResource.configurations, namespace: harness.namespace, name: "deployment-app")
                        .status?.lastSuccessfulBackup?.backupSession == name)

                    try await EndToEndTests.expectRestoresByteIdentical(id, repository: ["RESTIC_REPOSITORY": repository.path], harness: harness, files: files, of: volume)
                }
            }
        }
    }
}
