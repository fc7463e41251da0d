/// Jittered exponential backoff, as client-go's `wait.Backoff`: each wait doubles up to `cap`, and
/// is stretched by a random fraction up to `jitter`, so that many clients that failed together do
/// not retry together.
public struct Backoff: Sendable {
    /// The first wait.
    public var initial: Duration
    /// The longest wait, before jitter.
    public var cap: Duration
    /// How much a wait may be stretched at random: 0.5 waits between 1× and 1.5× the step.
    public var jitter: Double
    private var step: Duration

    /// Creates a backoff; the defaults are the informer's: 100 ms doubling to 30 s, jitter 0.5.
    public init(initial: Duration = .milliseconds(100), cap: Duration = .seconds(30), jitter: Double = 0.5) {
        self.initial = initial
        self.cap = cap
        self.jitter = jitter
        step = initial
    }

    /// The next wait; the one after is twice as long, up to `cap`.
    public mutating func next<G: RandomNumberGenerator>(using generator: inout G) -> Duration {
        let base = step
        step = min(step * 2, cap)
        guard jitter > 0 else { return base }
        return base * (1 + Double.random(in: 0..<jitter, using: &generator))
    }

    /// The next wait, with the system's randomness.
    public mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// Starts again from `initial`, after a success.
    public mutating func reset() { step = initial }
}
