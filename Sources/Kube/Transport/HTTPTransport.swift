/// Sends HTTP requests over a shared `CurlLoop`, bridged to async/await.
///
/// The loop thread stops when the transport is released.
final class HTTPTransport: Sendable {
    let loop = CurlLoop()

    deinit { loop.shutdown() }

    /// Sends a request and waits for the whole response. Cancelling the task removes the request.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = loop.makeID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.submit(id: id, request, to: .unary(continuation))
            }
        } onCancel: {
            loop.cancel(id)
        }
    }

    /// Starts a request whose body arrives piece by piece: first `.head`, then `.body` chunks.
    ///
    /// Ending the iteration, or cancelling the task that iterates, removes the request.
    /// At most about `highWater` unread bytes are buffered; past that the socket is left unread.
    func stream(_ request: HTTPRequest, highWater: Int = 4 << 20) -> ResponseStream {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: StreamPart.self)
        let id = loop.makeID()
        let loop = self.loop
        let backlog = StreamBacklog(highWater: highWater)
        continuation.onTermination = { _ in loop.cancel(id) }
        loop.submit(id: id, request, to: .stream(continuation, backlog))
        return ResponseStream(parts: stream, backlog: backlog, resume: { loop.resume(id) })
    }
}
