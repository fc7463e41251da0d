import Synchronization

/// Sends HTTP requests over a shared `CurlLoop`, bridged to async/await.
///
/// The loop thread stops when the transport is released.
final class HTTPTransport: Sendable {
    let loop = CurlLoop()

    deinit { loop.shutdown() }

    /// Sends a request and waits for the whole response. Cancelling the task removes the request.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id = Mutex<UInt64?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let submitted = loop.submit(request, to: .unary(continuation))
                id.withLock { $0 = submitted }
            }
        } onCancel: {
            if let submitted = id.withLock({ $0 }) { loop.cancel(submitted) }
        }
    }

    /// Starts a request whose body arrives piece by piece: first `.head`, then `.body` chunks.
    ///
    /// Ending the iteration, or cancelling the task that iterates, removes the request.
    func stream(_ request: HTTPRequest) -> AsyncThrowingStream<StreamPart, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: StreamPart.self)
        let id = Mutex<UInt64?>(nil)
        let loop = self.loop
        continuation.onTermination = { _ in
            if let submitted = id.withLock({ $0 }) { loop.cancel(submitted) }
        }
        let submitted = loop.submit(request, to: .stream(continuation))
        id.withLock { $0 = submitted }
        return stream
    }
}
