import AutoBackup
import CairnTesting
import Foundation
import Kube
import Testing
import YAML

/// `cairn restore` against a cluster: the real binary with the test cluster's kubeconfig; what it
/// creates is read back through the client.
@Suite struct RestoreLiveTests {
    static let restores = Resource(group: "cairn.dev", version: "v1alpha1", plural: "restoresessions", namespaced: true)

    static func withConfiguration(_ body: @Sendable @escaping (TestCluster) async throws -> Void) async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            _ = try await cluster.client.create(CairnResource.configurations, namespace: cluster.namespace,
                                                try BackupNowLiveTests.configuration("deployment-pg", namespace: cluster.namespace, sessions: ["nightly"]))
            try await body(cluster)
        }
    }

    static func restore(_ cluster: TestCluster, _ arguments: [String]) async throws -> ProcessOutput {
        try await Processes.run(CairnProcess.binary.path, ["restore"] + arguments + ["-n", cluster.namespace, "--kubeconfig", cluster.kubeconfig.path])
    }

    @Test func givenAConfiguration_whenRestoreNamesANewPVC_thenARestoreSessionWithThatTemplateIsCreated() async throws {
        try await Self.withConfiguration { cluster in
            let result = try await Self.restore(cluster, [
                "deployment-pg", "--new-pvc", "pg-restored", "--size", "5Gi", "--storage-class", "fast", "--pvc", "data",
                "--before", "2026-11-21T01:30:00Z", "--allow-different-pvc",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let line = result.stdout.trimmingCharacters(in: .newlines)
            #expect(line.hasPrefix("restoresession.cairn.dev/deployment-pg-restore-") && line.hasSuffix(" created"), "\(line)")
            let name = String(line.dropFirst("restoresession.cairn.dev/".count).dropLast(" created".count))
            let restore = try await cluster.client.get(Self.restores, namespace: cluster.namespace, name: name)
            #expect(restore[path: "spec", "source", "configuration"]?.string == "deployment-pg")
            #expect(restore[path: "spec", "source", "snapshot"]?.string == "latest")
            #expect(restore[path: "spec", "source", "pvc"]?.string == "data")
            #expect(restore[path: "spec", "source", "before"]?.string == "2026-11-21T01:30:00Z")
            #expect(restore[path: "spec", "target", "pvc"] == nil)
            #expect(restore[path: "spec", "target", "allowDifferentPVC"]?.bool == true)
            #expect(restore[path: "spec", "target", "pvcTemplate", "name"]?.string == "pg-restored")
            #expect(restore[path: "spec", "target", "pvcTemplate", "spec", "resources", "requests", "storage"]?.string == "5Gi")
            #expect(restore[path: "spec", "target", "pvcTemplate", "spec", "storageClassName"]?.string == "fast")
            #expect(restore[path: "spec", "target", "pvcTemplate", "spec", "accessModes"]?.sequence?.first?.string == "ReadWriteOnce")
        }
    }

    @Test func givenAConfiguration_whenRestoreNamesAnExistingPVCAndASnapshot_thenTheRestoreSessionSaysSo_underItsGivenName() async throws {
        try await Self.withConfiguration { cluster in
            let result = try await Self.restore(cluster, ["deployment-pg", "--to-pvc", "data", "--snapshot", "snap-1", "--name", "undo-friday"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "restoresession.cairn.dev/undo-friday created\n")
            let restore = try await cluster.client.get(Self.restores, namespace: cluster.namespace, name: "undo-friday")
            #expect(restore[path: "spec", "source", "snapshot"]?.string == "snap-1")
            #expect(restore[path: "spec", "target", "pvc"]?.string == "data")
            #expect(restore[path: "spec", "target", "pvcTemplate"] == nil)
            #expect(restore[path: "spec", "target", "allowDifferentPVC"] == nil)
        }
    }

    /// Plays the restore runner: waits for restore `name`, then writes `status` on it.
    static func finish(_ cluster: TestCluster, _ name: String, _ status: Node) async throws {
        var restore = try await eventually("RestoreSession \(name) to be created", .seconds(20)) { () async throws -> Node? in
            do {
                return try await cluster.client.get(Self.restores, namespace: cluster.namespace, name: name)
            } catch let error as KubeError where error.kind == .notFound {
                return nil
            }
        }
        restore["status"] = status
        _ = try await cluster.client.updateStatus(Self.restores, namespace: cluster.namespace, restore)
    }

    @Test func givenWait_whenTheRestoreSucceedsOrFails_thenTheCommandSaysHowItEnded_andExits0Or1() async throws {
        try await Self.withConfiguration { cluster in
            async let succeeded = Self.restore(cluster, ["deployment-pg", "--to-pvc", "data", "--name", "good", "--wait", "--wait-timeout", "30"])
            try await Self.finish(cluster, "good", .mapping(["phase": "Succeeded", "reason": "Restored", "message": "restored 3 files (12 bytes)"]))
            let good = try await succeeded
            #expect(good.status == 0, "\(good.stderr)")
            #expect(good.stdout == "restoresession.cairn.dev/good created\nrestoresession.cairn.dev/good Succeeded: restored 3 files (12 bytes)\n")

            async let failed = Self.restore(cluster, ["deployment-pg", "--to-pvc", "data", "--name", "bad", "--wait", "--wait-timeout", "30"])
            try await Self.finish(cluster, "bad", .mapping(["phase": "Failed", "reason": "WrongPassword", "message": "wrong password"]))
            let bad = try await failed
            #expect(bad.status == 1)
            #expect(bad.stderr == "cairn restore: restoresession.cairn.dev/bad Failed (WrongPassword): wrong password\n")

            // Nobody runs it: the wait ends at its deadline, saying how to follow it.
            let late = try await Self.restore(cluster, ["deployment-pg", "--to-pvc", "data", "--name", "late", "--wait", "--wait-timeout", "2"])
            #expect(late.status == 1)
            #expect(late.stderr.contains("restoresession.cairn.dev/late did not finish within 2 s; follow it with kubectl get restoresession late"), "\(late.stderr)")
        }
    }

    @Test func givenBadFlags_whenRestore_thenItExits2_withTheFix_andCreatesNothing() async throws {
        try await Self.withConfiguration { cluster in
            let cases: [([String], String)] = [
                (["deployment-pg"], "Name where to restore: --to-pvc <existing pvc>, or --new-pvc <name> --size <quantity>"),
                (["deployment-pg", "--to-pvc", "a", "--new-pvc", "b", "--size", "1Gi"], "--to-pvc and --new-pvc contradict each other"),
                (["deployment-pg", "--new-pvc", "b"], "--new-pvc b needs --size, as in --size 10Gi"),
                (["deployment-pg", "--to-pvc", "a", "--size", "1Gi"], "--size and --storage-class describe a new PVC; use them with --new-pvc"),
                (["deployment-pg", "--to-pvc", "a", "--snapshot", "snap-1", "--before", "2026-11-21T01:30:00Z"], "goes with --snapshot latest"),
                (["deployment-pg", "--to-pvc", "a", "--before", "yesterday"], "--before yesterday is not an RFC 3339 time; write it like 2026-11-21T01:30:00Z"),
            ]
            for (arguments, message) in cases {
                let result = try await Self.restore(cluster, arguments)
                #expect(result.status == 2, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            }
            #expect(try await cluster.client.list(Self.restores, namespace: cluster.namespace).items.isEmpty)
        }
    }

    @Test func givenNoSuchConfiguration_whenRestore_thenItExits1_namingIt_andCreatesNothing() async throws {
        try await Self.withConfiguration { cluster in
            let result = try await Self.restore(cluster, ["nope", "--to-pvc", "data"])
            #expect(result.status == 1)
            #expect(result.stderr.trimmingCharacters(in: .newlines) == #"cairn restore: backupconfiguration.cairn.dev "nope" not found in namespace \#(cluster.namespace); list them with kubectl get backupconfigurations -n \#(cluster.namespace)"#)
            #expect(try await cluster.client.list(Self.restores, namespace: cluster.namespace).items.isEmpty)
        }
    }
}
