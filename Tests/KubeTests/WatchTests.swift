import Testing
import YAML
@testable import Kube

@Suite struct WatchTests {
    static let added = #"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"11"}}}"#
    static let modified = #"{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"12"}}}"#
    static let bookmark = #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"13"}}}"#
    static let expired = #"{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version","reason":"Expired","code":410}}"#

    @Test func givenEventsSplitMidLineAcrossChunks_whenWatching_thenEachEventArrivesWhole() async throws {
        let text = [Self.added, Self.modified, Self.bookmark, Self.expired].joined(separator: "\n") + "\n"
        let cut = text.utf8.count / 3
        let pieces = [String(text.prefix(cut)), String(text.dropFirst(cut).prefix(cut)), String(text.dropFirst(2 * cut))]
        let server = try ScriptedServer(replies: [.chunks(pieces, delayMilliseconds: 20)])
        defer { server.stop() }

        var events: [WatchEvent] = []
        for try await event in makeClient(server).watch(
            pods, namespace: "app", options: WatchOptions(resourceVersion: "10", timeoutSeconds: 30)) {
            events.append(event)
        }

        #expect(events.count == 4)
        #expect(events.first == .added(try parse(#"{"metadata":{"name":"a","resourceVersion":"11"}}"#)))
        guard case .bookmark(let marker) = events[2], case .error(let status) = events[3] else {
            Issue.record("unexpected events \(events)")
            return
        }
        #expect(marker[path: "metadata", "resourceVersion"] == "13")
        #expect(status.code == 410 && status.errorKind == .gone)
        let received = try #require(server.received.first)
        #expect(received.path == "/api/v1/namespaces/app/pods")
        #expect(received.query == ["watch": "true", "resourceVersion": "10", "allowWatchBookmarks": "true", "timeoutSeconds": "30"])
    }

    @Test func givenAServerThatDiesMidStream_whenWatching_thenTheCallerSeesEventsThenAnError() async throws {
        let server = try ScriptedServer(replies: [.chunks([Self.added + "\n", #"{"type":"MODI"#], terminate: false)])
        defer { server.stop() }

        var events: [WatchEvent] = []
        let error = await #expect(throws: TransportError.self) {
            for try await event in makeClient(server).watch(pods, namespace: "app") { events.append(event) }
        }

        #expect(events.count == 1)
        #expect(error?.kind == .truncated)
        #expect(error?.url.contains("/api/v1/namespaces/app/pods?watch=true") == true)
    }

    @Test func givenAStreamEndingInsideAnEvent_whenWatching_thenAnInvalidResponseIsThrown() async throws {
        let server = try ScriptedServer(replies: [.chunks([Self.added + "\n", #"{"type":"MODI"#], terminate: true)])
        defer { server.stop() }

        let error = await #expect(throws: KubeError.self) {
            for try await _ in makeClient(server).watch(pods, namespace: "app") {}
        }

        #expect(error?.kind == .invalidResponse)
        #expect(error?.message.contains("ended inside an event") == true)
    }

    @Test func givenAWatchThatFallsSilent_whenTheIdleLimitPasses_thenItEndsWithATimeout() async throws {
        let server = try ScriptedServer(replies: [.chunks([Self.added + "\n", Self.modified + "\n"], delayMilliseconds: 4000, terminate: false)])
        defer { server.stop() }
        var connection = ClusterConnection(server: server.url)
        connection.credentials = .none
        var options = KubeClientOptions()
        options.watchIdleTimeout = .seconds(1)  // libcurl counts the idle limit in whole seconds
        let client = KubeClient(connection: connection, options: options, clock: ManualClock())

        let error = await #expect(throws: TransportError.self) {
            for try await _ in client.watch(pods, namespace: "app") {}
        }

        #expect(error?.kind == .timeout)
        #expect(server.received.count == 1)
    }

    @Test func givenAnExpiredResourceVersion_whenStartingAWatch_thenGoneIsThrown() async throws {
        let server = try ScriptedServer(replies: [status(410, "Expired", "too old resource version: 1 (50)")])
        defer { server.stop() }

        let error = await #expect(throws: KubeError.self) {
            for try await _ in makeClient(server).watch(pods, options: WatchOptions(resourceVersion: "1")) {}
        }

        #expect(error?.kind == .gone)
        #expect(error?.httpCode == 410)
    }

    @Test func givenALongWatch_whenItsTaskIsCancelled_thenTheEasyHandleIsFreed() async throws {
        let server = try ScriptedServer(replies: [.chunks([Self.added + "\n", Self.modified + "\n"], delayMilliseconds: 300, terminate: false)])
        defer { server.stop() }
        let client = makeClient(server)

        let task = Task {
            var count = 0
            for try await _ in client.watch(pods, namespace: "app") { count += 1 }
            return count
        }
        try await waitUntil { client.transport.loop.inFlightCount == 1 }
        task.cancel()
        _ = await task.result

        try await waitUntil { client.transport.loop.inFlightCount == 0 }
    }

    @Test func givenManyWatchesAndRequests_whenRunningTogether_thenOneLoopServesThemAll() async throws {
        let server = try ScriptedServer { request, _ in
            request.query["watch"] == "true" ? .chunks([Self.added + "\n"], delayMilliseconds: 50) : .json(200, "{}")
        }
        defer { server.stop() }
        let client = makeClient(server)

        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<40 {
                group.addTask {
                    if i % 4 == 0 {
                        var count = 0
                        for try await _ in client.watch(pods, namespace: "ns\(i)") { count += 1 }
                        return count
                    }
                    _ = try await client.get(pods, namespace: "ns\(i)", name: "p")
                    return 1
                }
            }
            return try await group.reduce(0, +)
        }

        #expect(total == 40)
        #expect(client.transport.loop.inFlightCount == 0)
    }
}
