import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import SandboxNodes
import Testing
import YAML

/// Backups that fail or are cut short, with nothing played by the test: the runner creates the Job, the simulated
/// kubelet runs the real `cairn agent`, which runs the real restic against a local repository.
@Suite struct BackupFaultTests {
    /// The repository and the volume of one test.
    struct Setup {
        var repository: URL
        var volume: URL
        var host: String
        var environment: [String] { ["RESTIC_REPOSITORY=\(repository.path)", "RESTIC_PASSWORD=\(RunnerHarness.password)"] }
    }

    /// Makes a local repository, the password, PVC `data` holding `parts` files of 4 MiB of random
    /// data, Deployment `app` mounting it, and its configuration with `edit` applied.
    static func setUp(_ harness: RunnerHarness, _ layout: NodeLayout, parts: Int = 8,
                      configuration edit: @escaping (inout BackupConfiguration) -> Void) async throws -> Setup {
        let repository = URL(fileURLWithPath: try await harness.createLocalRepository())
        try await harness.createClaim("data")
        let volume = layout.volume(namespace: harness.namespace, claim: "data")
        try await eventually("PVC data to be provisioned", .seconds(20)) { FileManager.default.fileExists(atPath: volume.path) }
        for index in 0..<parts { try EndToEndTests.incompressible(count: 4 << 20).write(to: volume.appendingPathComponent("part-\(index).bin")) }
        try await harness.createDeployment("app", claims: ["data"])
        try await harness.createConfiguration { edit(&$0) }
        return Setup(repository: repository, volume: volume, host: "\(harness.namespace)/\(RunnerHarness.configurationName)")
    }

    @Test func givenABackupKilledMidway_whenTheNextRunComes_thenItSucceeds_andNoLockIsLeftBehind() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            // Given: a PVC of random data, backed up with a 20 s deadline (which is also the age
            // past which the agent counts a lock as stale) and no retries.
            let setup = try await Self.setUp(harness, layout) {
                $0.spec.timeout = "20s"
                $0.spec.retries = 0
            }
            let locks = setup.repository.appendingPathComponent("locks")

            try await harness.running { _ in
                // When: restic is killed with SIGKILL while it holds its lock.
                try await harness.createSession("killed")
                let restic = try await eventually("restic to hold its lock", .seconds(60), interval: .milliseconds(10)) { () -> Int32? in
                    guard try Self.lockFiles(locks).count == 1 else { return nil }
                    return try await Self.resticProcess(host: setup.host)
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
                let environment = setup.environment
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

    @Test func givenTheControllerStoppedWhileTheRealAgentRuns_whenAnotherStarts_thenItAdoptsTheJob_andOneSnapshotIsRecorded() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            let setup = try await Self.setUp(harness, layout) { _ in }

            // Given: a runner that started the session's Job and stopped while restic ran.
            try await harness.running { _ in
                try await harness.createSession("restarted")
                _ = try await eventually("restic to run", .seconds(60), interval: .milliseconds(10)) { try await Self.resticProcess(host: setup.host) }
            }
            #expect(try await harness.session("restarted").status?.phase == .running)

            // When: another runner starts.
            try await harness.running { _ in
                // Then: it follows the same Job to its end: one Job, one Snapshot, one restic snapshot.
                let session = try await harness.waitFor("restarted", .succeeded, .seconds(90))
                let id = try #require(session.status?.volumes?.first?.resticSnapshotID)
                let jobs = try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items
                #expect(jobs.map(\.name) == [SessionNaming.backupJob(session: "restarted")])
                #expect(jobs.first?[path: "status", "succeeded"]?.int == 1)
                let snapshots = try await harness.client.list(Snapshot.self, ExecutorResource.snapshots, namespace: harness.namespace).items
                #expect(snapshots.map(\.spec.resticSnapshotID) == [id])
                let listed = try await Processes.run("/usr/bin/env", setup.environment + ["restic", "snapshots", "--json", "--no-lock"])
                #expect(try JSON.parse(listed.stdout).sequence?.compactMap { $0["id"]?.string }.filter { $0.hasPrefix(id) }.count == 1)
                #expect(try JSON.parse(listed.stdout).sequence?.count == 1)
            }
        }
    }

