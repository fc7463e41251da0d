import CairnTesting
import Foundation
import Sandbox
import Testing
import YAML

/// The real kubectl against the sandbox over HTTP, asserting on the store's state.
@Suite(.serialized)
struct KubectlTests {
    @Test func givenTheCRD_WhenABackupConfigurationIsApplied_ThenTheStoreHoldsIt_AndGetYAMLRoundTrips() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()
            try await harness.kubectlOK("apply", "-f", "-", stdin: KubectlHarness.backupConfiguration("db"))

            let stored = try await harness.store.get(KubectlHarness.backupConfigurations, namespace: "default", name: "db")
            #expect(stored[path: "spec", "target", "name"]?.string == "postgres")
            let yaml = try await harness.kubectlOK("get", "bc", "db", "-o", "yaml")
            let fetched = try YAML.parse(yaml)
            #expect(fetched["spec"] == stored["spec"])
            #expect(fetched[path: "metadata", "uid"] == stored[path: "metadata", "uid"])
            #expect(fetched[path: "metadata", "resourceVersion"] == stored[path: "metadata", "resourceVersion"])
        }
    }

    @Test func givenABackupConfiguration_WhenGetPrintsATable_ThenItHasThePrinterColumns() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()
            try await harness.kubectlOK("apply", "-f", "-", stdin: KubectlHarness.backupConfiguration("db"))

            let table = try await harness.kubectlOK("get", "bc")
            let lines = table.split(separator: "\n")
            let header = try #require(lines.first).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            // Storage and Blueprint have priority 1, so only `-o wide` shows them.
            #expect(header == "NAME KIND TARGET PHASE LAST BACKUP NEXT BACKUP RPO MET AGE")
            #expect(lines.dropFirst().contains { $0.hasPrefix("db ") && $0.contains("StatefulSet") && $0.contains("postgres") })
        }
    }

    @Test func givenABackupConfiguration_WhenAnnotatedAndLabelled_ThenTheStoreHasBoth() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()
            try await harness.kubectlOK("apply", "-f", "-", stdin: KubectlHarness.backupConfiguration("db"))

            try await harness.kubectlOK("annotate", "bc", "db", "cairn.dev/note=hello")
            try await harness.kubectlOK("label", "bc", "db", "tier=gold")

            let stored = try await harness.store.get(KubectlHarness.backupConfigurations, namespace: "default", name: "db")
            #expect(stored[path: "metadata", "annotations", "cairn.dev/note"]?.string == "hello")
            #expect(stored[path: "metadata", "labels", "tier"]?.string == "gold")
        }
    }

    @Test func givenABackupConfiguration_WhenDeleted_ThenTheStoreNoLongerHasIt() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()
            try await harness.kubectlOK("apply", "-f", "-", stdin: KubectlHarness.backupConfiguration("db"))

            let output = try await harness.kubectlOK("delete", "bc", "db")

            #expect(output.contains("deleted"))
            await #expect(throws: StatusError.self) {
                try await harness.store.get(KubectlHarness.backupConfigurations, namespace: "default", name: "db")
            }
        }
    }

    @Test func givenAWatchingKubectl_WhenABackupConfigurationIsCreated_ThenItPrintsTheRow() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()
            let row = try await Processes.streaming(KubectlHarness.kubectlPath, harness.baseArguments() + ["get", "bc", "-w", "--request-timeout=30s"]) { watch in
                // kubectl lists, then watches from the list's resourceVersion: the object shows up
                // whether it is created before or after the watch opens.
                try await harness.kubectlOK("apply", "-f", "-", stdin: KubectlHarness.backupConfiguration("watched"))
                return try await watch.firstLine { $0.hasPrefix("watched ") }
            }
            #expect(row.contains("postgres"))
        }
    }

    @Test func givenABadToken_WhenKubectlGets_ThenItSaysUnauthorized() async throws {
        try await KubectlHarness.with { harness in
            let text = try String(contentsOf: harness.kubeconfig, encoding: .utf8).replacingOccurrences(of: "test-token", with: "wrong")
            let bad = harness.directory.appendingPathComponent("bad-kubeconfig")
            try Data(text.utf8).write(to: bad)

            let output = try await Processes.run(KubectlHarness.kubectlPath, harness.baseArguments(kubeconfig: bad) + ["get", "namespaces"])

            #expect(output.status != 0)
            // How kubectl words a 401 Status, as against kube-apiserver: 1.32 (this image's kubectl)
            // says the first; Debian's kubernetes-client 1.20, which scripts/ installs when no
            // kubectl is present, says the second.
            let recognised = [
                "error: You must be logged in to the server (the server has asked for the client to provide credentials)",
                "error: You must be logged in to the server (Unauthorized)",
            ]
            #expect(recognised.contains { output.stderr.contains($0) }, "\(output.stderr)")
        }
    }

    @Test func givenNoSuchObject_WhenKubectlGetsIt_ThenItReportsNotFoundFromTheServer() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()

            let output = try await harness.kubectl("get", "bc", "missing")

            #expect(output.status != 0)
            #expect(output.stderr.contains(#"Error from server (NotFound): backupconfigurations.cairn.dev "missing" not found"#), "\(output.stderr)")
        }
    }

    @Test func givenAnUnknownField_WhenApplied_ThenKubectlReportsItAsTheAPIServerDoes() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()
            let manifest = KubectlHarness.backupConfiguration("typo").replacingOccurrences(of: "  storage:", with: "  storrage: {}\n  storage:")

            let strict = try await harness.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(strict.status != 0)
            #expect(strict.stderr.contains(#"BackupConfiguration in version "v1alpha1" cannot be handled as a BackupConfiguration: strict decoding error: unknown field "spec.storrage""#), "\(strict.stderr)")
            await #expect(throws: StatusError.self) {
                try await harness.store.get(KubectlHarness.backupConfigurations, namespace: "default", name: "typo")
            }

            let warned = try await harness.kubectl("apply", "--validate=warn", "-f", "-", stdin: manifest)
            #expect(warned.status == 0, "\(warned.stderr)")
            #expect(warned.stderr.contains(#"Warning: unknown field "spec.storrage""#), "\(warned.stderr)")
            let stored = try await harness.store.get(KubectlHarness.backupConfigurations, namespace: "default", name: "typo")
            #expect(stored[path: "spec", "storrage"] == nil, "the API server prunes unknown fields")
            #expect(stored[path: "spec", "storage", "name"]?.string == "default")
        }
    }

    @Test func givenAnAppliedObject_WhenAppliedAgainWithAChange_ThenKubectlPatchesIt() async throws {
        try await KubectlHarness.with { harness in
            try await harness.applyCRD()
            try await harness.kubectlOK("apply", "-f", "-", stdin: KubectlHarness.backupConfiguration("db"))
            let changed = KubectlHarness.backupConfiguration("db").replacingOccurrences(of: "0 3 * * *", with: "30 4 * * *")

            let output = try await harness.kubectlOK("apply", "-f", "-", stdin: changed)

            #expect(output.contains("backupconfiguration.cairn.dev/db configured"), "\(output)")
            let stored = try await harness.store.get(KubectlHarness.backupConfigurations, namespace: "default", name: "db")
            #expect(stored[path: "spec", "sessions"]?.sequence?.first?["schedule"]?.string == "30 4 * * *")
            #expect(stored[path: "metadata", "generation"]?.int == 2)
        }
    }

    @Test func givenADeploymentWithTwoContainers_WhenKubectlPatchesOne_ThenTheOtherIsKept() async throws {
        try await KubectlHarness.with { harness in
            let deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - {name: app, image: "x:1"}
                      - {name: sidecar, image: "y:1"}
                """
            try await harness.kubectlOK("create", "-f", "-", stdin: deployment)

            try await harness.kubectlOK("patch", "deployment", "web", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"x:2"}]}}}}"#)

            let stored = try await harness.store.get(Fixture.deployments, namespace: "default", name: "web")
            let containers = stored[path: "spec", "template", "spec", "containers"]?.sequence ?? []
            #expect(containers.map { $0["name"]?.string } == ["app", "sidecar"])
            #expect(containers.map { $0["image"]?.string } == ["x:2", "y:1"])
        }
    }

    @Test func givenAKubectlGenerator_WhenItSendsProtobuf_ThenTheSandboxSaysToApplyYAMLInstead() async throws {
        try await KubectlHarness.with { harness in
            let output = try await harness.kubectl("create", "configmap", "settings", "--from-literal=mode=fast")

            #expect(output.status != 0)
            #expect(output.stderr.contains("the Cairn sandbox reads JSON only"), "\(output.stderr)")
            #expect(output.stderr.contains("kubectl apply -f"), "\(output.stderr)")
        }
    }

    @Test func givenAPodWaitingOnItsConfig_WhenKubectlGetsPods_ThenItShowsReadyAndStatusAsAClusterWould() async throws {
        try await KubectlHarness.with { harness in
            let pods = ResourceID(version: "v1", plural: "pods")
            let pod = try YAML.parse("""
                apiVersion: v1
                kind: Pod
                metadata: {name: db-0, namespace: default}
                spec:
                  nodeName: sandbox-node-1
                  containers: [{name: postgres, image: postgres:16}, {name: exporter, image: exporter:1}]
                """)
            _ = try await harness.store.create(pod, in: pods, namespace: "default")
            var status = try await harness.store.get(pods, namespace: "default", name: "db-0")
            status["status"] = try YAML.parse("""
                phase: Pending
                containerStatuses:
                - {name: postgres, ready: false, restartCount: 2, state: {waiting: {reason: CreateContainerConfigError}}}
                - {name: exporter, ready: true, restartCount: 1, state: {running: {}}}
                """)
            _ = try await harness.store.updateStatus(status, in: pods, namespace: "default", name: "db-0")

            let table = try await harness.kubectlOK("get", "pods", "-o", "wide")

            let rows = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(rows.first?.hasPrefix("NAME READY STATUS RESTARTS AGE IP NODE") == true, "\(table)")
            #expect(rows.dropFirst().first?.hasPrefix("db-0 1/2 CreateContainerConfigError 3 ") == true, "\(table)")
            #expect(rows.dropFirst().first?.hasSuffix(" sandbox-node-1") == true, "\(table)")
        }
    }
}
