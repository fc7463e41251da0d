import YAML

extension KubeClient {
    /// Watches a resource type: events as the server sends them, until the server ends the watch
    /// (its `timeoutSeconds`), the connection breaks (the stream throws), or the caller stops
    /// iterating (the request is removed).
    ///
    /// An `ERROR` event (410 Expired, say) is delivered as `.error`; restarting is the caller's
    /// choice. A refused watch throws `KubeError` from the first `next()`.
    public func watch(_ resource: Resource, namespace: String? = nil,
                      options watchOptions: WatchOptions = WatchOptions()) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (events, continuation) = AsyncThrowingStream.makeStream(of: WatchEvent.self)
        let url = url(resource.path(namespace: namespace), query: watchOptions.query)
        let task = Task {
            do {
                try await streamEvents(from: url, into: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }

    private func streamEvents(from url: String, into continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation) async throws {
        try await limiter.acquire()
        let request = try authorized(try makeRequest(
            "GET", url, body: nil, timeouts: .streaming(connect: options.connectTimeout, idle: options.watchIdleTimeout)))
        var parts = transport.stream(request).makeAsyncIterator()
        try await expectSuccess(&parts, request: request)
        var decoder = WatchDecoder(verb: request.method, url: url)
        while let part = try await parts.next() {
            guard case .body(let bytes) = part else { continue }
            for event in try decoder.feed(bytes) { continuation.yield(event) }
        }
        try decoder.finish()
    }

    /// Reads the head; a non-200 answer is read whole and thrown as `KubeError`.
    private func expectSuccess(_ parts: inout ResponseStream.Iterator, request: HTTPRequest) async throws {
        guard case .head(let status, _)? = try await parts.next() else {
            throw KubeError(kind: .invalidResponse, status: nil, verb: request.method, url: request.url, httpCode: 0,
                            message: "the watch ended before its response headers")
        }
        guard status != 200 else { return }
        var body: [UInt8] = []
        while let part = try await parts.next() { if case .body(let bytes) = part { body += bytes } }
        throw KubeError(verb: request.method, url: request.url, httpCode: status, body: body)
    }
}
