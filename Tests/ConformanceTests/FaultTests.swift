import CairnTesting
import Foundation
import Kube
import Sandbox
import Testing
import YAML

/// The client against a troubled server: faults injected into the sandbox, so these tests need
/// it (`sandboxOnly`), or start sandboxes of their own.
@Suite struct FaultTests {
    static let configMaps = Conformance.configMaps

    /// A client for `kubeconfig` with a fast retry policy.
    static func client(_ kubeconfig: URL, retry: RetryPolicy = RetryPolicy()) throws -> KubeClient {
        var options = KubeClientOptions()
        options.retry = retry
        return KubeClient(connection: try KubeConfigLoader(explicitPath: kubeconfig.path).connection(), options: options)
    }

    /// The sandbox's kubeconfig with its cluster or user entry replaced.
    static func kubeconfig(_ cluster: TestCluster, named name: String, cluster entry: Node? = nil, user: Node? = nil) throws -> URL {
        var config = try JSON.parse(try String(contentsOf: cluster.kubeconfig, encoding: .utf8))
        if let entry { config["clusters"] = [.mapping(["name": .string(SandboxServer.contextName), "cluster": entry])] }
        if let user { config["users"] = [.mapping(["name": .string(SandboxServer.contextName), "user": user])] }
        let file = cluster.directory.appendingPathComponent(name)
        try Data(try JSON.emit(config).utf8).write(to: file, options: .atomic)
        return file
    }

