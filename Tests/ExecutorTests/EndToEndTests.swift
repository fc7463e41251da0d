import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import SandboxNodes
import Testing
import YAML

/// The whole restic path with nothing played by the test: the session runner creates the backup
/// Job, the sandbox's simulated kubelet runs it as the real `cairn agent`, which runs the real
/// restic against a local repository and leaves its result in the termination message, and the
/// runner turns that into a Snapshot. The data then comes back byte for byte.
@Suite struct EndToEndTests {
    /// Files of every sort a volume holds: large and small, nested, with spaces, Unicode and a
    /// leading dash in their names. Returns their paths relative to `directory`.
    static func writeMixedFiles(into directory: URL) throws -> [String] {
        var written: [String] = []
        func write(_ path: String, _ data: Data) throws {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
            written.append(path)
        }
        try write("large.bin", incompressible(count: 6 << 20))
        for index in 0..<150 { try write("small/file-\(index).txt", Data("row \(index)\n".utf8)) }
        try write("odd names/with space.txt", Data("spaces".utf8))
        try write("odd names/ünïcødé-ファイル.txt", Data("unicode".utf8))
        try write("odd names/-leading-dash", Data("dash".utf8))
        try write("empty", Data())
        return written
    }

    /// Runs `body` with a sandbox whose simulated kubelet (one node) runs Job pods as the real
    /// `cairn` binary; the layout says where each PVC's directory is. With `user`, the agent runs
    /// as that user (see ``PodUser``).
    static func withSimulatedNodes(agentUser user: PodUser? = nil,
                                   _ body: @escaping @Sendable (RunnerHarness, NodeLayout) async throws -> Void) async throws {
        try await RunnerHarness.with { harness in
            _ = try harness.cluster.sandboxOnly()
            let root = harness.cluster.directory.appendingPathComponent("nodes")
            let binary = try user?.writeLauncher(in: harness.cluster.directory) ?? Processes.cairnBinary
            let nodes = SimulatedNodes(client: harness.client, configuration: .init(nodes: 1, root: root, cairnBinary: binary), logger: quietLogger())
            let simulated = Task { try await nodes.run() }
            defer { simulated.cancel() }
            try await body(harness, NodeLayout(root: root))
        }
    }

