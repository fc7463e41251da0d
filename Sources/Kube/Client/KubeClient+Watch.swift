import YAML

extension KubeClient {
    /// Watches a resource type: events as the server sends them, until the server ends the watch
    /// (its `timeoutSeconds`), the connection breaks (the stream throws), or the caller stops
    /// iterating (the request is removed).
    ///
    /// The request starts with the first `next()`, and events are read from the socket only as the
    /// caller asks for them, so a slow consumer holds back the server instead of filling memory.
    /// An `ERROR` event (410 Expired, say) is delivered as `.error`; restarting is the caller's
    /// choice. A refused watch throws `KubeError` from the first `next()`.
    public func watch(_ resource: Resource, namespace: String? = nil,
                      options watchOptions: WatchOptions = WatchOptions()) -> AsyncThrowingStream<WatchEvent, any Error> {
        let reader = WatchReader(client: self, url: url(resource.path(namespace: namespace), query: watchOptions.query))
        return AsyncThrowingStream(unfolding: { try await reader.next() })
    }

    /// Starts the watch request and checks its answer.
    fileprivate func startWatch(_ url: String) async throws -> ResponseStream.Iterator {
        try await limiter.acquire()
        let request = try authorized(try makeRequest(
            "GET", url, body: nil, timeouts: .streaming(connect: options.connectTimeout, idle: options.watchIdleTimeout)))
        var parts = transport.stream(request).makeAsyncIterator()
        try await expectSuccess(&parts, request: request)
        return parts
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

/// Pulls a watch response one event at a time, for `AsyncThrowingStream(unfolding:)`.
private actor WatchReader {
    private let client: KubeClient
    private let url: String
    private var parts: ResponseStream.Iterator?
    private var decoder: WatchDecoder
    /// Events decoded from the last chunk and not yet handed out, in order.
    private var ready: [WatchEvent] = []
    private var ended = false

    init(client: KubeClient, url: String) {
        self.client = client
        self.url = url
        decoder = WatchDecoder(verb: "GET", url: url)
    }

    /// The next event; nil once the server ended the watch or the caller's task was cancelled.
    func next() async throws -> WatchEvent? {
        while ready.isEmpty {
            guard !ended, let part = try await nextPart() else { return nil }
            if case .body(let bytes) = part { ready = try decoder.feed(bytes) }
        }
        return ready.removeFirst()
    }

    private func nextPart() async throws -> StreamPart? {
        // The iterator is copied out and back: an actor's stored property cannot be mutated
        // across a suspension. Only one `next()` runs at a time (the stream's consumer).
        var iterator = if let parts { parts } else { try await client.startWatch(url) }
        let part = try await iterator.next(isolation: self)
        parts = iterator
        if part == nil {
            ended = true
            if !Task.isCancelled { try decoder.finish() }
        }
        return part
    }
}
