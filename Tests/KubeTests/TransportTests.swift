import Foundation
import Testing
@testable import Kube

@Suite struct TransportTests {
    func request(_ url: String, method: String = "GET", body: [UInt8]? = nil, total: Duration = .seconds(5)) -> HTTPRequest {
        HTTPRequest(method: method, url: url, headers: [("Accept", "application/json")], body: body,
                    timeouts: .unary(connect: .seconds(2), total: total), userAgent: "cairn/test")
    }

    @Test func givenAServer_whenPostingABody_thenTheServerReceivesMethodBodyAndHeaders() async throws {
        let server = try ScriptedServer(replies: [.json(201, #"{"ok":true}"#, headers: ["X-Test": "yes"])])
        defer { server.stop() }
        let transport = HTTPTransport()

        let response = try await transport.send(request(server.url + "/a/b?x=1", method: "POST", body: Array("{\"a\":1}".utf8)))

        #expect(response.status == 201)
        #expect(response.headers["x-test"] == "yes")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok":true}"#)
        let received = try #require(server.received.first)
        #expect(received.method == "POST")
        #expect(received.target == "/a/b?x=1")
        #expect(received.bodyText == "{\"a\":1}")
        #expect(received.headers["user-agent"] == "cairn/test")
        #expect(received.headers["expect"] == nil)
    }

    @Test func givenContentLengthLargerThanTheBody_whenReading_thenATruncatedErrorNamesTheURL() async throws {
        let server = try ScriptedServer(replies: [Reply(body: .truncated(Array("{\"a\":".utf8), announced: 100))])
        defer { server.stop() }

        let error = await #expect(throws: TransportError.self) {
            try await HTTPTransport().send(request(server.url + "/short"))
        }

        #expect(error?.kind == .truncated)
        #expect(error?.description.contains(server.url + "/short") == true)
        #expect(error?.curlCode == 18)
    }

    @Test func givenASlowServer_whenTheTotalTimeoutPasses_thenATimeoutErrorIsThrown() async throws {
        let server = try ScriptedServer(replies: [Reply(body: .full([]), delayMilliseconds: 1500)])
        defer { server.stop() }

        let error = await #expect(throws: TransportError.self) {
            try await HTTPTransport().send(request(server.url + "/slow", total: .milliseconds(200)))
        }

        #expect(error?.kind == .timeout)
        #expect(error?.message.contains("timed out") == true)
    }

    @Test func givenNothingListening_whenConnecting_thenAConnectErrorIsThrown() async throws {
        let server = try ScriptedServer(replies: [.json(200, "{}")])
        server.stop()

        let error = await #expect(throws: TransportError.self) {
            try await HTTPTransport().send(request(server.url + "/"))
        }

        #expect(error?.kind == .connect)
    }

    @Test func givenManyConcurrentRequests_whenSentOnOneLoop_thenAllSucceed() async throws {
        let server = try ScriptedServer { request, _ in .json(200, "\"\(request.path)\"") }
        defer { server.stop() }
        let transport = HTTPTransport()

        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<100 {
                group.addTask { String(decoding: try await transport.send(request(server.url + "/\(i)")).body, as: UTF8.self) }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }

        #expect(bodies == Set((0..<100).map { "\"/\($0)\"" }))
        #expect(transport.loop.inFlightCount == 0)
    }

    @Test func givenASlowAnswer_whenTheTaskIsCancelled_thenCancellationErrorAndTheHandleIsRemoved() async throws {
        let server = try ScriptedServer(replies: [Reply(body: .full([]), delayMilliseconds: 2000)])
        defer { server.stop() }
        let transport = HTTPTransport()

        let task = Task { try await transport.send(request(server.url + "/slow")) }
        try await waitUntil { transport.loop.inFlightCount == 1 }
        task.cancel()

        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(transport.loop.inFlightCount == 0)
    }

    @Test func givenACancelledTask_whenSending_thenItFailsWithoutReachingTheServer() async throws {
        let server = try ScriptedServer(replies: [.json(200, "{}")])
        defer { server.stop() }
        let transport = HTTPTransport()

        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await transport.send(request(server.url + "/never"))
        }

        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(server.received.isEmpty)
    }

    @Test func givenASlowStreamConsumer_whenTheServerSendsFaster_thenTheTransferPausesAndLosesNothing() async throws {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let pieces = (0..<60).map { String(repeating: letters[$0 % 26], count: 1024) }
        let server = try ScriptedServer(replies: [.chunks(pieces)])
        defer { server.stop() }
        let transport = HTTPTransport()
        var streaming = request(server.url + "/watch")
        streaming.timeouts = .streaming(connect: .seconds(2), idle: .seconds(30))

        let stream = transport.stream(streaming, highWater: 4096)
        var received: [UInt8] = []
        for try await part in stream {
            guard case .body(let bytes) = part else { continue }
            received += bytes
            try await Task.sleep(for: .milliseconds(2))
        }

        #expect(received == Array(pieces.joined().utf8))
        #expect(stream.backlog.pauses > 0)
        #expect(transport.loop.inFlightCount == 0)
    }

    @Test func givenAStreamingResponse_whenTheTaskIsCancelled_thenTheHandleIsRemoved() async throws {
        let server = try ScriptedServer(replies: [.chunks(["a", "b"], delayMilliseconds: 100, terminate: false)])
        defer { server.stop() }
        let transport = HTTPTransport()
        var streaming = request(server.url + "/watch")
        streaming.timeouts = .streaming(connect: .seconds(2), idle: .seconds(30))

        let task = Task {
            var parts = 0
            for try await _ in transport.stream(streaming) { parts += 1 }
            return parts
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(transport.loop.inFlightCount == 1)
        task.cancel()
        _ = await task.result

        try await waitUntil { transport.loop.inFlightCount == 0 }
    }
}

/// Polls a condition for up to two seconds; for effects on the curl thread.
func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    #expect(condition())
}