    @Test func givenAnOpenWatch_WhenTheServerDropsItMidStream_ThenTheStreamThrowsATransportErrorInsteadOfHanging() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("before-the-cut", in: cluster.namespace))
            let stream = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(allowWatchBookmarks: false))

            let outcome = try await withDeadline("the cut watch to end") { () -> (events: [String], error: (any Error)?) in
                var events: [String] = []
                do {
                    for try await event in stream {
                        events.append(event.summary)
                        if events.count == 1 { server.faults.cutWatches() }
                    }
                    return (events, nil)
                } catch {
                    return (events, error)
                }
            }

            #expect(outcome.events == ["ADDED before-the-cut"])
            let error = try #require(outcome.error as? TransportError, "the stream ended with \(String(describing: outcome.error))")
            #expect(error.kind == .truncated)
            #expect(error.url.contains("/api/v1/namespaces/\(cluster.namespace)/configmaps?watch=true"))
        }
    }

    @Test func givenAResourceVersion_WhenTheHistoryIsCompacted_ThenAWatchResumingFromIt410sAndOneFromNowWorks() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            let first = try await cluster.client.create(Self.configMaps, Conformance.configMap("first", in: cluster.namespace))
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("second", in: cluster.namespace))

            await server.store.compactHistory()

            let options = WatchOptions(resourceVersion: first.resourceVersion, allowWatchBookmarks: false)
            let expired = try await withDeadline("the expiry") {
                try await collect(cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: options)) { _ in true }
            }
            #expect(expired.map(\.summary) == ["ERROR 410"])
            let now = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace).resourceVersion
            let resumed = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(resourceVersion: now, allowWatchBookmarks: false))
            let events = Task { try await collect(resumed) { $0.count == 1 } }
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("third", in: cluster.namespace))
            #expect(try await withDeadline("the resumed watch") { try await events.value }.map(\.summary) == ["ADDED third"])
        }
    }

    @Test func givenRefusedWatches_WhenAClientWatches_ThenServiceUnavailable_WhileOtherRequestsAreServed_AndAcceptingServesAgain() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            let client = try Self.client(cluster.kubeconfig, retry: RetryPolicy(maxAttempts: 1))
            server.faults.refuseWatches()

            let refused = await #expect(throws: KubeError.self) {
                try await collect(client.watch(Self.configMaps, namespace: cluster.namespace)) { _ in true }
            }
            _ = try await client.create(Self.configMaps, Conformance.configMap("served", in: cluster.namespace))
            server.faults.acceptWatches()
            let events = try await withDeadline("the accepted watch") {
                try await collect(client.watch(Self.configMaps, namespace: cluster.namespace)) { $0.count == 1 }
            }

            #expect(refused?.httpCode == 503)
            #expect(refused?.status?.reason == "ServiceUnavailable")
            #expect(events.map(\.summary) == ["ADDED served"])
        }
    }

    @Test func givenARestartedServer_WhenTheClientAsksAgain_ThenItReconnectsAndSeesTheSameStore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-restart-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }  // best-effort cleanup of a temporary directory
        let store = ObjectStore()
        _ = try await store.create(.mapping(["metadata": .mapping(["name": "default"])]), in: .namespaces)
        let first = try SandboxServer(store: store)
        let kubeconfig = directory.appendingPathComponent("kubeconfig")

        let (client, port) = try await first.withRunning { _ in
            try first.writeKubeconfig(to: kubeconfig)
            let client = try Self.client(kubeconfig)
            _ = try await client.create(Self.configMaps, Conformance.configMap("survivor", in: "default"))
            return (client, try #require(first.port))
        }
        let second = SandboxServer(restarting: first, port: port)
        let read = try await second.withRunning { _ in
            try await client.get(Self.configMaps, namespace: "default", name: "survivor")
        }

        #expect(read.name == "survivor")
    }

    @Test func givenAThrottlingStorm_WhenItPassesWithinTheRetries_ThenTheClientWaitsAsToldAndSucceeds() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            let client = try Self.client(cluster.kubeconfig, retry: RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(10)))
            _ = try await client.create(Self.configMaps, Conformance.configMap("settings", in: cluster.namespace))
            server.faults.failNext(2, status: 429, retryAfter: 1)
            let clock = ContinuousClock()
            let start = clock.now

            let read = try await client.get(Self.configMaps, namespace: cluster.namespace, name: "settings")

            #expect(read.name == "settings")
            #expect(server.faults.pendingFailures == 0)
            #expect(clock.now - start >= .seconds(2), "Retry-After: 1, twice")
        }
    }

    @Test func givenAThrottlingStorm_WhenItOutlastsTheRetries_ThenTooManyRequestsWithTheServersStatus() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            let client = try Self.client(cluster.kubeconfig, retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10)))
            server.faults.failNext(5, status: 429, retryAfter: 0)

            let error = await #expect(throws: KubeError.self) { try await client.list(Self.configMaps, namespace: cluster.namespace) }
            let left = server.faults.pendingFailures
            server.faults.clear()

            #expect(error?.kind == .tooManyRequests)
            #expect(error?.httpCode == 429)
            #expect(error?.status?.reason == "TooManyRequests")
            #expect(error?.status?.retryAfterSeconds == 0)
            #expect(left == 2, "three attempts answered")
        }
    }

    @Test func givenAKubeconfigTrustingAnotherCA_WhenTheClientConnects_ThenItRefusesTheServerAndSaysWhy() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            let stranger = try SandboxServer(store: ObjectStore())  // never started: only its fresh CA is used
            let kubeconfig = try Self.kubeconfig(cluster, named: "wrong-ca", cluster: .mapping([
                "server": .string(try #require(server.url).absoluteString),
                "certificate-authority-data": .string(Data(stranger.certificatePEM.utf8).base64EncodedString()),
            ]))
            let client = try Self.client(kubeconfig, retry: RetryPolicy(maxAttempts: 1))

            let error = await #expect(throws: TransportError.self) { try await client.get(TestCluster.namespaces, name: cluster.namespace) }

            #expect(error?.kind == .tls)
            #expect(error?.message.contains("SSL certificate problem") == true, "\(error?.message ?? "")")
            #expect(error?.url.hasPrefix(try #require(server.url).absoluteString) == true)
        }
    }

    @Test func givenARotatedToken_WhenTheClientUsesTheOldOne_ThenUnauthorized_AndARewrittenTokenFileRecovers() async throws {
        try await TestCluster.with { cluster in
            let server = try cluster.sandboxOnly()
            let original = server.token
            let tokenFile = cluster.directory.appendingPathComponent("token")
            try Data(original.utf8).write(to: tokenFile, options: .atomic)
            let kubeconfig = try Self.kubeconfig(cluster, named: "token-file", user: .mapping(["tokenFile": .string(tokenFile.path)]))
            let fileClient = try Self.client(kubeconfig)
            _ = try await fileClient.get(TestCluster.namespaces, name: cluster.namespace)

            server.rotateToken(to: "rotated-\(original)")
            let stale = await #expect(throws: KubeError.self) { try await cluster.client.get(TestCluster.namespaces, name: cluster.namespace) }
            let staleFile = await #expect(throws: KubeError.self) { try await fileClient.get(TestCluster.namespaces, name: cluster.namespace) }
            try Data("rotated-\(original)\n".utf8).write(to: tokenFile, options: .atomic)
            let recovered = try await fileClient.get(TestCluster.namespaces, name: cluster.namespace)
            server.rotateToken(to: original)  // so the test cluster can remove its namespace

            #expect(stale?.kind == .unauthorized)
            #expect(stale?.httpCode == 401)
            #expect(stale?.url == "\(try #require(server.url).absoluteString)/api/v1/namespaces/\(cluster.namespace)")
            #expect(stale?.description.contains("401 unauthorized") == true, "\(stale?.description ?? "")")
            #expect(staleFile?.kind == .unauthorized)
            #expect(recovered.name == cluster.namespace)
        }
    }
}
