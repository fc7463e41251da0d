import Foundation

/// When and how long to wait before repeating a failed request.
///
/// 429 and 5xx answers are retried for every verb: the server says it did not, or could not, act.
/// Transport failures are retried when nothing was sent (cannot connect), or when the verb is
/// idempotent. A `Retry-After` header in seconds wins over the exponential backoff.
public struct RetryPolicy: Sendable {
    /// Attempts in total, the first included; 1 disables retries.
    public var maxAttempts: Int
    /// The wait before the second attempt; doubled each time after.
    public var initialBackoff: Duration
    /// The longest wait, also the cap on `Retry-After`.
    public var maxBackoff: Duration

    /// Creates a policy; the defaults give up after about 3 seconds of waiting.
    public init(maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(30)) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// Whether an HTTP status is worth another attempt.
    static func isRetryable(status: Int) -> Bool { status == 429 || (500...599).contains(status) && status != 501 }

    /// Whether a transport failure is worth another attempt for this verb.
    static func isRetryable(_ error: TransportError, idempotent: Bool) -> Bool {
        error.kind == .connect || (idempotent && error.kind == .truncated)
    }

    /// The wait after attempt `attempt` (1-based) failed, honouring `Retry-After` seconds.
    func backoff(after attempt: Int, retryAfter: String?) -> Duration {
        if let retryAfter, let seconds = Int(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return min(.seconds(seconds), maxBackoff)
        }
        let factor = 1 << min(attempt - 1, 30)
        return min(initialBackoff * factor, maxBackoff)
    }
}
