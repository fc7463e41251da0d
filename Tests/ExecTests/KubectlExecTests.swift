import CairnTesting
import Foundation
import Kube
import Testing
import YAML

/// The real kubectl (WebSocket exec is its default since 1.30) against the sandbox's `pods/exec`.
@Suite struct KubectlExecTests {
    static func kubectl(_ cluster: TestCluster, _ arguments: [String], stdin: String? = nil) async throws -> ProcessOutput {
        let base = ["--kubeconfig", cluster.kubeconfig.path, "--cache-dir", cluster.directory.appendingPathComponent("cache").path,
                    "--request-timeout=30s", "-n", cluster.namespace]
        return try await Processes.run(Processes.kubectlPath, base + arguments, stdin: stdin)
    }

    @Test func givenAPod_WhenKubectlExecsACommandThatExits3_ThenItPrintsBothStreamsAndExits3() async throws {
        try await TestCluster.with { cluster in
            try await ExecTests.createPod(cluster, ExecTests.pod("db", in: cluster.namespace))

            let output = try await Self.kubectl(cluster, ["exec", "db", "--", "sh", "-c", "echo hi; echo err >&2; exit 3"])

            #expect(output.status == 3, "\(output.stderr)")
            #expect(output.stdout == "hi\n")
            #expect(output.stderr.hasPrefix("err\n"), "\(output.stderr)")
            #expect(output.stderr.contains("command terminated with exit code 3"), "\(output.stderr)")
        }
    }

    @Test func givenAPod_WhenKubectlPipesStdin_ThenCatEchoesItAndExits0() async throws {
        try await TestCluster.with { cluster in
            try await ExecTests.createPod(cluster, ExecTests.pod("db", in: cluster.namespace))
            let input = (1...2000).map { "line \($0)\n" }.joined()

            let output = try await Self.kubectl(cluster, ["exec", "-i", "db", "--", "cat"], stdin: input)

            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout == input)
        }
    }

    @Test func givenAPodWithTwoContainers_WhenKubectlNamesAMissingOne_ThenItShowsTheServersMessage() async throws {
        try await TestCluster.with { cluster in
            try await ExecTests.createPod(cluster, ExecTests.pod("db", in: cluster.namespace, containers: [ExecTests.container("app"), ExecTests.container("sidecar")]))

            let output = try await Self.kubectl(cluster, ["exec", "db", "-c", "nope", "--", "true"])

            #expect(output.status != 0)
            #expect(output.stderr.contains("container nope is not valid for pod db"), "\(output.stderr)")
        }
    }

    /// kubectl falls back to SPDY when the WebSocket is refused; NIO drops the head of an upgrade
    /// request no upgrader takes, so the server must still answer it (this once hung until EOF).
    @Test func givenAnSPDYUpgradeRequest_WhenSent_ThenTheServerAnswersWithTheAPIServersStatus() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            try await ExecTests.createPod(cluster, ExecTests.pod("db", in: cluster.namespace))
            let url = try #require(server.url).absoluteString + "/api/v1/namespaces/\(cluster.namespace)/pods/db/exec?command=true&container=nope&stdout=true"
            let ca = cluster.directory.appendingPathComponent("ca.pem")
            try Data(server.certificatePEM.utf8).write(to: ca)

            let output = try await Processes.run("/usr/bin/curl", [
                "-sS", "--max-time", "20", "--cacert", ca.path, "-X", "POST", "-H", "Authorization: Bearer \(server.token)",
                "-H", "Connection: Upgrade", "-H", "Upgrade: SPDY/3.1", "-H", "X-Stream-Protocol-Version: v4.channel.k8s.io",
                "-w", "\n%{http_code}", url,
            ])

            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.hasSuffix("\n400"), "\(output.stdout)")
            #expect(output.stdout.contains("container nope is not valid for pod db"), "\(output.stdout)")
        }
    }
}
