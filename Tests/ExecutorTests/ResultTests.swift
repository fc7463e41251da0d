import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Testing
import YAML

/// How a session ends, read from its Job and the agent's termination message: Snapshots and the
/// configuration's status on success, and a Failed session with the reason otherwise; never a
/// guessed success.
@Suite struct ResultTests {
    @Test func givenTheAgentReportsSuccess_whenTheJobCompletes_thenSnapshotsAndStatusesAreWritten() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.running { runner in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                try await harness.endJob(of: "s1", message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("data", id: "a1b2c3d4e5f6")]))
                let session = try await harness.waitFor("s1", .succeeded)
                let status = try #require(session.status)
                #expect(status.reason == "Succeeded")
                #expect(status.completionTime == "2026-11-22T01:01:31Z")
                #expect(status.attempts == 1)
                #expect(status.duration != nil)
                let volume = try #require(status.volumes?.first)
                #expect(volume.pvc == "data" && volume.phase == "Succeeded" && volume.resticSnapshotID == "a1b2c3d4e5f6")
                #expect(volume.snapshot == "s1-data")

                let snapshot = try await harness.client.get(Snapshot.self, ExecutorResource.snapshots, namespace: harness.namespace, name: "s1-data")
                #expect(snapshot.spec.resticSnapshotID == "a1b2c3d4e5f6")
                #expect(snapshot.spec.pvc == "data" && snapshot.spec.configuration == RunnerHarness.configurationName && snapshot.spec.session == "nightly")
                #expect(snapshot.spec.backupSession == "s1")
                #expect((snapshot.spec.size, snapshot.spec.files, snapshot.spec.bytesAdded) == (5_000, 12, 4_000))
                #expect(snapshot.spec.time == "2026-11-22T01:00:05Z")
                #expect(snapshot.spec.hostname == "\(harness.namespace)/\(RunnerHarness.configurationName)")
                #expect(snapshot.spec.tags?.contains("pvc=data") == true)
                #expect(snapshot.spec.tags?.contains("cairn.dev/backup-session=s1") == true)
                #expect(snapshot.spec.storage == NamespacedRef(name: "store", namespace: harness.namespace))
                #expect(snapshot.metadata.labels?["cairn.dev/pvc"] == "data")
                #expect(snapshot.metadata.labels?["cairn.dev/session"] == "nightly")
                #expect(snapshot.metadata.ownerReferences?.first?.kind == "BackupConfiguration")

                let configuration = try await harness.client.get(BackupConfiguration.self, ExecutorResource.configurations,
                                                                 namespace: harness.namespace, name: RunnerHarness.configurationName)
                let record = BackupRecord(session: "nightly", backupSession: "s1", phase: "Succeeded", time: "2026-11-22T01:01:31Z")
                #expect(configuration.status?.lastBackup == record)
                #expect(configuration.status?.lastSuccessfulBackup == record)
                let normal = try await harness.events(about: "s1", runner: runner).compactMap { $0["reason"]?.string }
                #expect(normal.contains("Started") && normal.contains("Succeeded"))
            }
        }
    }

    @Test func givenSomeFilesUnreadable_whenTheJobCompletes_thenTheSessionSucceedsPartiallyAndNamesThem() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                var volume = RunnerHarness.volume("data", id: "ffee")
                volume.phase = .partiallySucceeded
                volume.unreadable = ["secret/key.pem"]
                try await harness.endJob(of: "s1", message: try RunnerHarness.agentResult(.partiallySucceeded, volumes: [volume], reason: "FilesUnreadable"), exitCode: 3)
                let session = try await harness.waitFor("s1", .succeeded)
                #expect(session.status?.reason == "PartiallySucceeded")
                #expect(session.status?.message?.contains("data/secret/key.pem") == true)
                #expect(session.status?.volumes?.first?.unreadable == ["secret/key.pem"])
                let configuration = try await harness.client.get(BackupConfiguration.self, ExecutorResource.configurations,
                                                                 namespace: harness.namespace, name: RunnerHarness.configurationName)
                #expect(configuration.status?.lastBackup?.phase == "PartiallySucceeded")
                _ = try await harness.client.get(ExecutorResource.snapshots, namespace: harness.namespace, name: "s1-data")
            }
        }
    }

    /// A Job that ended without a valid result.
    struct Ending: Sendable, CustomStringConvertible {
        var description: String
        var message: String?
        var exitCode: Int
        var containerReason: String?
        var jobFailure: (reason: String, message: String)?
        var reason: String
        var mentions: [String]
    }

    static let endings: [Ending] = [
        Ending(description: "completed without a message", message: nil, exitCode: 0, reason: "NoResult", mentions: ["without a result", "Complete"]),
        Ending(description: "garbage in the message", message: "Killed", exitCode: 1,
               jobFailure: ("BackoffLimitExceeded", "Job has reached the specified backoff limit"), reason: "InvalidResult",
               mentions: ["not a valid result", "BackoffLimitExceeded"]),
        Ending(description: "another format", message: #"{"format":"cairn.dev/agent-result/v0","operation":"backup","phase":"Succeeded"}"#, exitCode: 0,
               reason: "InvalidResult", mentions: ["cairn.dev/agent-result/v0"]),
        Ending(description: "an unknown field", message: #"{"format":"cairn.dev/agent-result/v1","operation":"backup","phase":"Succeeded","ok":true}"#,
               exitCode: 0, reason: "InvalidResult", mentions: ["ok"]),
        Ending(description: "the deadline passed", message: nil, exitCode: 137,
               jobFailure: ("DeadlineExceeded", "Job was active longer than specified deadline"), reason: "DeadlineExceeded",
               mentions: ["DeadlineExceeded", "without a result"]),
        Ending(description: "out of memory", message: nil, exitCode: 137, containerReason: "OOMKilled",
               jobFailure: ("BackoffLimitExceeded", "Job has reached the specified backoff limit"), reason: "OOMKilled",
               mentions: ["OOMKilled", "exit code 137", "BackoffLimitExceeded"]),
    ]

    @Test(arguments: endings)
    func givenAJobThatEndsWithoutAValidResult_thenTheSessionFailsWithTheReason(_ ending: Ending) async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                try await harness.endJob(of: "s1", message: ending.message, exitCode: ending.exitCode, containerReason: ending.containerReason,
                                         jobFailure: ending.jobFailure)
                let session = try await harness.waitFor("s1", .failed)
                #expect(session.status?.reason == ending.reason)
                for fragment in ending.mentions { #expect(session.status?.message?.contains(fragment) == true, "\(session.status?.message ?? "") should mention \(fragment)") }
                #expect(session.status?.volumes?.map(\.phase) == ["Failed"])
                let snapshots = try await harness.client.list(ExecutorResource.snapshots, namespace: harness.namespace).items
                #expect(snapshots.isEmpty)
                let configuration = try await harness.client.get(BackupConfiguration.self, ExecutorResource.configurations,
                                                                 namespace: harness.namespace, name: RunnerHarness.configurationName)
                #expect(configuration.status?.lastBackup?.phase == "Failed")
                #expect(configuration.status?.lastSuccessfulBackup == nil)
            }
        }
    }

    @Test func givenTheAgentReportsAFailure_thenTheSessionFailsWithTheAgentsReason() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                var result = AgentResult(operation: .backup, phase: .failed)
                result.reason = "WrongPassword"
                result.message = "Fatal: wrong password or no key found"
                try await harness.endJob(of: "s1", message: try JSON.emit(try NodeEncoder().encode(result)), exitCode: 1,
                                         jobFailure: ("BackoffLimitExceeded", "Job has reached the specified backoff limit"))
                let session = try await harness.waitFor("s1", .failed)
                #expect(session.status?.reason == "WrongPassword")
                #expect(session.status?.message == "Fatal: wrong password or no key found")
            }
        }
    }
}
