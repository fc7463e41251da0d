import Agent
import CairnAPI
import CairnTesting
import Foundation
import Testing

/// Faults the agent must report with the right reason, never as success.
@Suite struct FailureTests {
    private func volume(_ directory: TestDirectory) throws -> (environment: [String: String], request: AgentRequest) {
        let data = try directory.directory("data")
        try TestData.write(Data("hello".utf8), to: data.appendingPathComponent("hello.txt"))
        let environment = ["CAIRN_SANDBOX_MOUNTS": #"{"/data/data": "\#(data.path)"}"#]
        return (environment, .backup(BackupRequest(volumes: [VolumeMount(pvc: "data", mountPath: "/data/data")], host: "team-a/db")))
    }

    @Test func givenNoPassword_WhenBackingUp_ThenItFailsWithMissingPasswordAndCreatesNoRepository() async throws {
        let directory = try TestDirectory()
        var (environment, request) = try volume(directory)
        let repository = directory.url.appendingPathComponent("repo")
        environment["RESTIC_REPOSITORY"] = repository.path

        let result = await TestAgent.run(request, environment)

        #expect(result.phase == .failed)
        #expect(result.reason == "MissingPassword")
        #expect(result.message?.contains("RESTIC_PASSWORD") == true)
        #expect(!FileManager.default.fileExists(atPath: repository.path), "never a repository with a default password")
    }

    @Test func givenAnotherPassword_WhenBackingUpToAnExistingRepository_ThenItFailsWithWrongPassword() async throws {
        let directory = try TestDirectory()
        var (environment, request) = try volume(directory)
        environment["RESTIC_REPOSITORY"] = directory.url.appendingPathComponent("repo").path
        environment["RESTIC_PASSWORD"] = "the right one"
        #expect(await TestAgent.run(request, environment).phase == .succeeded)
        environment["RESTIC_PASSWORD"] = "a wrong one"

        let result = await TestAgent.run(request, environment)

        #expect(result.phase == .failed)
        #expect(result.reason == "WrongPassword")
        #expect(result.resticExitCode == 1)
        #expect(result.volumes == nil, "it stopped before any volume")
        #expect(result.message?.contains("a wrong one") == false)
    }

    @Test func givenS3WithNothingListening_WhenBackingUp_ThenItFailsFastWithRepositoryUnreachable() async throws {
        let directory = try TestDirectory()
        var (environment, _) = try volume(directory)
        for (key, value) in Moto.repository(port: try Ports.free()) { environment[key] = value }
        environment["RESTIC_PASSWORD"] = "pw"
        let log = directory.url.appendingPathComponent("termination-log")
        environment["CAIRN_TERMINATION_LOG"] = log.path

        // The binary, not the library: its deadline runs on its own threads, not on the test process's busy ones.
        let output = try await CairnAgent.run(["backup", "--volume", "data=/data/data", "--host", "team-a/db", "--connect-timeout", "2s"], environment)

        #expect(output.status == 1)
        let result = try CairnAgent.result(at: log)
        #expect(result.phase == .failed)
        #expect(result.reason == "RepositoryUnreachable", "\(result.message ?? "")")
        // The agent's own deadline ended it, not restic's retries (a quarter of a minute): the words say so.
        // No wall-clock bound: on a loaded 2-core machine one took 14 s with the deadline working.
        #expect(result.message?.contains("did not answer within 2s") == true, "\(result.message ?? "")")
    }

    @Test func givenNoRepository_WhenRestoring_ThenItFailsWithRepositoryMissingAndCreatesNone() async throws {
        let directory = try TestDirectory()
        let target = try directory.directory("target")
        let repository = directory.url.appendingPathComponent("repo")
        let environment = [
            "RESTIC_REPOSITORY": repository.path, "RESTIC_PASSWORD": "pw", "CAIRN_SANDBOX_MOUNTS": #"{"/data/t": "\#(target.path)"}"#,
        ]

        let result = await TestAgent.run(.restore(RestoreRequest(snapshot: "0123abcd", target: "/data/t")), environment)

        #expect(result.phase == .failed)
        #expect(result.reason == "RepositoryMissing", "\(result.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: repository.path))
    }

    @Test func givenASnapshotOfAnotherPVC_WhenRestoringExpectingThisPVC_ThenItIsRefusedAndNothingIsWritten() async throws {
        let directory = try TestDirectory()
        let other = try directory.directory("other")
        let target = try directory.directory("target")
        try TestData.write(Data("not yours".utf8), to: other.appendingPathComponent("secret.txt"))
        let environment = [
            "RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "pw",
            "CAIRN_SANDBOX_MOUNTS": #"{"/data/other": "\#(other.path)", "/data/data": "\#(target.path)"}"#,
        ]
        let backup = await TestAgent.run(.backup(BackupRequest(volumes: [VolumeMount(pvc: "other", mountPath: "/data/other")], host: "team-a/db")), environment)
        let id = try #require(backup.volumes?.first?.resticSnapshotID)

        let result = await TestAgent.run(.restore(RestoreRequest(snapshot: id, target: "/data/data", host: "team-a/db", expectedTags: ["pvc=data"])), environment)

        #expect(result.phase == .failed)
        #expect(result.reason == "SnapshotMismatch")
        #expect(result.message?.contains("lacks tag(s) pvc=data") == true, "\(result.message ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
    }

    @Test func givenAnUnknownSnapshot_WhenRestoring_ThenItFailsWithSnapshotNotFound() async throws {
        let directory = try TestDirectory()
        var (environment, request) = try volume(directory)
        environment["RESTIC_REPOSITORY"] = directory.url.appendingPathComponent("repo").path
        environment["RESTIC_PASSWORD"] = "pw"
        #expect(await TestAgent.run(request, environment).phase == .succeeded)

        let result = await TestAgent.run(.restore(RestoreRequest(snapshot: "0123abcd", target: "/data/data")), environment)

        #expect(result.reason == "SnapshotNotFound")
    }

    @Test(.enabled(if: Tmpfs.unavailable == nil, "\(Tmpfs.unavailable ?? "")"))
    func givenARepositoryOnAFullFileSystem_WhenBackingUp_ThenItFailsWithDestinationFullAndResticsWords() async throws {
        let directory = try TestDirectory()
        var (environment, request) = try volume(directory)
        try TestData.write(TestData.random(4 << 20), to: directory.url.appendingPathComponent("data/big.bin"))
        let mount = try directory.directory("small")
        try await Tmpfs.with(mount, size: "2m") {
            environment["RESTIC_REPOSITORY"] = mount.appendingPathComponent("repo").path
            environment["RESTIC_PASSWORD"] = "pw"

            let result = await TestAgent.run(request, environment)

            #expect(result.phase == .failed)
            #expect(result.reason == "DestinationFull", "\(result.message ?? "")")
            #expect(result.message?.contains("no space left on device") == true)
            #expect(result.volumes?.first?.phase == .failed)
        }
    }
}
