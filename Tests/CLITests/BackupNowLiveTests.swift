import AutoBackup
import CairnTesting
import Foundation
import Kube
import Testing
import YAML

/// `cairn backup now` against a cluster: the real binary with the test cluster's kubeconfig.
@Suite struct BackupNowLiveTests {
    static let sessions = Resource(group: "cairn.dev", version: "v1alpha1", plural: "backupsessions", namespaced: true)

    /// Configuration `name` in `namespace` with one session per name in `sessions`.
    static func configuration(_ name: String, namespace: String, sessions: [String]) throws -> Node {
        try YAML.parse("""
            apiVersion: cairn.dev/v1alpha1
            kind: BackupConfiguration
            metadata: {name: \(name), namespace: \(namespace)}
            spec:
              target: {apiVersion: apps/v1, kind: Deployment, name: pg}
              storage: {name: default}
              sessions:
            \(sessions.map { "    - {name: \($0), schedule: \"@daily\"}" }.joined(separator: "\n"))
            """)
    }

    static func withConfigurations(_ body: @Sendable @escaping (TestCluster) async throws -> Void) async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            for (name, sessions) in [("deployment-pg", ["nightly", "weekly"]), ("deployment-solo", ["nightly"])] {
                _ = try await cluster.client.create(
                    CairnResource.configurations, namespace: cluster.namespace, try configuration(name, namespace: cluster.namespace, sessions: sessions))
            }
            try await body(cluster)
        }
    }

    static func backupNow(_ cluster: TestCluster, _ arguments: [String]) async throws -> ProcessOutput {
        try await Processes.run(
            CairnProcess.binary.path, ["backup", "now"] + arguments + ["-n", cluster.namespace, "--kubeconfig", cluster.kubeconfig.path])
    }

    @Test func givenAConfiguration_whenBackupNowNamesASession_thenAManualSessionIsCreated_andNamedAsKubectlWould() async throws {
        try await Self.withConfigurations { cluster in
            let result = try await Self.backupNow(cluster, ["deployment-pg", "--session", "weekly"])
            #expect(result.status == 0, "\(result.stderr)")
            let line = result.stdout.trimmingCharacters(in: .newlines)
            let prefix = "backupsession.cairn.dev/deployment-pg-weekly-manual-"
            #expect(line.hasPrefix(prefix) && line.hasSuffix(" created"), "\(line)")
            let name = String(line.dropFirst("backupsession.cairn.dev/".count).dropLast(" created".count))
            let stamp = name.dropFirst("deployment-pg-weekly-manual-".count)
            #expect(stamp.count == 14 && stamp.allSatisfy(\.isNumber), "\(name)")
            let session = try await cluster.client.get(Self.sessions, namespace: cluster.namespace, name: name)
            #expect(session[path: "spec", "trigger"]?.string == "Manual")
            #expect(session[path: "spec", "configuration"]?.string == "deployment-pg")
            #expect(session[path: "spec", "session"]?.string == "weekly")
            #expect(session[path: "spec", "scheduledTime"] == nil)
            #expect(session[path: "metadata", "ownerReferences"]?.sequence?.first?["name"]?.string == "deployment-pg")
            #expect(session[path: "metadata", "labels", "cairn.dev/session"]?.string == "weekly")
        }
    }

    @Test func givenAConfigurationWithOneSession_whenBackupNowNamesNone_thenThatSessionRuns() async throws {
        try await Self.withConfigurations { cluster in
            let result = try await Self.backupNow(cluster, ["deployment-solo"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("backupsession.cairn.dev/deployment-solo-nightly-manual-"))
        }
    }

    @Test func givenBadInput_whenBackupNow_thenItExits1_withAMessageThatSaysWhatToDo_andCreatesNothing() async throws {
        try await Self.withConfigurations { cluster in
            let namespace = cluster.namespace
            let cases: [([String], String)] = [
                (["nope"], #"cairn backup now: backupconfiguration.cairn.dev "nope" not found in namespace \#(namespace); list them with kubectl get backupconfigurations -n \#(namespace)"#),
                (["deployment-pg"], "cairn backup now: BackupConfiguration \(namespace)/deployment-pg has sessions nightly, weekly; pick one with --session"),
                (["deployment-pg", "--session", "hourly"],
                 #"cairn backup now: BackupConfiguration \#(namespace)/deployment-pg has no session "hourly" in spec.sessions; its sessions are nightly, weekly"#),
            ]
            for (arguments, message) in cases {
                let result = try await Self.backupNow(cluster, arguments)
                #expect(result.status == 1, "\(arguments)")
                #expect(result.stderr.trimmingCharacters(in: .newlines) == message)
                #expect(result.stdout.isEmpty)
            }
            #expect(try await cluster.client.list(Self.sessions, namespace: namespace).items.isEmpty)
        }
    }

    @Test func givenNoConfigurationName_whenBackupNow_thenItIsAUsageError() async throws {
        let result = try await Processes.run(CairnProcess.binary.path, ["backup", "now"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("Missing expected argument '<config>'"))
    }
}
