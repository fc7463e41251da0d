import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import SandboxNodes
import Testing
import YAML

/// The whole restic path of ``EndToEndTests`` against the remote backends: S3 on a moto server,
/// with the storage and its credentials in a shared namespace (so the runner copies them), and
/// sftp on a real sshd, both on 127.0.0.1. Nothing is played by the test.
@Suite struct RemoteBackendTests {
    enum Remote: String, CaseIterable, Sendable { case s3, sftp }

    @Test(.enabled(if: SSHServer.unavailable == nil, "\(SSHServer.unavailable ?? "")"), arguments: Remote.allCases)
    func givenAPVCOfMixedFiles_whenASessionRunsAgainstARemoteRepository_thenTheRealAgentWritesASnapshotThatRestoresByteIdentical(_ remote: Remote) async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            let directory = harness.cluster.directory
            try await Self.withRepository(remote, in: directory) { repository in

                // Given: the storage and its credentials Secret, a password, and PVC data of mixed files mounted by Deployment app.
                let storageNamespace = try await Self.createStorage(remote, repository, harness)
                try await harness.createSecret("restic", ["RESTIC_PASSWORD": RunnerHarness.password])
                try await harness.createClaim("data")
                let volume = layout.volume(namespace: harness.namespace, claim: "data")
                try await eventually("PVC data to be provisioned", .seconds(20)) { FileManager.default.fileExists(atPath: volume.path) }
                let files = try EndToEndTests.writeMixedFiles(into: volume)
                try await harness.createDeployment("app", claims: ["data"])
                try await harness.createConfiguration { $0.spec.storage.namespace = storageNamespace }

                try await harness.running { _ in
                    // When: a session runs.
                    try await harness.createSession("remote-1")
                    let session = try await harness.waitFor("remote-1", .succeeded, .seconds(120))

                    // Then: a Snapshot names the restic snapshot, which the repository holds.
                    let id = try #require(session.status?.volumes?.first?.resticSnapshotID)
                    let snapshot = try NodeDecoder().decode(
                        Snapshot.self, from: try await harness.client.get(ExecutorResource.snapshots, namespace: harness.namespace, name: "remote-1-data"))
                    #expect(snapshot.spec.resticSnapshotID == id)
                    #expect(session.status?.volumes?.first?.files == files.count)

                    // And: restoring it through the agent gives every file back, byte for byte.
                    try await EndToEndTests.expectRestoresByteIdentical(id, repository: repository.environment, harness: harness, files: files, of: volume)
                }
            }
        }
    }

    /// A running server: the agent's repository environment, and how to describe it as a BackupStorage.
    struct Repository: Sendable {
        var environment: [String: String]
        var backend: Backend
    }

    /// Starts the server under `directory` and runs `body` with the repository on it.
    static func withRepository(_ remote: Remote, in directory: URL, _ body: (Repository) async throws -> Void) async throws {
        switch remote {
        case .s3:
            try await Moto.with(in: directory) { port in
                var backend = Backend()
                backend.s3 = S3Backend(bucket: "cairn", endpoint: "http://127.0.0.1:\(port)", prefix: "restic", region: "us-east-1")
                try await body(Repository(environment: Moto.repository(port: port), backend: backend))
            }
        case .sftp:
            try await SSHServer.with(in: directory) { server in
                var backend = Backend()
                backend.sftp = SFTPBackend(host: "127.0.0.1", user: server.user, path: server.root.appendingPathComponent("repo").path, port: server.port)
                try await body(Repository(environment: server.repository, backend: backend))
            }
        }
    }

    /// Creates BackupStorage `store` with a credentials Secret holding what the repository needs
    /// but its address: for S3 in a shared namespace that allows all (so the runner copies the
    /// Secret), for sftp in the test's own. Returns the storage's namespace.
    static func createStorage(_ remote: Remote, _ repository: Repository, _ harness: RunnerHarness) async throws -> String {
        let namespace = remote == .s3 ? try await harness.createNamespace("shared") : harness.namespace
        let credentials = repository.environment.filter { $0.key != "RESTIC_REPOSITORY" && $0.key != "AWS_DEFAULT_REGION" }
        try await harness.createSecret("credentials", credentials, namespace: namespace)
        try await harness.createStorage(namespace: namespace) { storage in
            storage.spec.backend = repository.backend
            storage.spec.credentialsSecret = LocalRef(name: "credentials")
            if remote == .s3 { storage.spec.usagePolicy = UsagePolicy(allowedNamespaces: .init(from: .all)) }
        }
        return namespace
    }
}
