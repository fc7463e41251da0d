import Testing
import YAML
@testable import Kube

@Suite struct RetryAndRateTests {
    @Test func givenA429Storm_whenGetting_thenRetryAfterIsHonouredUntilSuccess() async throws {
        let throttled = Reply.json(429, #"{"kind":"Status","reason":"TooManyRequests","code":429}"#, headers: ["Retry-After": "3"])
        let server = try ScriptedServer(replies: [throttled, throttled, throttled, .json(200, #"{"metadata":{"name":"web"}}"#)])
        defer { server.stop() }
        let clock = ManualClock()

        let pod = try await makeClient(server, clock: clock).get(pods, namespace: "app", name: "web")

        #expect(pod[path: "metadata", "name"] == "web")
        #expect(server.received.count == 4)
        #expect(clock.sleeps == [.seconds(3), .seconds(3), .seconds(3)])
    }

    @Test func givenA5xxThatPersists_whenCreating_thenItIsRetriedWithBackoffAndTheLastErrorThrown() async throws {
        let server = try ScriptedServer { _, index in
            .json(503, #"{"kind":"Status","reason":"ServiceUnavailable","message":"attempt \#(index + 1)","code":503}"#)
        }
        defer { server.stop() }
        let clock = ManualClock()
        let client = makeClient(server, clock: clock, retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(100)))

        let error = await #expect(throws: KubeError.self) {
            try await client.create(pods, namespace: "app", try parse(#"{"metadata":{"name":"web"}}"#))
        }

        #expect(error?.httpCode == 503)
        #expect(error?.message == "attempt 3")
        #expect(server.received.count == 3)
        #expect(clock.sleeps == [.milliseconds(100), .milliseconds(200)])
    }

    @Test func givenANotFound_whenGetting_thenItIsNotRetried() async throws {
        let server = try ScriptedServer(replies: [status(404, "NotFound", "gone")])
        defer { server.stop() }
        let clock = ManualClock()

        await #expect(throws: KubeError.self) { try await makeClient(server, clock: clock).get(pods, namespace: "app", name: "web") }

        #expect(server.received.count == 1)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func givenATruncatedAnswerToAGet_whenRetriesRunOut_thenTheTransportErrorIsThrown() async throws {
        let server = try ScriptedServer(replies: [Reply(body: .truncated(Array("{".utf8), announced: 50))])
        defer { server.stop() }
        let client = makeClient(server, retry: RetryPolicy(maxAttempts: 2))

        let error = await #expect(throws: TransportError.self) { try await client.get(pods, namespace: "app", name: "web") }

        #expect(error?.kind == .truncated)
        #expect(error?.url == server.url + "/api/v1/namespaces/app/pods/web")
        #expect(server.received.count == 2)
    }

    @Test func givenABurstOf2At1QPS_whenTakingFourTokens_thenTheThirdAndFourthWait() {
        let clock = ManualClock()
        let bucket = TokenBucket(qps: 1, burst: 2, clock: clock)

        let waits = (0..<4).map { _ in bucket.reserve() }

        #expect(waits == [.zero, .zero, .seconds(1), .seconds(2)])
        clock.advance(by: .seconds(10))
        #expect(bucket.reserve() == .zero)
    }

    @Test func givenALowQPS_whenRequestsOutrunIt_thenTheClientSleepsOnTheInjectedClock() async throws {
        let server = try ScriptedServer(replies: [.json(200, "{}")])
        defer { server.stop() }
        let clock = ManualClock()
        var connection = ClusterConnection(server: server.url)
        connection.credentials = .none
        var options = KubeClientOptions()
        options.qps = 2
        options.burst = 1
        let client = KubeClient(connection: connection, options: options, clock: clock)

        for _ in 0..<3 { _ = try await client.get(pods, namespace: "app", name: "web") }

        #expect(clock.sleeps == [.milliseconds(500), .milliseconds(500)])
        #expect(server.received.allSatisfy { $0.headers["authorization"] == nil })
    }
}
