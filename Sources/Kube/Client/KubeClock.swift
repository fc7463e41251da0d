/// The time source for rate limiting and retry backoff; tests inject one that never sleeps.
public protocol KubeClock: Sendable {
    /// Monotonic time since an arbitrary origin.
    func now() -> Duration
    /// Waits for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock: `ContinuousClock`.
public struct SystemKubeClock: KubeClock {
    private let origin = ContinuousClock.now

    /// Creates the real clock.
    public init() {}

    /// Time since this clock was created.
    public func now() -> Duration { ContinuousClock.now - origin }

    /// Sleeps on `ContinuousClock`.
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
