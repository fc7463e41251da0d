/// How a `KubeClient` paces, retries and times its requests.
public struct KubeClientOptions: Sendable {
    /// Sustained requests per second; 0 or less disables client-side rate limiting.
    ///
    /// client-go's 5 is meant for kubectl; a controller listing and writing many objects needs more.
    public var qps: Double = 50
    /// Requests that may go at once after a quiet spell.
    public var burst: Int = 100
    /// When to retry 429, 5xx and connection failures.
    public var retry = RetryPolicy()
    /// How long to wait for a TCP and TLS connection.
    public var connectTimeout: Duration = .seconds(10)
    /// How long a request with an answer (everything but watch) may take in total.
    public var requestTimeout: Duration = .seconds(60)
    /// How long a watch may stay completely silent before it is cut; the server sends bookmarks
    /// about once a minute and ends watches after `timeoutSeconds`, so this only catches dead peers.
    public var watchIdleTimeout: Duration = .seconds(330)
    /// The `User-Agent` header.
    public var userAgent = "cairn/\(KubeClient.version)"

    /// The defaults: 50 QPS, burst 100, 5 attempts, 10 s connect, 60 s per request.
    public init() {}
}