    /// `count` bytes restic cannot deduplicate or compress, from an xorshift generator seeded at
    /// random: eight bytes per step, where a byte per `SystemRandomNumberGenerator` call costs a
    /// syscall each and held one of the two cooperative threads for seconds, starving the tests
    /// running beside it.
    static func incompressible(count: Int) -> Data {
        var state = UInt64.random(in: 1...UInt64.max)
        var data = Data(capacity: count + 8)
        while data.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            withUnsafeBytes(of: state) { data.append(contentsOf: $0) }
        }
        return data.prefix(count)
    }

    /// Restores restic snapshot `id` of PVC `data` (host `<namespace>/deployment-app`) with
    /// `cairn agent restore` into an empty directory, and expects each of `files` to be byte for
    /// byte what `volume` holds. `repository` is the agent's environment without the password.
    static func expectRestoresByteIdentical(_ id: String, repository: [String: String], harness: RunnerHarness, files: [String], of volume: URL,
                                            sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let restored = harness.cluster.directory.appendingPathComponent("restored")
        try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true)
        let environment = repository.merging(["RESTIC_PASSWORD": RunnerHarness.password]) { $1 }.map { "\($0)=\($1)" }
        let restore = try await Processes.run("/usr/bin/env", environment + [
            Processes.cairnBinary, "agent", "restore", "--snapshot", id, "--target", restored.path,
            "--host", "\(harness.namespace)/\(RunnerHarness.configurationName)", "--expect-tag", "pvc=data",
            "--result-file", harness.cluster.directory.appendingPathComponent("restore.json").path,
        ])
        #expect(restore.status == 0, "\(restore.stderr)", sourceLocation: sourceLocation)
        for file in files {
            let original = try Data(contentsOf: volume.appendingPathComponent(file))
            let copy = try Data(contentsOf: restored.appendingPathComponent(file))
            #expect(copy == original, "\(file) differs after the restore", sourceLocation: sourceLocation)
        }
    }

    @Test func givenADeploymentWithAPVCOfMixedFiles_WhenASessionRuns_ThenTheRealAgentWritesASnapshotThatRestoresByteIdentical() async throws {
        try await Self.withSimulatedNodes { harness, layout in
            // Given: a local repository, a password, and PVC data holding mixed files, mounted by Deployment app.
            let repository = try await harness.createLocalRepository()
            try await harness.createClaim("data")
            let volume = layout.volume(namespace: harness.namespace, claim: "data")
            try await eventually("PVC data to be provisioned", .seconds(20)) { FileManager.default.fileExists(atPath: volume.path) }
            let files = try Self.writeMixedFiles(into: volume)
            try await harness.createDeployment("app", claims: ["data"])
            try await harness.createConfiguration()

            try await harness.running { _ in
                // When: a session runs.
                try await harness.createSession("e2e-1")
                let session = try await harness.waitFor("e2e-1", .succeeded, .seconds(120))

                // Then: the agent's figures reached the session, and a Snapshot names the restic snapshot.
                let result = try #require(session.status?.volumes?.first)
                #expect(result.pvc == "data" && result.phase == "Succeeded")
                #expect(result.files == files.count, "\(result)")
                let id = try #require(result.resticSnapshotID)
                let snapshot = try NodeDecoder().decode(
                    Snapshot.self, from: try await harness.client.get(ExecutorResource.snapshots, namespace: harness.namespace, name: "e2e-1-data"))
                #expect(snapshot.spec.resticSnapshotID == id)
                #expect(snapshot.spec.pvc == "data" && snapshot.spec.configuration == RunnerHarness.configurationName)
                #expect(snapshot.spec.hostname == "\(harness.namespace)/\(RunnerHarness.configurationName)")

                // And: restoring it through the agent into an empty directory gives every file back, byte for byte.
                try await Self.expectRestoresByteIdentical(id, repository: ["RESTIC_REPOSITORY": repository], harness: harness, files: files, of: volume)
            }
        }
    }
}

/// A user a pod's `securityContext` names, for the agent to run as. The simulated kubelet runs
/// every container as the test process's user, root here, whom no file permission stops; this
/// launcher stands in for the container runtime's part: it gives the container's home and its
/// termination-message file to the user (kubelet makes that file writable for any user), then
/// runs the real `cairn` as the user, with the fsGroup as a supplementary group.
struct PodUser: Sendable {
    var uid: Int
    var gid: Int
    var fsGroup: Int

    /// The user of ``RunnerHarness/createDeployment(_:claims:)``'s pod template, which the backup Job copies.
    static let deployment = PodUser(uid: 1001, gid: 1002, fsGroup: 2000)

    /// Why the agent cannot run as another user here, or nil when it can.
    static let unavailable: String? = {
        guard getuid() == 0 else { return "switching users needs root; the tests run as uid \(getuid())" }
        return FileManager.default.isExecutableFile(atPath: setpriv) ? nil : "\(setpriv) is missing (Debian package util-linux)"
    }()

    static let setpriv = "/usr/bin/setpriv"

    /// Writes the launcher into `directory`; returns its path, for the simulated kubelet to run in place of `cairn`.
    func writeLauncher(in directory: URL) throws -> String {
        let launcher = directory.appendingPathComponent("cairn-as-\(uid)")
        try """
            #!/bin/sh
            chown \(uid):\(gid) "$HOME" "$CAIRN_TERMINATION_LOG" || exit 127
            exec \(Self.setpriv) --reuid=\(uid) --regid=\(gid) --groups=\(fsGroup) '\(Processes.cairnBinary)' "$@"

            """.write(to: launcher, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: launcher.path)
        return launcher.path
    }
}
