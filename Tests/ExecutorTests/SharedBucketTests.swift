import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import SandboxNodes
import Testing
import YAML

/// Two tenants whose backups share one S3 bucket and one restic repository, with nothing played
/// by the test: the session runner's Jobs run the real `cairn agent` against moto, and the real
/// RetentionKeeper sweeps through a real forget Job. The configurations, sessions and PVCs have
/// the same names in both namespaces, so only the restic host tells the tenants apart.
@Suite struct SharedBucketTests {
    @Test(.timeLimit(.minutes(4)))
    func givenTwoNamespacesBackingUpIntoOneBucket_whenOneNamespacesKeeperSweeps_thenTheOthersSnapshotsAndObjectsAreUntouched() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            try await Moto.with(in: harness.cluster.directory) { port in
                // Given: S3 storage in a shared namespace; tenant A keeps its last snapshot, tenant B keeps all.
                var backend = Backend()
                backend.s3 = S3Backend(bucket: "cairn", endpoint: "http://127.0.0.1:\(port)", prefix: "restic", region: "us-east-1")
                let repository = RemoteBackendTests.Repository(environment: Moto.repository(port: port), backend: backend)
                let storageNamespace = try await RemoteBackendTests.createStorage(.s3, repository, harness)
                let (cluster, namespaceB) = (harness.cluster, try await harness.createNamespace("tenant-b"))
                let tenantB = RunnerHarness(cluster: TestCluster(client: cluster.client, kubeconfig: cluster.kubeconfig, namespace: namespaceB,
                                                                 directory: cluster.directory, server: cluster.server))
                let tenants: [(RunnerHarness, Retention?)] = [(harness, Retention(keepLast: 1)), (tenantB, nil)]
                for (tenant, retention) in tenants {
                    try await Self.createTenant(tenant, storageNamespace: storageNamespace, retention: retention)
                }

                // And: each backs up three times into the bucket, through one runner for all namespaces.
                try await harness.running(configure: { $0.namespace = nil }) { _ in
                    let (idsA, idsB) = try await Self.backUpThreeTimes(harness, tenantB, layout: layout)
                    let objectsB = try await Self.snapshots(tenantB)
                    #expect(objectsB.keys.sorted() == ["b-1-data", "b-2-data", "b-3-data"])
                    #expect(Set(objectsB.values.compactMap(\.spec.resticSnapshotID)) == Set(idsB.values))
                    #expect(try await Self.resticSnapshotIDs(repository, host: tenantB) == Set(idsB.values))

                    // When: A's keeper marks A's two older snapshots, and their grace passes.
                    let retention = RetentionHarness(base: harness, clock: ManualClock(start: Date()))
                    try await retention.keeping(grace: 3_600) { keeper in
                        try await eventually("A's two older snapshots to be marked", .seconds(20)) {
                            try await Self.snapshots(harness).values.filter { $0.metadata.labels?[RetentionLabel.deleteAfter] != nil }.count == 2
                        }
                        retention.clock.advance(by: 3_601)

                        // Then: A's forget Job forgets them and the keeper deletes their objects.
                        try await eventually("A's two older snapshots to be swept", .seconds(60)) {
                            try await Self.snapshots(harness).keys.sorted() == ["a-3-data"] ? try await retention.forgetJobs().isEmpty : false
                        }
                        #expect(keeper.statistics.snapshotsDeleted == 2 && keeper.statistics.forgetFailures == 0, "\(keeper.statistics)")
                    }

                    // And: B's objects were not written to, B's restic snapshots are all there, and the bucket holds exactly the objects' snapshots.
                    let afterB = try await Self.snapshots(tenantB)
                    #expect(afterB.mapValues(\.metadata.resourceVersion) == objectsB.mapValues(\.metadata.resourceVersion))
                    #expect(try await Self.resticSnapshotIDs(repository, host: tenantB) == Set(idsB.values))
                    #expect(try await Self.resticSnapshotIDs(repository, host: harness) == [try #require(idsA["a-3"])])
                    let objects = Array(try await Self.snapshots(harness).values) + Array(afterB.values)
                    #expect(try await Self.resticSnapshotIDs(repository) == Set(objects.compactMap(\.spec.resticSnapshotID)))
                }
            }
        }
    }

    /// The restic password, PVC `data` and Deployment `app` in the tenant's namespace, and its
    /// configuration on storage `store` of `storageNamespace`, keeping `retention`.
    static func createTenant(_ tenant: RunnerHarness, storageNamespace: String, retention: Retention?) async throws {
        try await tenant.createSecret("restic", ["RESTIC_PASSWORD": RunnerHarness.password])
        try await tenant.createClaim("data")
        try await tenant.createDeployment("app", claims: ["data"])
        try await tenant.createConfiguration {
            $0.spec.storage.namespace = storageNamespace
            $0.spec.sessions[0].retention = retention
        }
    }

    /// Runs sessions `a-1` to `a-3` in tenant `a` and `b-1` to `b-3` in `b`, one after another in a
    /// tenant, a new file in the volume each time; returns each tenant's restic snapshot IDs by session.
    ///
    /// `a-1` runs alone: it creates the repository, and two agents that both found none would both
    /// run `restic init`, which S3 cannot make atomic: each writes its own key and config, and the
    /// repository is left unreadable (seen here: "config or key ... is damaged: ciphertext
    /// verification failed"). The other five run side by side in the existing repository.
    static func backUpThreeTimes(_ a: RunnerHarness, _ b: RunnerHarness, layout: NodeLayout) async throws -> ([String: String], [String: String]) {
        let first = try await backUp(a, rounds: 1...1, prefix: "a", layout: layout)
        async let idsA = backUp(a, rounds: 2...3, prefix: "a", layout: layout)
        async let idsB = backUp(b, rounds: 1...3, prefix: "b", layout: layout)
        return try await (first.merging(idsA) { $1 }, idsB)
    }

    private static func backUp(_ tenant: RunnerHarness, rounds: ClosedRange<Int>, prefix: String, layout: NodeLayout) async throws -> [String: String] {
        let volume = layout.volume(namespace: tenant.namespace, claim: "data")
        try await eventually("PVC data of \(tenant.namespace) to be provisioned", .seconds(20)) { FileManager.default.fileExists(atPath: volume.path) }
        var ids: [String: String] = [:]
        for round in rounds {
            try Data("\(tenant.namespace), round \(round)\n".utf8).write(to: volume.appendingPathComponent("round-\(round).txt"))
            let name = "\(prefix)-\(round)"
            try await tenant.createSession(name)
            let session = try await tenant.waitFor(name, .succeeded, .seconds(90))
            ids[name] = try #require(session.status?.volumes?.first?.resticSnapshotID)
        }
        return ids
    }

    /// The tenant's Snapshot objects, by name.
    static func snapshots(_ tenant: RunnerHarness) async throws -> [String: Snapshot] {
        let items = try await tenant.client.list(Snapshot.self, ExecutorResource.snapshots, namespace: tenant.namespace).items
        return Dictionary(uniqueKeysWithValues: items.map { ($0.metadata.name ?? "", $0) })
    }

    /// The IDs of the repository's snapshots, of the tenant's host when given.
    static func resticSnapshotIDs(_ repository: RemoteBackendTests.Repository, host tenant: RunnerHarness? = nil) async throws -> Set<String> {
        let environment = repository.environment.merging(["RESTIC_PASSWORD": RunnerHarness.password]) { $1 }.map { "\($0)=\($1)" }
        let host = tenant.map { ["--host", "\($0.namespace)/\(RunnerHarness.configurationName)"] } ?? []
        let output = try await Processes.run("/usr/bin/env", environment + ["restic", "snapshots", "--json", "--no-lock"] + host)
        guard output.status == 0 else { throw HarnessError(description: "restic snapshots exited \(output.status): \(output.stderr)") }
        return Set(try #require(try JSON.parse(output.stdout).sequence).compactMap { $0["id"]?.string })
    }
}
