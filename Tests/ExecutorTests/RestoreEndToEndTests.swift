import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import SandboxNodes
import Testing
import YAML

/// A restore with nothing played by the test: the session runner backs a volume up through the
/// real `cairn agent` and restic, then the restore runner's Job, run by the simulated kubelet as the
/// real `cairn agent restore`, brings every file back into a new PVC and into the wiped original.
@Suite struct RestoreEndToEndTests {
    /// `sha256sum` of every file under `directory`, by relative path, sorted: the real tool.
    static func checksums(of directory: URL) async throws -> String {
        let output = try await Processes.run("/bin/sh", ["-c", "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum"], in: directory)
        #expect(output.status == 0, "\(output.stderr)")
        return output.stdout
    }

    @Test func givenABackedUpPVCOfMixedFiles_WhenRestoredIntoANewPVC_AndIntoTheWipedOriginal_ThenEveryFileIsByteIdentical() async throws {
        try await EndToEndTests.withSimulatedNodes { harness, layout in
            // Given: PVC data of mixed files, backed up by a session through the real agent.
            try await harness.createLocalRepository()
            try await harness.createClaim("data")
            let volume = layout.volume(namespace: harness.namespace, claim: "data")
            try await eventually("PVC data to be provisioned", .seconds(20)) { FileManager.default.fileExists(atPath: volume.path) }
            let files = try EndToEndTests.writeMixedFiles(into: volume)
            let original = try await Self.checksums(of: volume)
            #expect(original.split(separator: "\n").count == files.count)
            try await harness.createDeployment("app", claims: ["data"])
            try await harness.createConfiguration()

            try await harness.running { _ in
                try await harness.restoring { restorer in
                    try await harness.createSession("e2e-1")
                    try await harness.waitFor("e2e-1", .succeeded, .seconds(120))

                    // When: a restore into a new PVC from a template.
                    try await harness.createRestore("to-new", into: RestoreTarget(pvcTemplate: RunnerHarness.template("data-restored")))
                    let restored = try await harness.waitForRestore("to-new", "Succeeded", .seconds(120))

                    // Then: every file is back, byte for byte, and the figures say so.
                    #expect(restored.status?.snapshot == "e2e-1-data")
                    #expect(restored.status?.pvc == "data-restored")
                    #expect(restored.status?.files == files.count, "\(restored.status?.message ?? "")")
                    let copy = layout.volume(namespace: harness.namespace, claim: "data-restored")
                    #expect(try await Self.checksums(of: copy) == original)

                    // When: the original is wiped and restored in place.
                    for entry in try FileManager.default.contentsOfDirectory(atPath: volume.path) {
                        try FileManager.default.removeItem(at: volume.appendingPathComponent(entry))
                    }
                    try await harness.createRestore("in-place", into: RestoreTarget(pvc: "data"))
                    try await harness.waitForRestore("in-place", "Succeeded", .seconds(120))
                    #expect(try await Self.checksums(of: volume) == original)

                    // And: with the wrong password, restic's failure reaches the restore.
                    var secret = try await harness.client.get(ExecutorResource.secrets, namespace: harness.namespace, name: "restic")
                    secret["data"] = .mapping(["RESTIC_PASSWORD": .string(Data("not the password".utf8).base64EncodedString())])
                    _ = try await harness.client.update(ExecutorResource.secrets, namespace: harness.namespace, secret)
                    try await harness.createRestore("wrong-password", into: RestoreTarget(pvcTemplate: RunnerHarness.template("never")))
                    let failed = try await harness.waitForRestore("wrong-password", "Failed", .seconds(120))
                    #expect(failed.status?.reason == "WrongPassword", "\(failed.status?.message ?? "")")
                    let events = try await harness.events(about: "wrong-password", restorer: restorer)
                    #expect(events.contains { $0["type"]?.string == "Warning" && $0["reason"]?.string == "WrongPassword" })
                }
            }
        }
    }
}
