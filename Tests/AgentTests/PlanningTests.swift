@testable import Agent
import CairnAPI
import Foundation
import Testing
import YAML

/// The agent's pure decisions, one case at a time: no restic, no server.
@Suite struct PlanningTests {
    /// restic 0.14's own words, as it printed them here.
    @Test(arguments: [
        (Int32(1), ["Fatal: wrong password or no key found"], FailureReason.wrongPassword),
        (1, [#"Fatal: unable to open config file: Stat: Head "http://127.0.0.1:45999/bucket/prefix/config": dial tcp 127.0.0.1:45999: connect: connection refused"#,
             "Is there a repository at the following location?", "s3:http://127.0.0.1:45999/bucket/prefix"], .repositoryUnreachable),
        (1, ["subprocess ssh: ssh: connect to host 127.0.0.1 port 42222: Connection refused",
             "Fatal: create repository at sftp:root@127.0.0.1:/r failed: unable to start the sftp session, error: EOF"], .repositoryUnreachable),
        (1, ["Fatal: unable to open config file: stat /tmp/repo/config: no such file or directory", "Is there a repository at the following location?", "/tmp/repo"], .repositoryMissing),
        (1, ["Fatal: unable to save snapshot: write /mnt/repo/data/cb/cb1d-tmp-3016376737: no space left on device"], .destinationFull),
        (1, ["unable to create lock in backend: repository is already locked by PID 3650 on vm by root (UID 0, GID 0)",
             "lock was created at 2026-11-22 06:50:22 (4m21.988491685s ago)", "storage ID b552daad"], .locked),
        (1, ["Fatal: unable to open config file: Stat: Access Denied."], .accessDenied),
        (12, ["Fatal: wrong password"], .wrongPassword),
        (10, ["Fatal: repository does not exist"], .repositoryMissing),
        (11, ["Fatal: unable to lock"], .locked),
        (1, ["Fatal: something nobody planned for"], .resticFailed),
        (2, [], .resticFailed),
    ])
    func givenResticsExitAndStderr_ThenTheFailureHasItsReason(code: Int32, stderr: [String], reason: FailureReason) {
        let failure = FailureClassifier.classify(code: code, stderr: stderr)

        #expect(failure.reason == reason)
        #expect(failure.resticExitCode == Int(code))
        #expect(!failure.message.isEmpty)
    }

    @Test func givenResticsFatalLine_ThenTheMessageQuotesIt() {
        let failure = FailureClassifier.classify(code: 1, stderr: [#"{"message_type":"error"}"#, "Fatal: something nobody planned for", ""])

        #expect(failure.message == "restic: Fatal: something nobody planned for")
    }

    @Test func givenResticKilledBySIGKILL_ThenTheMessageSaysSo_andThatItsLockStays() {
        let failure = FailureClassifier.classify(code: 128 + SIGKILL, stderr: [])

        #expect(failure.reason == .resticFailed)
        #expect(failure.message == "restic was killed by signal 9 (SIGKILL), most likely by the out-of-memory killer or from outside the Pod; "
            + "its lock stays in the repository until it is stale")
    }

    private static func lock(_ id: String, age: Duration, live: Bool = false) -> ObservedLock {
        ObservedLock(id: id, exclusive: false, hostname: "node", pid: 7, age: age, liveHere: live)
    }

    @Test(arguments: [
        ([lock("a", age: .seconds(10))], StaleLockPlan.nothing),
        ([], .nothing),
        ([lock("a", age: .seconds(7200))], .removeAll(stale: [lock("a", age: .seconds(7200))])),
        ([lock("a", age: .seconds(7200), live: true)], .nothing),
        ([lock("a", age: .seconds(7200)), lock("b", age: .seconds(5))],
         .resticUnlock(stale: [lock("a", age: .seconds(7200))], fresh: [lock("b", age: .seconds(5))])),
    ])
    func givenLocksAndAOneHourThreshold_ThenOnlyStaleOnesArePlannedForRemoval(locks: [ObservedLock], plan: StaleLockPlan) {
        #expect(StaleLockPlan.plan(locks, threshold: .seconds(3600)) == plan)
    }

    @Test(arguments: [
        ("sftp:user@host:/srv/repo", SFTPCommand.Endpoint(user: "user", host: "host", port: nil)),
        ("sftp:host:relative/repo", SFTPCommand.Endpoint(user: nil, host: "host", port: nil)),
        ("sftp://backup@127.0.0.1:2222//srv/repo", SFTPCommand.Endpoint(user: "backup", host: "127.0.0.1", port: 2222)),
        ("sftp://[::1]:2222//srv/repo", SFTPCommand.Endpoint(user: nil, host: "::1", port: 2222)),
        ("sftp://host/repo", SFTPCommand.Endpoint(user: nil, host: "host", port: nil)),
    ])
    func givenAnSFTPRepository_ThenUserHostAndPortAreReadAsResticDoes(repository: String, endpoint: SFTPCommand.Endpoint) throws {
        #expect(try SFTPCommand.parse(repository) == endpoint)
    }

    @Test(arguments: ["sftp:", "sftp://user@host:99999//r", "sftp://@host//r", "sftp://[::1//r"])
    func givenABrokenSFTPRepository_ThenItIsRefusedAsInvalidBackend(repository: String) {
        #expect(throws: AgentFailure.self) { try SFTPCommand.parse(repository) }
    }

    @Test func givenAKey_WhenTheSSHCommandIsMade_ThenTheKeyIsInA0600FileAndNotInTheCommand() throws {
        let directory = try TestDirectory()
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-material\n-----END OPENSSH PRIVATE KEY-----"

        let command = try SFTPCommand.make(
            repository: "sftp://u@h:2022//r", privateKey: key, knownHosts: "[h]:2022 ssh-ed25519 AAAA", scratch: directory.url,
            connectTimeout: .seconds(5), logger: TestAgent.quiet)

        #expect(!command.contains("secret-material"))
        #expect(command.hasSuffix("-p 2022 -l u h -s sftp"))
        #expect(command.contains("StrictHostKeyChecking=yes"))
        let file = directory.url.appendingPathComponent("ssh-key").path
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == key + "\n")
    }

