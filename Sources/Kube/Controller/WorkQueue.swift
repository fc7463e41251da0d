/// The queue of keys a controller's workers reconcile, with client-go's guarantees:
///
/// - A key is queued at most once: adding a key that waits already changes nothing.
/// - A key is never handed to two workers at once: a key added while a worker holds it waits
///   until that worker calls `done(_:)`, and is then queued again.
/// - `addRateLimited(_:)` delays a key by its own exponential backoff (client-go's
///   `ItemExponentialFailureRateLimiter`) until `forget(_:)` clears it.
/// - After `shutDown()`, `next()` returns nil and adds are ignored.
///
/// Every worker must call `done(_:)` for each key `next()` gave it.
public actor WorkQueue<Key: Hashable & Sendable> {
    /// Per-key exponential backoff: `base × 2^failures`, at most `cap`.
    public struct RateLimit: Sendable {
        /// The delay after the first failure.
        public var base: Duration
        /// The longest delay.
        public var cap: Duration

        /// Creates a rate limit; the defaults are client-go's: 5 ms doubling to 1000 s.
        public init(base: Duration = .milliseconds(5), cap: Duration = .seconds(1000)) {
            self.base = base
            self.cap = cap
        }

        /// The delay after `failures` earlier failures of a key.
        public func delay(afterFailures failures: Int) -> Duration {
            guard failures < 62 else { return cap }
            let delay = base * (1 << failures)
            return delay > cap || delay < .zero ? cap : delay
        }
    }

    private let rateLimit: RateLimit
    private let clock: any KubeClock
    /// Keys ready to hand out, oldest first; `head` is the first not yet handed out.
    private var ready: [Key] = []
    private var head = 0
    /// Keys that are queued (in `ready`, or waiting for their worker's `done`).
    private var dirty: Set<Key> = []
    /// Keys a worker holds.
    private var processing: Set<Key> = []
    private var failures: [Key: Int] = [:]
    /// Keys added with a delay: when each is due (by `clock`), and its timer.
    private var delayed: [Key: (due: Duration, timer: Task<Void, Never>)] = [:]
    private var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    private var nextWaiter = 0
    private var shuttingDown = false

    /// Creates a queue; `clock` times `addAfter` and `addRateLimited` (tests pass their own).
    public init(rateLimit: RateLimit = RateLimit(), clock: any KubeClock = SystemKubeClock()) {
        self.rateLimit = rateLimit
        self.clock = clock
    }

    /// How many keys wait to be handed out.
    public var depth: Int { ready.count - head }

    /// Whether `shutDown()` was called.
    public var isShuttingDown: Bool { shuttingDown }

    /// How many times the key failed since it was last forgotten.
    public func failureCount(_ key: Key) -> Int { failures[key] ?? 0 }

    /// Queues a key, unless it is queued already or the queue is shut down.
    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        guard !processing.contains(key) else { return }  // `done` queues it
        ready.append(key)
        wakeOne()
    }

    /// Queues a key after `delay`; a key already due sooner keeps its earlier time.
    public func addAfter(_ key: Key, _ delay: Duration) {
        guard !shuttingDown else { return }
        guard delay > .zero else { return add(key) }
        let due = clock.now() + delay
        if let pending = delayed[key] {
            guard due < pending.due else { return }
            pending.timer.cancel()
        }
        let clock = clock
        let timer = Task {
            do { try await clock.sleep(for: delay) } catch { return }  // cancelled: superseded or shut down
            self.fire(key, due: due)
        }
        delayed[key] = (due, timer)
    }

    /// Queues a key after its backoff, and counts one more failure for it.
    public func addRateLimited(_ key: Key) {
        let count = failures[key] ?? 0
        failures[key] = count + 1
        addAfter(key, rateLimit.delay(afterFailures: count))
    }

    /// Clears a key's failures, so its next `addRateLimited` waits `base` again.
    public func forget(_ key: Key) { failures[key] = nil }

    /// The next key, waiting for one; nil once the queue is shut down or the task is cancelled.
    public func next() async -> Key? {
        while !shuttingDown {
            if head < ready.count {
                let key = ready[head]
                head += 1
                compact()
                dirty.remove(key)
                processing.insert(key)
                return key
            }
            guard await waitForWork() else { return nil }
        }
        return nil
    }

    /// Marks a key's processing finished; if it was added meanwhile, queues it again.
    public func done(_ key: Key) {
        processing.remove(key)
        guard dirty.contains(key), !shuttingDown else { return }
        ready.append(key)
        wakeOne()
    }

    /// Stops the queue: `next()` returns nil from now on, waiting workers wake, delayed adds are dropped.
    public func shutDown() {
        shuttingDown = true
        for entry in delayed.values { entry.timer.cancel() }
        delayed = [:]
        let all = waiters.values
        waiters = [:]
        for waiter in all { waiter.resume(returning: true) }
    }

    // MARK: private

    private func fire(_ key: Key, due: Duration) {
        guard let pending = delayed[key], pending.due == due else { return }
        delayed[key] = nil
        add(key)
    }

    /// Suspends until an add or shutdown wakes it (true) or the task is cancelled (false).
    private func waitForWork() async -> Bool {
        let id = nextWaiter
        nextWaiter += 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume(returning: false) } else { waiters[id] = continuation }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume(returning: false)
    }

    private func wakeOne() {
        guard let id = waiters.keys.min() else { return }
        waiters.removeValue(forKey: id)?.resume(returning: true)
    }

    private func compact() {
        guard head > 1024, head * 2 > ready.count else { return }
        ready.removeFirst(head)
        head = 0
    }
}
