@testable import Agent
import CairnAPI
import CairnTesting
import Foundation
import Subprocess
import Testing
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Killed and interrupted agents, the locks they leave, and which locks a later agent removes.
@Suite struct LockTests {
    /// A 16 MiB volume and a restic throttled to 2 MiB/s (`--limit-upload`, through the agent's
    /// `--restic`), so the backup is still running when the test strikes, however busy the machine.
    private func slowBackup(_ directory: TestDirectory) async throws -> (environment: [String: String], arguments: [String]) {
        let data = try directory.directory("data")
        try await offPool {
            for index in 0..<4 { try TestData.write(TestData.random(4 << 20), to: data.appendingPathComponent("chunk-\(index).bin")) }
        }
        let wrapper = directory.url.appendingPathComponent("slow-restic")
        try "#!/bin/sh\nexec restic --limit-upload 2048 \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper.path, 0o755)
        let environment = [
            "RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "pw",
            "CAIRN_SANDBOX_MOUNTS": #"{"/data/data": "\#(data.path)"}"#,
            "CAIRN_TERMINATION_LOG": directory.url.appendingPathComponent("termination-log").path,
        ]
        return (environment, ["backup", "--volume", "data=/data/data", "--host", "team-a/db", "--restic", wrapper.path])
    }

    /// The repository's lock files (restic writes `<id>-tmp-<n>` first and renames it).
    private func lockFiles(_ directory: TestDirectory) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.url.appendingPathComponent("repo/locks").path)) ?? []
        return names.filter { !$0.contains("-tmp-") }
    }

    /// Starts a backup and SIGKILLs the agent and its restic once restic holds its lock: with uploads
    /// held to 2 MiB/s, 16 MiB take restic several seconds more, so it is mid-backup. (Waiting for a
    /// pack under data/ as well timed out under load: restic stages packs in TMPDIR first.)
    private func killMidBackup(_ directory: TestDirectory, _ environment: [String: String], _ arguments: [String]) async throws -> [String] {
        let status = try await CairnAgent.start(arguments, environment) { pid in
            try await eventually("restic holding its lock", .seconds(60)) { !lockFiles(directory).isEmpty }
            kill(-pid, SIGKILL)
        }
        #expect(status == 128 + SIGKILL)
        let left = lockFiles(directory)
        #expect(left.count == 1, "restic, killed, leaves its lock behind")
        return left
    }

    @Test func givenABackupKilledMidway_WhenTheNextRunsWithALongThreshold_ThenItSucceedsAndLeavesTheFreshLockAlone() async throws {
        let directory = try TestDirectory()
        let (environment, arguments) = try await slowBackup(directory)
        let left = try await killMidBackup(directory, environment, arguments)
        var options = AgentOptions()
        options.staleLockAge = .seconds(3600)

        let result = await TestAgent.run(.backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/data")], host: "team-a/db")), environment, options: options)

        #expect(result.phase == .succeeded, "\(result.message ?? "")")
        #expect(result.staleLocksRemoved == 0)
        #expect(lockFiles(directory) == left, "a lock younger than the threshold is never removed")
        #expect(try await ResticCLI.snapshots(environment).count == 1)
    }

    @Test func givenABackupKilledMidway_WhenTheNextRunsWithAZeroThreshold_ThenTheStaleLockIsRemovedAndCounted() async throws {
        let directory = try TestDirectory()
        let (environment, arguments) = try await slowBackup(directory)
        _ = try await killMidBackup(directory, environment, arguments)
        var options = AgentOptions()
        options.staleLockAge = .zero

        let result = await TestAgent.run(.backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/data")], host: "team-a/db")), environment, options: options)

        #expect(result.phase == .succeeded, "\(result.message ?? "")")
        #expect(result.staleLocksRemoved == 1)
        #expect(lockFiles(directory).isEmpty)
    }

    @Test func givenAStaleLockFromAKilledBackup_WhenPruningWithALongThreshold_ThenItFailsLockedUntilTheThresholdAllowsRemoval() async throws {
        let directory = try TestDirectory()
        let (environment, arguments) = try await slowBackup(directory)
        _ = try await killMidBackup(directory, environment, arguments)
        var patient = AgentOptions()
        patient.staleLockAge = .seconds(3600)

        let blocked = await TestAgent.run(.prune, environment, options: patient)
        var eager = AgentOptions()
        eager.staleLockAge = .zero
        let pruned = await TestAgent.run(.prune, environment, options: eager)

        #expect(blocked.phase == .failed)
        #expect(blocked.reason == "Locked", "\(blocked.message ?? "")")
        #expect(blocked.message?.contains("--stale-lock-age 1h0m0s") == true)
        #expect(pruned.phase == .succeeded, "\(pruned.message ?? "")")
        #expect(pruned.staleLocksRemoved == 1)
    }

    @Test func givenALiveResticHoldingALock_WhenAnAgentRunsWithAZeroThreshold_ThenTheLiveLockStays() async throws {
        let directory = try TestDirectory()
        let data = try directory.directory("data")
        try TestData.write(Data("x".utf8), to: data.appendingPathComponent("x"))
        let environment = [
            "RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "pw",
            "CAIRN_SANDBOX_MOUNTS": #"{"/data/data": "\#(data.path)"}"#,
        ]
        let request = AgentRequest.backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/data")], host: "team-a/db"))
        #expect(await TestAgent.run(request, environment).phase == .succeeded)
        var options = AgentOptions()
        options.staleLockAge = .zero
        var env: [Environment.Key: String] = [:]
        for (key, value) in TestAgent.environment(environment) { if let key = Environment.Key(rawValue: key) { env[key] = value } }

        // `restic backup --stdin` holds its lock for as long as its standard input stays open.
        let live = try await Subprocess.run(
            .name("restic"), arguments: ["backup", "--stdin", "--stdin-filename", "stream", "--host", "other/holder"],
            environment: .custom(env), input: .inputWriter, output: .discarded, error: .discarded
        ) { execution in
            let writer = execution.standardInputWriter
            try await eventually("the live restic's lock", .seconds(20)) { !lockFiles(directory).isEmpty }
            let held = lockFiles(directory)

            let result = await TestAgent.run(request, environment, options: options)

            #expect(result.phase == .succeeded, "\(result.message ?? "")")
            #expect(result.staleLocksRemoved == 0)
            #expect(lockFiles(directory).contains(held[0]), "a running restic's lock is never removed")
            _ = try await writer.write("streamed")
            try await writer.finish()
        }
        #expect(Processes.code(live.terminationStatus) == 0)
    }

    /// A restic killed together with its agent is reparented, and may wait as a zombie until PID 1
    /// reaps it (here PID 1 does not): its lock must still count as a dead process's.
    @Test func givenAZombieAndARunningProcess_ThenOnlyTheRunningOneHoldsItsLockAlive() async throws {
        try await Processes.streaming("/bin/sh", ["-c", "sleep 0.5 & echo $!; echo $$; exec sleep 120"]) { lines in
            let zombie = try #require(Int(try await lines.firstLine { _ in true }))
            let running = try #require(Int(try await lines.firstLine { _ in true }))
            try await eventually("the background sleep to end, unreaped by the shell that exec-ed sleep", .seconds(20)) { Host.isZombie(zombie) }

            #expect(!Host.processExists(zombie))
            #expect(Host.processExists(running))
            #expect(!Host.processExists(Int(Int32.max)))
        }
    }

    /// A real kubelet signals the container's first process; the sandbox's signals the whole
    /// process group, so restic gets SIGTERM too, dies without removing its lock, and the agent
    /// removes that lock (a dead process's, on this host) with `restic unlock`.
    @Test(arguments: [false, true])
    func givenARunningBackup_WhenTheAgentGetsSIGTERM_ThenItReportsInterruptedExitsOneAndLeavesNoLock(wholeGroup: Bool) async throws {
        let directory = try TestDirectory()
        let (environment, arguments) = try await slowBackup(directory)

        let status = try await CairnAgent.start(arguments, environment) { pid in
            try await eventually("restic holding its lock", .seconds(60)) { !lockFiles(directory).isEmpty }
            kill(wholeGroup ? -pid : pid, SIGTERM)
        }

        #expect(status == 1)
        let result = try CairnAgent.result(at: directory.url.appendingPathComponent("termination-log"))
        #expect(result.phase == .failed)
        #expect(result.reason == "Interrupted", "\(result.message ?? "")")
        let locks = (try? FileManager.default.contentsOfDirectory(atPath: directory.url.appendingPathComponent("repo/locks").path)) ?? []
        #expect(locks.isEmpty, "restic removed its lock on SIGINT, or the agent removed a killed restic's")
    }
}
