import Agent
import CairnAPI
import Foundation
import Testing

/// Two namespaces share one repository: forgetting in one never touches the other's snapshots.
@Suite struct ForgetTests {
    private struct Shared {
        var environment: [String: String]
        var teamA: String
        var teamB: String
    }

    private func sharedRepository(_ directory: TestDirectory) async throws -> Shared {
        let a = try directory.directory("a")
        let b = try directory.directory("b")
        try TestData.write(Data("a".utf8), to: a.appendingPathComponent("a.txt"))
        try TestData.write(Data("b".utf8), to: b.appendingPathComponent("b.txt"))
        let environment = [
            "RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "shared",
            "CAIRN_SANDBOX_MOUNTS": #"{"/data/a": "\#(a.path)", "/data/b": "\#(b.path)"}"#,
        ]
        let first = await TestAgent.run(.backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/a")], host: "team-a/db", tags: ["config=db"])), environment)
        let second = await TestAgent.run(.backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/b")], host: "team-b/db", tags: ["config=db"])), environment)
        return Shared(
            environment: environment, teamA: try #require(first.volumes?.first?.resticSnapshotID),
            teamB: try #require(second.volumes?.first?.resticSnapshotID))
    }

    @Test func givenAnotherNamespacesSnapshot_WhenForgettingWithThisNamespacesHostAndTags_ThenNothingIsForgotten() async throws {
        let directory = try TestDirectory()
        let shared = try await sharedRepository(directory)

        let result = await TestAgent.run(.forget(ForgetRequest(snapshots: [shared.teamA, shared.teamB], host: "team-a/db", tags: ["config=db", "pvc=data"])), shared.environment)

        #expect(result.phase == .failed)
        #expect(result.reason == "SnapshotMismatch")
        #expect(result.message?.contains("its host is team-b/db, not team-a/db") == true, "\(result.message ?? "")")
        #expect(Set(try await ResticCLI.snapshots(shared.environment).map(\.id)) == [shared.teamA, shared.teamB], "not even its own went")
    }

    @Test func givenItsOwnSnapshot_WhenForgotten_ThenOnlyItGoesAndForgettingAgainSucceeds() async throws {
        let directory = try TestDirectory()
        let shared = try await sharedRepository(directory)
        let request = AgentRequest.forget(ForgetRequest(snapshots: [String(shared.teamA.prefix(12))], host: "team-a/db", tags: ["pvc=data"]))

        let result = await TestAgent.run(request, shared.environment)
        let again = await TestAgent.run(request, shared.environment)

        #expect(result.phase == .succeeded, "\(result.message ?? "")")
        #expect(result.message == "forgot 1 snapshot(s): \(shared.teamA.prefix(8))")
        #expect(try await ResticCLI.snapshots(shared.environment).map(\.id) == [shared.teamB])
        #expect(again.phase == .succeeded)
        #expect(again.message?.contains("already gone: \(shared.teamA.prefix(12))") == true, "\(again.message ?? "")")
    }

    @Test func givenAForgottenSnapshot_WhenPrunedAndChecked_ThenBothSucceedAndTheOtherNamespaceStillRestores() async throws {
        let directory = try TestDirectory()
        let shared = try await sharedRepository(directory)
        _ = await TestAgent.run(.forget(ForgetRequest(snapshots: [shared.teamA], host: "team-a/db")), shared.environment)
        let target = try directory.directory("restored")
        var environment = shared.environment
        environment["CAIRN_SANDBOX_MOUNTS"] = #"{"/data/restored": "\#(target.path)"}"#

        let prune = await TestAgent.run(.prune, environment)
        let check = await TestAgent.run(.check, environment)
        let restore = await TestAgent.run(.restore(RestoreRequest(snapshot: shared.teamB, target: "/data/restored", host: "team-b/db", expectedTags: ["pvc=data"])), environment)

        #expect(prune.phase == .succeeded, "\(prune.message ?? "")")
        #expect(prune.operation == .prune)
        #expect(check.phase == .succeeded, "\(check.message ?? "")")
        #expect(restore.phase == .succeeded, "\(restore.message ?? "")")
        #expect(try String(contentsOf: target.appendingPathComponent("b.txt"), encoding: .utf8) == "b")
    }
}
