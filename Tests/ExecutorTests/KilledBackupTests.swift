import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import SandboxNodes
import Testing
import YAML

/// A backup killed halfway, with nothing played by the test: the runner creates the Job, the
/// simulated kubelet runs the real `cairn agent`, and the test kills restic with SIGKILL the moment
/// it holds its lock, as a node that dies or an OOM kill would. The lock that restic leaves behind
/// must neither block the next run nor outlive it.
@Suite struct KilledBackupTests {
    @Test func givenABackupKilledMidway_whenTheNextRunComes_thenItSucceeds_andNoLockIsLeftBehind() async throws {
        try await RunnerHarness.with { harness in
            _ = try harness.cluster.sandboxOnly()
            let root = harness.cluster.directory.appendingPathComponent("nodes")
            let nodes = SimulatedNodes(client: harness.client, configuration: .init(nodes: 1, root: root, cairnBinary: Processes.cairnBinary), logger: quietLogger())
            let simulated = Task { try await nodes.run() }
            defer { simulated.cancel() }

            // Given: a local repository and a PVC of 32 MiB of random data, backed up with a 20 s
            // deadline (which is also the age past which the agent counts a lock as stale) and no retries.
            let repository = harness.cluster.directory.appendingPathComponent("repository")
            try await harness.createStorage { $0.spec.backend.local = LocalBackend(path: repository.path) }
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": RunnerHarness.password])
            try await harness.createClaim("data")
            let volume = NodeLayout(root: root).volume(namespace: harness.namespace, claim: "data")
            try await eventually("PVC data to be provisioned", .seconds(20)) { FileManager.default.fileExists(atPath: volume.path) }
            let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
            for index in 0..<8 { try random.readData(ofLength: 4 << 20).write(to: volume.appendingPathComponent("part-\(index).bin")) }
            try random.close()
            try await harness.createDeployment("app", claims: ["data"])
            try await harness.createConfiguration {
                $0.spec.timeout = "20s"
                $0.spec.retries = 0
            }
            let host = "\(harness.namespace)/\(RunnerHarness.configurationName)"
            let locks = repository.appendingPathComponent("locks")

            try await harness.running { _ in
                // When: restic is killed with SIGKILL while it holds its lock.
                try await harness.createSession("killed")
                let restic = try await eventually("restic to hold its lock", .seconds(60), interval: .milliseconds(10)) { () -> Int32? in
                    guard try Self.lockFiles(locks).count == 1 else { return nil }
                    return try await Self.resticProcess(host: host)
                }
                #expect(kill(restic, SIGKILL) == 0)
                let killedAt = ContinuousClock.now

                // Then: that session fails, saying why, and its lock stays in the repository.
                let failed = try await harness.waitFor("killed", .failed, .seconds(60))
                #expect(failed.status?.message?.hasPrefix("restic was killed by signal 9 (SIGKILL)") == true, "\(String(describing: failed.status))")
                #expect(try Self.lockFiles(locks).count == 1, "restic cannot remove a lock when it is killed")
                #expect(try await harness.client.list(ExecutorResource.snapshots, namespace: harness.namespace).items.isEmpty)

                // When: the next run comes once that lock is older than the Job's deadline.
                try await Task.sleep(until: killedAt.advanced(by: .seconds(21)))
                try await harness.createSession("next")

                // Then: it succeeds, the stale lock is gone, and the repository holds exactly its snapshot and checks clean.
                let next = try await harness.waitFor("next", .succeeded, .seconds(90))
                let id = try #require(next.status?.volumes?.first?.resticSnapshotID)
                let environment = ["RESTIC_REPOSITORY=\(repository.path)", "RESTIC_PASSWORD=\(RunnerHarness.password)"]
                let listLocks = try await Processes.run("/usr/bin/env", environment + ["restic", "list", "locks", "--no-lock"])
                #expect(listLocks.status == 0 && listLocks.stdout.isEmpty, "restic list locks: \(listLocks.stdout)\(listLocks.stderr)")
                #expect(try Self.lockFiles(locks).isEmpty)
                let snapshots = try await Processes.run("/usr/bin/env", environment + ["restic", "snapshots", "--json", "--no-lock"])
                #expect(snapshots.status == 0, "\(snapshots.stderr)")
                let listed = try JSON.parse(snapshots.stdout).sequence?.compactMap { $0["id"]?.string } ?? []
                #expect(listed.count == 1 && listed.first?.hasPrefix(id) == true, "restic snapshots: \(listed), session: \(id)")
                let check = try await Processes.run("/usr/bin/env", environment + ["restic", "check"])
                #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            }
        }
    }

    /// The lock files in a local repository, without the temporary files the local backend
    /// writes a file through (a restic killed while writing its lock leaves one, which is no lock).
    static func lockFiles(_ locks: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: locks.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: locks.path).filter { !$0.contains("-tmp-") }
    }

    /// The pid of the restic process whose arguments name `host`, from /proc.
    static func resticProcess(host: String) async throws -> Int32? {
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = Int32(entry),
                  let comm = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8),  // the process may have gone
                  comm.trimmingCharacters(in: .whitespacesAndNewlines) == "restic",
                  let arguments = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            if arguments.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == host }) { return pid }
        }
        return nil
    }
}
