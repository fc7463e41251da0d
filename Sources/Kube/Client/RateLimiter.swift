import Synchronization

/// A token bucket like client-go's: `qps` tokens a second, at most `burst` saved up.
///
/// A caller that finds the bucket empty reserves the next token (the count goes negative) and
/// sleeps until it is due, so waiting callers are served in arrival order without polling.
final class TokenBucket: Sendable {
    private let qps: Double
    private let burst: Double
    private let clock: any KubeClock
    private let state: Mutex<(tokens: Double, last: Duration)>

    init(qps: Double, burst: Int, clock: any KubeClock) {
        self.qps = qps
        self.burst = Double(max(1, burst))
        self.clock = clock
        state = Mutex((Double(max(1, burst)), clock.now()))
    }

    /// Takes one token, sleeping until one is available. A non-positive `qps` disables limiting.
    func acquire() async throws {
        guard qps > 0 else { return }
        let wait = reserve()
        if wait > .zero { try await clock.sleep(for: wait) }
    }

    /// Takes a token now, possibly on credit, and returns how long until it is really ours.
    func reserve() -> Duration {
        let now = clock.now()
        return state.withLock { state in
            let elapsed = Double((now - state.last).components.attoseconds) / 1e18 + Double((now - state.last).components.seconds)
            state.tokens = min(burst, state.tokens + max(0, elapsed) * qps)
            state.last = now
            state.tokens -= 1
            return state.tokens >= 0 ? .zero : .seconds(-state.tokens / qps)
        }
    }
}
