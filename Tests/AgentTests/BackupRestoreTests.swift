import Agent
import CairnAPI
import CairnTesting
import Foundation
import Testing

/// Backup then restore through the real agent and real restic, on each backend.
@Suite struct BackupRestoreTests {
    static let password = "correct horse battery staple"

    @Test(arguments: [Backend.local, .s3])
    func givenMixedFiles_WhenBackedUpAndRestoredIntoANewDirectory_ThenEveryFileIsByteIdentical(backend: Backend) async throws {
        try await roundTrip(backend)
    }

    @Test(.enabled(if: SSHServer.unavailable == nil, "\(SSHServer.unavailable ?? "")"))
    func givenMixedFiles_WhenBackedUpOverSFTPAndRestored_ThenEveryFileIsByteIdentical() async throws {
        try await roundTrip(.sftp)
    }

    private func roundTrip(_ backend: Backend) async throws {
        let directory = try TestDirectory()
        let source = try directory.directory("volumes/data")
        let target = try directory.directory("volumes/restored")
        try await TestData.generate(in: source)
        let want = try await offPool { try TestData.contents(of: source).values.compactMap { $0 } }
        try await backend.with(in: directory) { repository, options in
            var environment = repository
            environment["RESTIC_PASSWORD"] = Self.password
            environment["CAIRN_SANDBOX_MOUNTS"] = #"{"/data/data": "\#(source.path)", "/data/restored": "\#(target.path)"}"#

            let backup = await TestAgent.run(
                .backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/data")], host: "team-a/db", tags: ["config=db"])),
                environment)

            #expect(backup.phase == .succeeded, "\(backup.reason ?? ""): \(backup.message ?? "")")
            #expect(backup.operation == .backup)
            #expect(backup.resticExitCode == 0)
            let volume = try #require(backup.volumes?.first)
            #expect(volume.pvc == "data")
            #expect(volume.phase == .succeeded)
            let id = try #require(volume.resticSnapshotID)
            #expect(id.count == 64, "the full snapshot ID, not restic's short one")
            #expect(volume.files == want.count)
            #expect(volume.size == want.reduce(0) { $0 + $1.count })
            #expect((volume.bytesAdded ?? 0) > 0)
            let snapshots = try await ResticCLI.snapshots(environment, options: options)
            #expect(snapshots.map(\.id) == [id])
            #expect(snapshots.first?.host == "team-a/db")
            #expect(Set(snapshots.first?.tags ?? []) == ["config=db", "pvc=data"])

            let restore = await TestAgent.run(
                .restore(RestoreRequest(snapshot: String(id.prefix(8)), target: "/data/restored", host: "team-a/db", expectedTags: ["pvc=data", "config=db"])),
                environment)

            #expect(restore.phase == .succeeded, "\(restore.reason ?? ""): \(restore.message ?? "")")
            #expect(restore.restored == AgentRestoreFigures(resticSnapshotID: id, files: want.count, bytes: want.reduce(0) { $0 + $1.count }))
            try await TestData.expectIdentical(source, target)
        }
    }

    @Test func givenTwoVolumes_WhenBackedUp_ThenEachGetsItsOwnSnapshotTaggedWithItsPVC() async throws {
        let directory = try TestDirectory()
        let first = try directory.directory("a")
        let second = try directory.directory("b")
        try TestData.write(Data("one".utf8), to: first.appendingPathComponent("one.txt"))
        try TestData.write(Data("two".utf8), to: second.appendingPathComponent("two.txt"))
        let environment = [
            "RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": Self.password,
            "CAIRN_SANDBOX_MOUNTS": #"{"/data/first": "\#(first.path)", "/data/second": "\#(second.path)"}"#,
        ]

        let result = await TestAgent.run(.backup(BackupRequest(
            volumes: [VolumeMount(pvc: "first", mountPath: "/data/first"), VolumeMount(pvc: "second", mountPath: "/data/second")],
            host: "team-a/app", tags: ["session=nightly"], time: RFC3339.parse("2026-01-02T03:04:05Z"))), environment)

        #expect(result.phase == .succeeded, "\(result.message ?? "")")
        #expect(result.volumes?.map(\.pvc) == ["first", "second"])
        #expect(result.volumes?.map(\.files) == [1, 1])
        let snapshots = try await ResticCLI.snapshots(environment)
        #expect(Set(snapshots.map(\.id)) == Set(result.volumes?.compactMap(\.resticSnapshotID) ?? []))
        #expect(Set(snapshots.map { Set($0.tags) }) == [["session=nightly", "pvc=first"], ["session=nightly", "pvc=second"]])
        let listed = try await ResticCLI.run(["snapshots", "--json", "--no-lock"], environment)
        #expect(listed.stdout.contains(#""time":"2026-01-02T03:04:05Z""#), "--time sets the snapshot's time")
    }
}
