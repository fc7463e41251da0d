import Synchronization

/// Faults a troubled kube-apiserver shows, injected on purpose by tests of clients: throttling
/// storms, watches cut mid-stream. A server without faults set behaves normally.
public final class SandboxFaults: Sendable {
    /// One injected answer.
    struct Failure: Sendable {
        var status: Int
        var retryAfter: Int?
    }

    private let failures = Mutex<[Failure]>([])
    private let watches = Mutex<WatchRegistry?>(nil)
    private let watchRefusal = Mutex<Int?>(nil)

    init() {}

    /// Answers the next `count` authenticated requests with `status` (429 TooManyRequests, 500,
    /// 503, ...) and a `Status` body as kube-apiserver writes it, with `Retry-After: retryAfter`
    /// seconds when given.
    public func failNext(_ count: Int, status: Int = 429, retryAfter: Int? = 1) {
        failures.withLock { $0 += Array(repeating: Failure(status: status, retryAfter: retryAfter), count: count) }
    }

    /// Drops the failures not answered yet.
    public func clear() {
        failures.withLock { $0 = [] }
    }

    /// How many injected failures have not been answered yet.
    public var pendingFailures: Int { failures.withLock { $0.count } }

    /// Drops the connection of every open watch mid-stream, as a crashed server or a cut network
    /// would; later watches are unaffected.
    public func cutWatches() {
        watches.withLock { $0 }?.cutAll()
    }

    /// Answers every watch request with `status` (503 ServiceUnavailable by default) until
    /// ``acceptWatches()``, while other requests are served: with ``cutWatches()``, it keeps a
    /// client's watches down for as long as a test needs.
    public func refuseWatches(status: Int = 503) {
        watchRefusal.withLock { $0 = status }
    }

    /// Serves watch requests again.
    public func acceptWatches() {
        watchRefusal.withLock { $0 = nil }
    }

    /// The refusal for a watch request, while ``refuseWatches(status:)`` is in force.
    func refusedWatch() -> StatusError? {
        watchRefusal.withLock { $0 }.map { StatusError.injected($0, retryAfter: nil) }
    }

    /// How many watches are open on the server.
    public var openWatches: Int { watches.withLock { $0 }?.count ?? 0 }

    /// The injected failure for the current request, if one is due.
    func nextFailure() -> StatusError? {
        guard let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return nil }
        return StatusError.injected(failure.status, retryAfter: failure.retryAfter)
    }

    func attach(_ registry: WatchRegistry) {
        watches.withLock { $0 = registry }
    }
}

extension StatusError {
    /// The `Status` kube-apiserver sends with `code`: `errors.NewTooManyRequests` for 429,
    /// `NewServiceUnavailable` for 503, `NewInternalError` otherwise.
    static func injected(_ code: Int, retryAfter: Int?) -> StatusError {
        switch code {
        case 429:
            var error = StatusError(reason: "TooManyRequests", message: "Too many requests, please try again later.", code: 429, details: nil)
            error.retryAfterSeconds = retryAfter
            return error
        case 503:
            return StatusError(reason: "ServiceUnavailable", message: "the server is currently unable to handle the request", code: 503, details: nil)
        default:
            return StatusError(reason: "InternalError", message: "Internal error occurred: injected fault", code: code, details: nil)
        }
    }
}
