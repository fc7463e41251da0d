import AutoBackup
import CairnAPI
import CairnTesting
import Foundation
import Kube
import Testing
import YAML

extension ControllerProcessTests {
    /// `cairn controller` as a real process against the sandbox over HTTPS: reconciling, probes,
    /// metrics, logs and shutdown.
    @Suite struct ControllerCommandTests {
        @Test func givenCRDsAndABlueprint_WhenTheControllerRunsAndADeploymentIsAnnotated_ThenItsConfigurationAppearsAndTheEndpointsAnswer() async throws {
            try await TestCluster.with { cluster in
                try await cluster.installCRDs()
                try await cluster.createBlueprint()
                let (status, log) = try await CairnController.run(CairnController.arguments(cluster)) { controller in
                    let probes = try await controller.endpoint("--health-probe-bind-address")
                    let metrics = try await controller.endpoint("--metrics-bind-address")
                    #expect(try await httpGet(probes + "/healthz").status == 200)
                    try await eventually("/readyz to answer 200") { try await httpGet(probes + "/readyz").status == 200 }

                    try await cluster.createAnnotatedDeployment("db")
                    let configuration = try await eventually("the BackupConfiguration to appear") { try await cluster.configuration(for: "db") }
                    #expect(configuration[path: "spec", "target", "name"]?.string == "db")

                    let page = try await httpGet(metrics + "/metrics")
                    #expect(page.status == 200)
                    #expect(metric("cairn_leader_election_is_leader", in: page.body) == 1)
                    // AutoBackup's own series reach the Prometheus registry the command bootstrapped.
                    try await eventually("the AutoBackup series on /metrics") {
                        let body = try await httpGet(metrics + "/metrics").body
                        return metric(#"cairn_autobackup_api_writes_total{verb="create"}"#, in: body) == 1
                            && metric("cairn_autobackup_managed_configurations", in: body) == 1
                            && (metric(#"cairn_autobackup_reconciles_total{result="success"}"#, in: body) ?? 0) >= 1
                    }
                    #expect(try await cluster.leaseHolder()?.hasPrefix(ProcessInfo.processInfo.hostName + "_") == true)
                }
                #expect(status == 0)
                // The write's log line names the object it reconciled, in logfmt.
                let created = try #require(log.first { $0.contains("msg=\"created BackupConfiguration deployment-db\"") })
                #expect(logField("key", in: created) == "Deployment \(cluster.namespace)/db")
                #expect(logField("level", in: created) == "info")
                // SIGTERM released the Lease, so a standby need not wait for it to expire.
                #expect(try await cluster.leaseHolder() == "")
                #expect(log.contains { $0.contains("msg=\"released the lease\"") })
            }
        }

        @Test func givenNoCRDs_WhenTheControllerStarts_ThenReadyzSays503WhyUntilTheyAreInstalled() async throws {
            try await TestCluster.with { cluster in
                let (status, _) = try await CairnController.run(CairnController.arguments(cluster, ["--no-leader-elect"])) { controller in
                    let probes = try await controller.endpoint("--health-probe-bind-address")
                    // The BackupConfiguration informer cannot list a resource the server does not serve.
                    try await controller.line("a failed list") { $0.contains("list or watch failed") }
                    #expect(try await httpGet(probes + "/healthz").status == 200)
                    let notReady = try await httpGet(probes + "/readyz")
                    #expect(notReady.status == 503)
                    #expect(notReady.body == "not ready: the informers have not synced yet\n")

                    try await cluster.installCRDs()
                    try await eventually("/readyz to answer 200 once the CRDs are served", .seconds(60)) {
                        try await httpGet(probes + "/readyz").status == 200
                    }
                }
                #expect(status == 0)
                #expect(try await cluster.leaseHolder() == nil)  // no election, no Lease
            }
        }

        @Test func givenTwoNamespaceFlags_WhenThreeNamespacesHaveAnnotatedDeployments_ThenOnlyTheTwoWatchedGetConfigurations() async throws {
            try await TestCluster.with { cluster in
                try await cluster.installCRDs()
                try await cluster.createBlueprint()
                let (watched, unwatched) = (cluster.namespace + "-b", cluster.namespace + "-c")
                for name in [watched, unwatched] {
                    _ = try await cluster.client.create(TestCluster.namespaces, .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": .string(name)])]))
                }
                for namespace in [cluster.namespace, watched, unwatched] { try await cluster.createAnnotatedDeployment("db", in: namespace) }
                let (status, log) = try await CairnController.run(CairnController.arguments(cluster, ["--namespace", watched])) { controller in
                    for namespace in [cluster.namespace, watched] {
                        _ = try await eventually("the configuration in \(namespace)") { try await cluster.configuration(for: "db", in: namespace) }
                    }
                    try await eventually("both creates logged") { controller.writes.count == 2 }
                    try await Task.sleep(for: .seconds(1))  // room for a wrong third write to show
                }
                #expect(status == 0)
                #expect(try await cluster.configuration(for: "db", in: unwatched) == Node?.none)
                #expect(!log.contains { $0.contains("key=\"Deployment \(unwatched)/db\"") })
                // One reconciler per namespace, each saying which it watches.
                #expect(Set(log.filter { $0.contains("msg=\"reconciler stopped\"") }.compactMap { logField("watch", in: $0) }) == [cluster.namespace, watched])
                for name in [watched, unwatched] { _ = try await cluster.client.delete(TestCluster.namespaces, name: name) }
            }
        }

        @Test func givenJSONLogs_WhenADeploymentIsReconciled_ThenEveryLineIsAJSONObjectAndTheWriteCarriesItsKey() async throws {
            try await TestCluster.with { cluster in
                try await cluster.installCRDs()
                try await cluster.createBlueprint()
                try await cluster.createAnnotatedDeployment("db")
                let arguments = CairnController.arguments(cluster, ["--log-format", "json", "--leader-elect=false", "--metrics-bind-address", "0"])
                let (status, log) = try await CairnController.run(arguments) { controller in
                    _ = try await eventually("the BackupConfiguration to appear") { try await cluster.configuration(for: "db") }
                    try await controller.line("the create") { $0.contains("created BackupConfiguration") }
                }
                #expect(status == 0)
                #expect(!log.isEmpty)
                for line in log {
                    let entry = try JSON.parse(line)
                    #expect(entry["time"]?.string != nil && entry["level"]?.string != nil && entry["msg"]?.string != nil, "\(line)")
                }
                let created = try #require(try log.map { try JSON.parse($0) }.first { $0["msg"]?.string == "created BackupConfiguration deployment-db" })
                #expect(created["key"]?.string == "Deployment \(cluster.namespace)/db")
                #expect(!log.contains { $0.contains("--metrics-bind-address") })  // 0 turned it off
            }
        }
    }

    /// `cairn controller` command lines and clusters it cannot start with.
    @Suite struct ControllerStartFailureTests {
        @Test func givenAMissingKubeconfig_WhenTheControllerStarts_ThenItExitsOneNamingTheFile() async throws {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString)/kubeconfig").path
            let result = try await CairnController.runToEnd(["controller", "--kubeconfig", path])
            #expect(result.status == 1)
            #expect(result.stderr.contains("cairn controller: cannot connect"))
            #expect(result.stderr.contains(path))
        }

        @Test func givenAnAPIServerThatIsNotThere_WhenTheControllerStarts_ThenItExitsOneSayingSo() async throws {
            try await TestCluster.with { cluster in
                // The sandbox's kubeconfig, pointed at a port where nothing listens.
                let text = try String(contentsOf: cluster.kubeconfig, encoding: .utf8)
                let port = try #require(cluster.server?.port)
                let moved = cluster.directory.appendingPathComponent("unreachable.kubeconfig")
                try text.replacingOccurrences(of: "127.0.0.1:\(port)", with: "127.0.0.1:1").write(to: moved, atomically: true, encoding: .utf8)
                let result = try await CairnController.runToEnd(["controller", "--kubeconfig", moved.path])
                #expect(result.status == 1)
                #expect(result.stderr.contains("cannot reach the API server at https://127.0.0.1:1"))
            }
        }

        @Test func givenNoLeaseNamespace_WhenTheControllerStarts_ThenItExitsOneNamingIt() async throws {
            try await TestCluster.with { cluster in
                let result = try await CairnController.runToEnd(["controller", "--kubeconfig", cluster.kubeconfig.path])
                #expect(result.status == 1)
                #expect(result.stderr.contains("the leader election namespace \"cairn-system\" does not exist"))
                #expect(result.stderr.contains("--leader-election-namespace"))
            }
        }

        @Test(arguments: ["--metrics-bind-address", "--health-probe-bind-address"])
        func givenAPortInUse_WhenTheControllerStarts_ThenItExitsOneNamingTheFlag(flag: String) async throws {
            try await TestCluster.with { cluster in
                let taken = "127.0.0.1:\(try #require(cluster.server?.port))"  // the sandbox listens there
                let result = try await CairnController.runToEnd(CairnController.arguments(cluster, [flag, taken]))
                #expect(result.status == 1)
                #expect(result.stderr.contains("cairn controller: \(flag) \(taken): cannot listen"))
            }
        }

        @Test(arguments: [
            ["controller", "--no-such-flag"],
            ["controller", "--lease-duration", "2s", "--renew-deadline", "3s"],
            ["controller", "--retry-period", "soon"],
            ["controller", "--metrics-bind-address", "localhost"],
            ["controller", "--health-probe-bind-address", "127.0.0.1:99999"],
            ["controller", "--namespace", "Not_A_Namespace"],
            ["controller", "--log-format", "xml"],
            ["controller", "--leader-elect=maybe"],
            ["controller", "--kube-api-qps", "-1"],
            ["controller", "--kube-api-burst", "0"],
        ])
        func givenABadCommandLine_WhenTheControllerStarts_ThenItExitsTwo(arguments: [String]) async throws {
            let result = try await CairnController.runToEnd(arguments)
            #expect(result.status == 2)
            #expect(!result.stderr.isEmpty)
        }

        @Test(arguments: [
            (["controller", "--max-running-backups=-1"], "--max-running-backups -1 must be 0 (no limit) or more."),
            (["controller", "--max-running-backups-per-node=-3"], "--max-running-backups-per-node -3 must be 0 (no limit) or more."),
            (["controller", "--agent-image", "my image"], "--agent-image \"my image\" is not an image reference"),
        ])
        func givenABadExecutorFlag_WhenTheControllerStarts_ThenItExitsTwoNamingTheFlag(arguments: [String], message: String) async throws {
            let result = try await CairnController.runToEnd(arguments)
            #expect(result.status == 2)
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}
