import CairnTesting
import Foundation
import Kube
import RemoteCommand
import Testing
import YAML

/// `pods/exec` over WebSocket: the Kube client against the sandbox, which runs the command as a
/// local process with the container's environment.
@Suite struct ExecTests {
    static let pods = Resource(group: "", version: "v1", plural: "pods", namespaced: true)
    static let secrets = Resource(group: "", version: "v1", plural: "secrets", namespaced: true)

    /// A Pod object (no kubelet runs it; the sandbox execs into it as into a running pod).
    static func pod(_ name: String, in namespace: String, containers: [Node] = [container("app")], phase: String? = nil) -> Node {
        var pod: Node = .mapping([
            "apiVersion": "v1", "kind": "Pod",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]),
            "spec": .mapping(["containers": .sequence(containers)]),
        ])
        if let phase { pod["status"] = .mapping(["phase": .string(phase)]) }
        return pod
    }

    static func container(_ name: String, env: [Node] = []) -> Node {
        .mapping(["name": .string(name), "image": "busybox", "env": .sequence(env)])
    }

    @discardableResult
    static func createPod(_ cluster: TestCluster, _ pod: Node) async throws -> Node {
        var created = try await cluster.client.create(pods, pod)
        if let status = pod["status"] {  // the status subresource ignores status on create
            created["status"] = status
            created = try await cluster.client.updateStatus(pods, created)
        }
        return created
    }

    @Test func givenARunningPod_WhenACommandWritesToBothStreams_ThenStdoutAndStderrArriveApart() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))

            let result = try await cluster.client.exec(namespace: cluster.namespace, pod: "db", command: ["sh", "-c", "echo out; echo err >&2"])

            #expect(result.stdoutText == "out\n")
            #expect(result.stderrText == "err\n")
            #expect(result.exitCode == 0)
        }
    }

    @Test func givenARunningPod_WhenTheCommandExits3_ThenTheResultSays3() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))

            let result = try await cluster.client.exec(namespace: cluster.namespace, pod: "db", command: ["sh", "-c", "echo partial; exit 3"])

            #expect(result.exitCode == 3)
            #expect(result.stdoutText == "partial\n")
        }
    }

    @Test func givenStdin_WhenCatRuns_ThenItsOutputIsTheInput() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))
            let input = Array((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })

            let result = try await cluster.client.exec(namespace: cluster.namespace, pod: "db", command: ["cat"], stdin: input)

            #expect(result.exitCode == 0)
            #expect(result.stdout == input)
        }
    }

    @Test func givenTheStreamingForm_WhenStdinIsWrittenInPieces_ThenOutputArrivesBeforeStdinCloses() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))

            let (echoed, code) = try await cluster.client.withExec(namespace: cluster.namespace, pod: "db", command: ["cat"], stdin: true) { stream in
                var iterator = stream.output.makeAsyncIterator()
                try await stream.write(Array("first\n".utf8))
                let first = try await iterator.next()  // cat echoes before stdin ends
                try await stream.write(Array("second\n".utf8))
                try await stream.closeStdin()
                var rest: [UInt8] = []
                while let chunk = try await iterator.next() { if case .stdout(let bytes) = chunk { rest += bytes } }
                return (first, String(decoding: rest, as: UTF8.self))
            }

            #expect(echoed.0 == .stdout(Array("first\n".utf8)))
            #expect(echoed.1 == "second\n")
            #expect(code == 0)
        }
    }

    @Test func givenEnvInThePodSpec_WhenTheCommandPrintsIt_ThenLiteralAndSecretValuesAreSet() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(Self.secrets, .mapping([
                "apiVersion": "v1", "kind": "Secret",
                "metadata": .mapping(["name": "db-creds", "namespace": .string(cluster.namespace)]),
                "data": .mapping(["password": .string(Data("s3cret".utf8).base64EncodedString())]),
            ]))
            let env: [Node] = [
                .mapping(["name": "PGUSER", "value": "postgres"]),
                .mapping(["name": "PGPASSWORD", "valueFrom": .mapping(["secretKeyRef": .mapping(["name": "db-creds", "key": "password"])])]),
            ]
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace, containers: [Self.container("postgres", env: env)]))

            let result = try await cluster.client.exec(namespace: cluster.namespace, pod: "db", command: ["sh", "-c", "echo $PGUSER:$PGPASSWORD"])

            #expect(result.stdoutText == "postgres:s3cret\n")
        }
    }

    @Test func givenEnvFromAMissingSecret_WhenExecuted_ThenTheErrorNamesTheSecret() async throws {
        try await TestCluster.with { cluster in
            let env: [Node] = [.mapping(["name": "PGPASSWORD", "valueFrom": .mapping(["secretKeyRef": .mapping(["name": "db-creds", "key": "password"])])])]
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace, containers: [Self.container("postgres", env: env)]))

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.exec(namespace: cluster.namespace, pod: "db", command: ["true"])
            }
            #expect(error?.message.contains(#"secret "db-creds" not found"#) == true, "\(String(describing: error))")
        }
    }

    @Test func givenNoSuchPod_WhenExecuted_ThenNotFound() async throws {
        try await TestCluster.with { cluster in
            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.exec(namespace: cluster.namespace, pod: "ghost", command: ["true"])
            }
            #expect(error?.kind == .notFound)
            #expect(error?.httpCode == 404)
            #expect(error?.message == #"pods "ghost" not found"#)
            #expect(error?.url.contains("/pods/ghost/exec?") == true)
        }
    }

    @Test func givenAnUnknownContainer_WhenExecuted_ThenBadRequestWithTheAPIServersMessage() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.exec(namespace: cluster.namespace, pod: "db", container: "sidecar", command: ["true"])
            }
            #expect(error?.kind == .badRequest)
            #expect(error?.message == "container sidecar is not valid for pod db")
        }
    }

    @Test(arguments: ["Succeeded", "Failed"])
    func givenACompletedPod_WhenExecuted_ThenRefused(phase: String) async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("job", in: cluster.namespace, phase: phase))

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.exec(namespace: cluster.namespace, pod: "job", command: ["true"])
            }
            #expect(error?.kind == .badRequest)
            #expect(error?.message == "cannot exec into a container in a completed pod; current phase is \(phase)")
        }
    }

    @Test func givenAClientOfferingOnlyV4_WhenExecuted_ThenTheServerFallsBackToV4() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))

            let (chosen, code) = try await cluster.client.withExec(namespace: cluster.namespace, pod: "db", command: ["sh", "-c", "echo v4; exit 7"],
                                                                   protocols: [.v4]) { stream in
                var out: [UInt8] = []
                for try await case .stdout(let bytes) in stream.output { out += bytes }
                return (stream.streamProtocol, String(decoding: out, as: UTF8.self))
            }

            #expect(chosen.0 == .v4)
            #expect(chosen.1 == "v4\n")
            #expect(code == 7)
        }
    }

    @Test func givenBothProtocolsOffered_WhenExecuted_ThenV5IsChosen() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))

            let (chosen, _) = try await cluster.client.withExec(namespace: cluster.namespace, pod: "db", command: ["true"],
                                                                protocols: [.v4, .v5]) { $0.streamProtocol }

            #expect(chosen == .v5)
        }
    }

    @Test func givenFiveMegabytesOfOutput_WhenExecuted_ThenAllOfItArrivesIntact() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))
            let file = cluster.directory.appendingPathComponent("dump.bin")
            let content = Data((0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
            try content.write(to: file)

            let result = try await cluster.client.exec(namespace: cluster.namespace, pod: "db", command: ["cat", file.path])

            #expect(result.exitCode == 0)
            #expect(result.stdout.count == content.count)
            #expect(result.stdout == Array(content))
        }
    }

    @Test func givenACommandNotInThePath_WhenExecuted_ThenTheRuntimesErrorComesBack() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.exec(namespace: cluster.namespace, pod: "db", command: ["pg_dumpx", "--all"])
            }
            #expect(error?.status?.reason == "InternalError")
            #expect(error?.message.contains(#"exec: "pg_dumpx": executable file not found in $PATH"#) == true, "\(String(describing: error))")
        }
    }

    @Test func givenABadToken_WhenExecuted_ThenUnauthorized() async throws {
        try await TestCluster.with { cluster in
            try await Self.createPod(cluster, Self.pod("db", in: cluster.namespace))
            let text = try String(contentsOf: cluster.kubeconfig, encoding: .utf8)
            let token = try #require(cluster.server?.token)
            let bad = cluster.directory.appendingPathComponent("bad-kubeconfig")
            try Data(text.replacingOccurrences(of: token, with: "wrong").utf8).write(to: bad)
            let client = KubeClient(connection: try KubeConfigLoader(explicitPath: bad.path).connection())

            let error = await #expect(throws: KubeError.self) {
                try await client.exec(namespace: cluster.namespace, pod: "db", command: ["true"])
            }
            #expect(error?.kind == .unauthorized)
            #expect(error?.httpCode == 401)
        }
    }
}