    @Test(arguments: [
        ("rest:https://user:hunter2@backup.example:8000/repo", "rest:https://user:***@backup.example:8000/repo"),
        ("s3:http://127.0.0.1:9000/bucket/prefix", "s3:http://127.0.0.1:9000/bucket/prefix"),
        ("sftp://user@host:22//srv/repo", "sftp://user@host:22//srv/repo"),
        ("/repo", "/repo"),
    ])
    func givenARepositoryString_ThenMessagesShowItWithoutItsPassword(repository: String, shown: String) {
        #expect(RepositoryAccess.redacted(repository) == shown)
    }

    @Test func givenSandboxMounts_ThenMountPathsAndPathsBelowThemMapToHostDirectories() throws {
        let map = try MountMap(environment: ["CAIRN_SANDBOX_MOUNTS": #"{"/data/a": "/host/a", "/data/ab": "/host/ab"}"#])

        #expect(map.directory(for: "/data/a") == "/host/a")
        #expect(map.directory(for: "/data/a/") == "/host/a")
        #expect(map.directory(for: "/data/ab/x") == "/host/ab/x")
        #expect(map.directory(for: "/data/abc") == "/data/abc")
        #expect(try MountMap(environment: [:]).directory(for: "/data/a") == "/data/a")
        #expect(throws: AgentFailure.self) { try MountMap(environment: ["CAIRN_SANDBOX_MOUNTS": "{not json"]) }
    }

    @Test(arguments: [
        ("/host/vol/sub/file", "sub/file"), ("sub/file", "sub/file"), ("/host/vol", "."), ("./x", "x"), ("/elsewhere/y", "elsewhere/y"),
    ])
    func givenResticsErrorItem_ThenItIsReportedRelativeToTheVolume(item: String, relative: String) {
        #expect(Session.relativePath(item, to: "/host/vol") == relative)
    }

    @Test func givenThousandsOfUnreadableFiles_WhenEncoded_ThenTheResultFitsKubernetesLimitAndCountsWhatWasLeftOut() throws {
        var result = AgentResult(operation: .backup, phase: .partiallySucceeded)
        var volume = AgentVolumeResult(pvc: "data", phase: .partiallySucceeded)
        volume.unreadable = (0..<3000).map { "some/rather/long/directory/name/file-\($0).txt" }
        result.volumes = [volume]
        result.message = String(repeating: "m", count: 5000)

        let text = try ResultFile.encode(result)

        #expect(text.utf8.count <= ResultFile.limit)
        let node = try JSON.parse(text)
        let kept = node[path: "volumes"]?.sequence?.first?["unreadable"]?.sequence?.count ?? 0
        #expect(kept > 0)
        #expect(node[path: "volumes"]?.sequence?.first?["omittedUnreadable"]?.int == 3000 - kept)
    }
}
