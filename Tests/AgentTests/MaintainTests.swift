import Agent
import CairnAPI
import Foundation
import Testing

/// `cairn agent maintain`: restic check, then restic prune only when the check passed.
@Suite struct MaintainTests {
    private struct Repository {
        var environment: [String: String]
        var kept: String
        var forgotten: String
    }

    /// A repository holding two snapshots of 3 MiB of random data each; the first is forgotten (not pruned).
    private func repositoryWithAForgottenSnapshot(_ directory: TestDirectory) async throws -> Repository {
        let data = try directory.directory("data")
        let environment = [
            "RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "pw",
            "CAIRN_SANDBOX_MOUNTS": #"{"/data/data": "\#(data.path)"}"#,
        ]
        let request = AgentRequest.backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/data")], host: "shop/db"))
        try TestData.write(TestData.random(3 << 20), to: data.appendingPathComponent("first.bin"))
        let first = await TestAgent.run(request, environment)
        try FileManager.default.removeItem(at: data.appendingPathComponent("first.bin"))
        try TestData.write(TestData.random(3 << 20), to: data.appendingPathComponent("second.bin"))
        let second = await TestAgent.run(request, environment)
        let forgotten = try #require(first.volumes?.first?.resticSnapshotID)
        let forget = await TestAgent.run(.forget(ForgetRequest(snapshots: [forgotten], host: "shop/db")), environment)
        try #require(forget.phase == .succeeded, "\(forget.message ?? "")")
        return Repository(environment: environment, kept: try #require(second.volumes?.first?.resticSnapshotID), forgotten: forgotten)
    }

    private func bytes(under url: URL) throws -> Int {
        let files = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey])?.compactMap { $0 as? URL } ?? []
        return try files.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
    }

    @Test func givenAForgottenSnapshot_WhenMaintained_ThenTheCheckPassesThePruneFreesItsDataAndTheOtherStillRestores() async throws {
        let directory = try TestDirectory()
        let repository = try await repositoryWithAForgottenSnapshot(directory)
        let packs = directory.url.appendingPathComponent("repo/data")
        let before = try bytes(under: packs)

        let result = await TestAgent.run(.maintain(MaintainRequest(readDataSubset: "100%")), repository.environment)

        #expect(result.phase == .succeeded, "\(result.message ?? "")")
        #expect(result.operation == .maintain)
        #expect(result.message?.hasPrefix("restic check read back 100% of the data and found no errors; restic prune removed ") == true, "\(result.message ?? "")")
        let after = try bytes(under: packs)
        #expect(before - after > 2 << 20, "the forgotten snapshot's 3 MiB are gone: \(before) -> \(after) bytes")
        let target = try directory.directory("restored")
        var environment = repository.environment
        environment["CAIRN_SANDBOX_MOUNTS"] = #"{"/data/restored": "\#(target.path)"}"#
        let restore = await TestAgent.run(.restore(RestoreRequest(snapshot: repository.kept, target: "/data/restored", host: "shop/db")), environment)
        #expect(restore.phase == .succeeded, "\(restore.message ?? "")")
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("second.bin").path))
    }

    @Test func givenATruncatedPack_WhenMaintained_ThenItFailsRepositoryDamagedNamingThePackAndPrunesNothing() async throws {
        let directory = try TestDirectory()
        let repository = try await repositoryWithAForgottenSnapshot(directory)
        let packs = directory.url.appendingPathComponent("repo/data")
        let files = try #require(FileManager.default.enumerator(at: packs, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
            .filter { !$0.hasDirectoryPath }.sorted { $0.path < $1.path })
        let damaged = try #require(files.first)
        try Data("garbage".utf8).write(to: damaged)
        let before = try bytes(under: packs)

        let result = await TestAgent.run(.maintain(MaintainRequest()), repository.environment)

        #expect(result.phase == .failed)
        #expect(result.reason == "RepositoryDamaged")
        #expect(result.message?.hasPrefix("restic check found errors, so prune did not run: pack \(damaged.lastPathComponent.prefix(8))") == true, "\(result.message ?? "")")
        #expect(try bytes(under: packs) == before, "nothing was pruned")
    }

    @Test func givenNoRepository_WhenMaintained_ThenItFailsRepositoryMissingAndCreatesNone() async throws {
        let directory = try TestDirectory()
        let environment = ["RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "pw"]

        let result = await TestAgent.run(.maintain(MaintainRequest()), environment)

        #expect(result.reason == "RepositoryMissing", "\(result.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("repo").path))
    }
}
