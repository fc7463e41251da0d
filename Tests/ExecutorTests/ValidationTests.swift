import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Testing
import YAML

/// A session whose inputs are wrong fails at once, with a message that names the object, the
/// field and the fix, and a Warning Event; no Job is created and no default password is used.
@Suite struct ValidationTests {
    /// One way a session's inputs can be wrong.
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var reason: String
        /// Fragments the message must contain.
        var mentions: [String]
        var prepare: @Sendable (RunnerHarness) async throws -> Void
    }

    static let cases: [Case] = [
        Case(description: "no configuration", reason: "ConfigurationNotFound",
             mentions: ["spec.configuration", "BackupConfiguration", "deployment-app", "does not exist"]) { _ in },
        Case(description: "no storage", reason: "StorageNotFound", mentions: ["spec.storage", "BackupStorage", "/store", "create it"]) { harness in
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            try await harness.createConfiguration()
        },
        Case(description: "storage of another namespace that allows only its own", reason: "StorageNotAllowed",
             mentions: ["BackupStorage shared-", "may not be used from namespace", "allowedNamespaces.from: Same", "spec.usagePolicy.allowedNamespaces"]) { harness in
            let shared = try await harness.createNamespace("shared")
            try await harness.createStorage(namespace: shared) { $0.spec.credentialsSecret = LocalRef(name: "s3") }
            try await harness.createSecret("s3", ["AWS_ACCESS_KEY_ID": "id"], namespace: shared)
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            try await harness.createConfiguration { $0.spec.storage.namespace = shared }
        },
        Case(description: "no encryptionSecret in the configuration", reason: "EncryptionSecretNotSet",
             mentions: ["spec.encryptionSecret", "never uses a default password", "RESTIC_PASSWORD"]) { harness in
            try await harness.createStorage()
            try await harness.createConfiguration { $0.spec.encryptionSecret = nil }
        },
        Case(description: "the encryption Secret missing", reason: "EncryptionSecretNotFound",
             mentions: ["spec.encryptionSecret", "Secret", "/restic", "does not exist", "RESTIC_PASSWORD"]) { harness in
            try await harness.createStorage()
            try await harness.createConfiguration()
        },
        Case(description: "the encryption Secret without RESTIC_PASSWORD", reason: "EncryptionKeyMissing",
             mentions: ["/restic", "has no key RESTIC_PASSWORD", "spec.encryptionSecret"]) { harness in
            try await harness.createStorage()
            try await harness.createSecret("restic", ["password": "x"])
            try await harness.createConfiguration()
        },
        Case(description: "the target's PVC missing", reason: "PVCNotFound",
             mentions: ["PersistentVolumeClaim", "/data", "does not exist", "spec.volumes.pvcs"]) { harness in
            try await harness.createStorage()
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            try await harness.createDeployment("app", claims: ["data"])
            try await harness.createConfiguration()
        },
        Case(description: "the target workload missing", reason: "TargetNotFound", mentions: ["spec.target", "Deployment", "/app", "does not exist"]) { harness in
            try await harness.createStorage()
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            try await harness.createConfiguration()
        },
        Case(description: "a timeout under a second", reason: "InvalidTimeout", mentions: ["spec.timeout", "\"500ms\"", "at least 1s"]) { harness in
            try await harness.createFixtures { $0.spec.timeout = "500ms" }
        },
    ]

    @Test(arguments: cases)
    func givenABadInput_whenASessionIsCreated_thenItFailsWithAClearMessageAndAWarningEvent(_ bad: Case) async throws {
        try await RunnerHarness.with { harness in
            try await bad.prepare(harness)
            try await harness.running { runner in
                try await harness.createSession("s1")
                let session = try await harness.waitFor("s1", .failed)
                #expect(session.status?.reason == bad.reason)
                let message = session.status?.message ?? ""
                for fragment in bad.mentions { #expect(message.contains(fragment), "\(message) should mention \(fragment)") }
                let warnings = try await harness.events(about: "s1", runner: runner).filter { $0["type"]?.string == "Warning" }
                #expect(warnings.map { $0["reason"]?.string } == [bad.reason])
                #expect(warnings.first?["message"]?.string == message)
                let jobs = try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items
                #expect(jobs.isEmpty)
            }
        }
    }

    @Test func givenAStorageThatOnlyItsNamespaceMayUse_whenASessionElsewhereFails_thenNoCredentialsAreCopiedThere() async throws {
        try await RunnerHarness.with { harness in
            try await Self.cases.first { $0.reason == "StorageNotAllowed" }!.prepare(harness)
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .failed)
                let secrets = try await harness.client.list(ExecutorResource.secrets, namespace: harness.namespace).items.map(\.name)
                #expect(secrets == ["restic"])
            }
        }
    }
}

extension RunnerHarness {
    /// Creates a namespace `<prefix>-<test namespace>`, removed after the test, and returns its name.
    func createNamespace(_ prefix: String) async throws -> String {
        let name = "\(prefix)-\(namespace)"
        let labels = strings([Self.ownerLabel: namespace])
        let object: Node = .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": .string(name), "labels": labels])])
        _ = try await client.create(ExecutorResource.namespaces, object)
        return name
    }
}
