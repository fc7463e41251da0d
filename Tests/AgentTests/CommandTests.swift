import Agent
import CairnAPI
import CairnTesting
import Foundation
import Testing

/// `cairn agent` through the real binary: the result file, exit codes 0/3/1/2, and no credential in
/// its output.
@Suite struct CommandTests {
    private struct Setup {
        var directory: TestDirectory
        var data: URL
        var log: URL
        var environment: [String: String]
    }

    private func setup() throws -> Setup {
        let directory = try TestDirectory()
        let data = try directory.directory("data")
        try TestData.write(Data("readable".utf8), to: data.appendingPathComponent("ok.txt"))
        let log = directory.url.appendingPathComponent("termination-log")
        let environment = [
            "RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path, "RESTIC_PASSWORD": "s3cr3t-pa55word",
            "CAIRN_SANDBOX_MOUNTS": #"{"/data/data": "\#(data.path)"}"#, "CAIRN_TERMINATION_LOG": log.path,
        ]
        return Setup(directory: directory, data: data, log: log, environment: environment)
    }

    @Test func givenABackup_WhenItSucceeds_ThenItExitsZeroAndWritesTheResultToTheTerminationLogWithoutThePassword() async throws {
        let setup = try setup()

        let output = try await CairnAgent.run(
            ["backup", "--volume", "data=/data/data", "--host", "team-a/db", "--tag", "config=db", "--log-level", "trace"], setup.environment)

        #expect(output.status == 0, "\(output.stderr)")
        let result = try CairnAgent.result(at: setup.log)
        #expect(result.format == AgentResult.currentFormat)
        #expect(result.phase == .succeeded)
        #expect(result.volumes?.first?.files == 1)
        #expect(result.startTime != nil && result.completionTime != nil)
        let written = try String(contentsOf: setup.log, encoding: .utf8)
        for text in [output.stdout, output.stderr, written] {
            #expect(!text.contains("s3cr3t-pa55word"), "the password never reaches logs or the result")
        }
        #expect(output.stderr.contains("volume backed up"))
    }

    @Test func givenAnUnreadableFile_WhenBackedUp_ThenItExitsThreeWithAPartialResultListingTheFile() async throws {
        let setup = try setup()
        let secret = setup.data.appendingPathComponent("sub dir/secret.txt")
        try TestData.write(Data("secret".utf8), to: secret)
        chmod(secret.path, 0o000)
        // As uid 65534 the agent needs a repository and a result file it may write.
        chmod(setup.directory.path, 0o777)
        chmod(setup.data.path, 0o755)

        let output = try await CairnAgent.run(["backup", "--volume", "data=/data/data", "--host", "team-a/db"], setup.environment, asNobody: true)

        #expect(output.status == 3, "\(output.stderr)")
        let result = try CairnAgent.result(at: setup.log)
        #expect(result.phase == .partiallySucceeded)
        #expect(result.reason == "FilesUnreadable")
        #expect(result.resticExitCode == 3)
        let volume = try #require(result.volumes?.first)
        #expect(volume.phase == .partiallySucceeded)
        #expect(volume.unreadable == ["sub dir/secret.txt"])
        #expect(volume.resticSnapshotID?.count == 64, "the snapshot was written all the same")
        #expect(volume.files == 1)
    }

    @Test func givenAWrongPassword_WhenBackingUp_ThenItExitsOneWithWrongPassword() async throws {
        var setup = try setup()
        _ = try await CairnAgent.run(["backup", "--volume", "data=/data/data", "--host", "team-a/db"], setup.environment)
        setup.environment["RESTIC_PASSWORD"] = "not-it"

        let output = try await CairnAgent.run(["backup", "--volume", "data=/data/data", "--host", "team-a/db"], setup.environment)

        #expect(output.status == 1)
        #expect(try CairnAgent.result(at: setup.log).reason == "WrongPassword")
    }

    @Test func givenResultFile_WhenChecking_ThenTheResultGoesThereInsteadOfTheTerminationLog() async throws {
        let setup = try setup()
        _ = try await CairnAgent.run(["backup", "--volume", "data=/data/data", "--host", "team-a/db"], setup.environment)
        let file = setup.directory.url.appendingPathComponent("elsewhere.json")
        try FileManager.default.removeItem(at: setup.log)

        let output = try await CairnAgent.run(["check", "--result-file", file.path], setup.environment)

        #expect(output.status == 0, "\(output.stderr)")
        #expect(try CairnAgent.result(at: file).operation == .check)
        #expect(!FileManager.default.fileExists(atPath: setup.log.path))
    }

    @Test(arguments: [
        (["backup", "--host", "a/b"], "--volume"),
        (["backup", "--volume", "data", "--host", "a/b"], "--volume"),
        (["backup", "--volume", "data=/data/data"], "--host"),
        (["backup", "--volume", "data=/d", "--host", "a/b", "--tag", "a,b=c"], "--tag"),
        (["backup", "--volume", "data=/d", "--host", "a/b", "--stale-lock-age", "banana"], "--stale-lock-age"),
        (["backup", "--volume", "data=/d", "--host", "a/b", "--time", "yesterday"], "--time"),
        (["restore", "--snapshot", "xyz", "--target", "/data/data"], "--snapshot"),
        (["restore", "--snapshot", "0123abcd"], "--target"),
        (["forget", "--host", "a/b"], "--snapshot"),
        (["backup", "--volume", "data=/d", "--host", "a/b", "--no-such-flag"], "--no-such-flag"),
    ])
    func givenBadFlags_WhenRun_ThenItExitsTwoNamingTheFlagAndWritesNoResult(arguments: [String], flag: String) async throws {
        let setup = try setup()

        let output = try await CairnAgent.run(arguments, setup.environment)

        #expect(output.status == 2)
        #expect(output.stderr.contains(flag), "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: setup.log.path))
    }
}