    @Test func givenARepositoryMadeWithAnotherPassword_whenASessionRuns_thenItFailsAsWrongPassword_namingTheSecret() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            let setup = try await Self.setUp(harness, layout) { $0.spec.retries = 0 }
            let other = try await Processes.run("/usr/bin/env", ["RESTIC_REPOSITORY=\(setup.repository.path)", "RESTIC_PASSWORD=another", "restic", "init"])
            try #require(other.status == 0, "\(other.stderr)")

            try await harness.running { _ in
                try await harness.createSession("wrong")
                let failed = try await harness.waitFor("wrong", .failed, .seconds(60))
                #expect(failed.status?.reason == "WrongPassword")
                #expect(failed.status?.message?.contains("RESTIC_PASSWORD does not open this repository; check the encryption Secret") == true,
                        "\(String(describing: failed.status?.message))")
                #expect(try await harness.client.list(ExecutorResource.snapshots, namespace: harness.namespace).items.isEmpty)
            }
        }
    }

    @Test func givenAnS3EndpointNobodyListensOn_whenASessionRuns_thenItFailsAsRepositoryUnreachable() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            _ = try await Self.setUp(harness, layout) {
                $0.spec.retries = 0
                $0.spec.storage.name = "nowhere"
            }
            let port = try Ports.free()
            try await harness.createSecret("nowhere", ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"])
            try await harness.createStorage("nowhere") { storage in
                var backend = Backend()
                backend.s3 = S3Backend(bucket: "cairn", endpoint: "http://127.0.0.1:\(port)", region: "us-east-1")
                storage.spec.backend = backend
                storage.spec.credentialsSecret = LocalRef(name: "nowhere")
            }

            try await harness.running { _ in
                try await harness.createSession("unreachable")
                let failed = try await harness.waitFor("unreachable", .failed, .seconds(90))
                #expect(failed.status?.reason == "RepositoryUnreachable", "\(String(describing: failed.status))")
                #expect(failed.status?.message?.contains("127.0.0.1:\(port)") == true, "\(String(describing: failed.status?.message))")
            }
        }
    }

    @Test(.enabled(if: Tmpfs.unavailable == nil, "\(Tmpfs.unavailable ?? "")"))
    func givenARepositoryOnAFullFileSystem_whenASessionRuns_thenItFailsAsDestinationFullInResticsWords_andWithRoomTheNextSucceedsWithNoLockLeft() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            // Given: 16 MiB of random data, and the repository on a tmpfs of 4 MiB.
            let setup = try await Self.setUp(harness, layout, parts: 4) { $0.spec.retries = 0 }
            try FileManager.default.createDirectory(at: setup.repository, withIntermediateDirectories: true)
            try await Tmpfs.with(setup.repository, size: "4m") {
                try await harness.running { runner in
                    // When: a session runs.
                    try await harness.createSession("full")

                    // Then: it fails as DestinationFull in restic's own words, with no Snapshot, and a Warning says so.
                    let failed = try await harness.waitFor("full", .failed, .seconds(90))
                    let message = failed.status?.message ?? ""
                    #expect(failed.status?.reason == "DestinationFull", "\(String(describing: failed.status))")
                    #expect(message.hasPrefix("restic: ") && message.contains("no space left on device"), "\(message)")
                    #expect(failed.status?.volumes?.map(\.phase) == ["Failed"])
                    #expect(try await harness.client.list(ExecutorResource.snapshots, namespace: harness.namespace).items.isEmpty)
                    let warnings = try await harness.events(about: "full", runner: runner).filter { $0["type"]?.string == "Warning" }
                    #expect(warnings.map { $0["reason"]?.string } == ["DestinationFull"])
                    #expect(warnings.first?["message"]?.string == message)

                    // When: the file system gets room, and the next session runs.
                    try Tmpfs.resize(setup.repository, to: "64m")
                    try await harness.createSession("roomy")

                    // Then: it succeeds, the repository holds exactly its snapshot, and no lock is left.
                    let roomy = try await harness.waitFor("roomy", .succeeded, .seconds(90))
                    let id = try #require(roomy.status?.volumes?.first?.resticSnapshotID)
                    let listLocks = try await Processes.run("/usr/bin/env", setup.environment + ["restic", "list", "locks", "--no-lock"])
                    #expect(listLocks.status == 0 && listLocks.stdout.isEmpty, "restic list locks: \(listLocks.stdout)\(listLocks.stderr)")
                    let snapshots = try await Processes.run("/usr/bin/env", setup.environment + ["restic", "snapshots", "--json", "--no-lock"])
                    #expect(try JSON.parse(snapshots.stdout).sequence?.compactMap { $0["id"]?.string } == [id], "\(snapshots.stdout)\(snapshots.stderr)")
                }
            }
        }
    }

    @Test(.enabled(if: PodUser.unavailable == nil, "\(PodUser.unavailable ?? "")"))
    func givenAFileThePodsUserCannotRead_whenASessionRuns_thenItSucceedsPartially_listingTheFile_andTheSnapshotIsRecorded() async throws {
        let user = PodUser.deployment
        try await EndToEndTests.withSimulatedNodes(agentUser: user) { harness, layout in
            // Given: the agent runs as the pod's user, with its own repository; the volume holds a
            // file only root may read, among files anyone may.
            let setup = try await Self.setUp(harness, layout, parts: 2) { $0.spec.retries = 0 }
            try FileManager.default.createDirectory(at: setup.repository, withIntermediateDirectories: true)
            #expect(chown(setup.repository.path, uid_t(user.uid), gid_t(user.gid)) == 0)
            let secret = setup.volume.appendingPathComponent("keys/server.key")
            try FileManager.default.createDirectory(at: secret.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("private".utf8).write(to: secret)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret.path)

            try await harness.running { runner in
                // When: a session runs.
                try await harness.createSession("partial")

                // Then: the session succeeds partially, naming the file, and a Warning says so.
                let session = try await harness.waitFor("partial", .succeeded, .seconds(90))
                let job = try await harness.job(for: "partial")
                #expect(job[path: "spec", "template", "spec", "securityContext", "runAsUser"]?.int == user.uid)
                #expect(session.status?.reason == "PartiallySucceeded", "\(String(describing: session.status))")
                #expect(session.status?.message == "snapshots written, but 1 file could not be read: data/keys/server.key; see status.volumes[].unreadable")
                let volume = try #require(session.status?.volumes?.first)
                #expect(volume.phase == "PartiallySucceeded" && volume.unreadable == ["keys/server.key"], "\(volume)")
                let warnings = try await harness.events(about: "partial", runner: runner).filter { $0["type"]?.string == "Warning" }
                #expect(warnings.map { $0["reason"]?.string } == ["PartiallySucceeded"])

                // And: the Snapshot names the restic snapshot, which holds the readable files and not the other.
                let id = try #require(volume.resticSnapshotID)
                let snapshot = try await harness.client.get(Snapshot.self, ExecutorResource.snapshots, namespace: harness.namespace, name: "partial-data")
                #expect(snapshot.spec.resticSnapshotID == id && volume.snapshot == "partial-data")
                let listed = try await Processes.run("/usr/bin/env", setup.environment + ["restic", "ls", "--json", "--no-lock", id])
                #expect(listed.status == 0, "\(listed.stderr)")
                let nodes = try listed.stdout.split(separator: "\n").map { try JSON.parse(String($0)) }.filter { $0["struct_type"]?.string == "node" }
                let names = nodes.compactMap { $0["name"]?.string }
                #expect(names.contains("part-0.bin") && names.contains("part-1.bin") && names.contains("keys"), "\(names)")
                #expect(!names.contains("server.key"), "\(names)")
                let configuration = try await harness.client.get(BackupConfiguration.self, ExecutorResource.configurations,
                                                                 namespace: harness.namespace, name: RunnerHarness.configurationName)
                #expect(configuration.status?.lastSuccessfulBackup?.phase == "PartiallySucceeded")
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
