import Logging
import Synchronization

/// What a reconcile asks for next.
public enum ReconcileResult: Sendable, Equatable {
    /// The key is in its desired state: its failure backoff is cleared.
    case done
    /// Look again after a while (a schedule, a running Job): the backoff is cleared and the key
    /// queued after `after`.
    case requeue(after: Duration)
}

/// Runs `workers` workers that take keys from a `WorkQueue` and reconcile them.
///
/// `.done` forgets the key's failures; `.requeue(after:)` queues it again later; a thrown error is
/// logged and the key retried with its per-key backoff (`addRateLimited`).
///
/// `run()` returns after `shutDown()` or when its task is cancelled: the queue is shut down so no
/// worker takes another key, reconciles in flight get `gracePeriod` to finish, and those still
/// running then are cancelled.
public final class ControllerRunner<Key: Hashable & Sendable & CustomStringConvertible>: Sendable {
    /// The queue the workers drain.
    public let queue: WorkQueue<Key>
    private let workers: Int
    private let gracePeriod: Duration
    private let clock: any KubeClock
    private let logger: Logger
    private let reconcile: @Sendable (Key) async throws -> ReconcileResult
    private let stopRequested = Mutex<(stopped: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Creates a runner; `reconcile` is called with one key at a time per worker, and never with
    /// the same key on two workers at once.
    public init(queue: WorkQueue<Key>, workers: Int = 2, gracePeriod: Duration = .seconds(30),
                clock: any KubeClock = SystemKubeClock(), logger: Logger = Logger(label: "cairn.controller"),
                reconcile: @escaping @Sendable (Key) async throws -> ReconcileResult) {
        self.queue = queue
        self.workers = max(1, workers)
        self.gracePeriod = gracePeriod
        self.clock = clock
        self.logger = logger
        self.reconcile = reconcile
    }

    /// Runs the workers until `shutDown()` or cancellation, then drains as described above.
    public func run() async {
        // The workers are unstructured tasks on purpose: cancelling `run()` must not cancel
        // reconciles in flight, which get the grace period first.
        let tasks = (0..<workers).map { index in
            Task { await self.work(worker: index) }
        }
        await withTaskCancellationHandler {
            await waitForStop()
        } onCancel: {
            self.shutDown()
        }
        await queue.shutDown()
        await drain(tasks)
    }

    /// Asks `run()` to stop: no new keys, in-flight reconciles get the grace period.
    public func shutDown() {
        let waiter = stopRequested.withLock { state in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func waitForStop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = stopRequested.withLock { state in
                if !state.stopped { state.waiter = continuation }
                return state.stopped
            }
            if stopped { continuation.resume() }
        }
    }

    /// Waits up to the grace period for the workers, then cancels the ones still busy and returns
    /// without waiting for them.
    private func drain(_ tasks: [Task<Void, Never>]) async {
        let clock = clock
        let gracePeriod = gracePeriod
        // Two unstructured racers, so that the grace period runs even though `run()`'s task may be
        // cancelled, and so that a reconcile that ignores cancellation cannot hold `run()` up.
        let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let first = FirstOutcome(continuation)
            let timer = Task {
                do { try await clock.sleep(for: gracePeriod) } catch { return }  // cancelled: the workers finished first
                first.resume(false)
            }
            Task {
                for task in tasks { await task.value }
                timer.cancel()
                first.resume(true)
            }
        }
        guard !finished else { return }
        logger.warning("reconciles still running after the grace period; cancelling them", metadata: ["gracePeriod": "\(gracePeriod)"])
        for task in tasks { task.cancel() }
    }

    private func work(worker: Int) async {
        while let key = await queue.next() {
            await process(key, worker: worker)
            await queue.done(key)
        }
    }

    private func process(_ key: Key, worker: Int) async {
        do {
            switch try await reconcile(key) {
            case .done:
                await queue.forget(key)
            case .requeue(let after):
                await queue.forget(key)
                await queue.addAfter(key, after)
            }
        } catch {
            let failures = await queue.failureCount(key)
            logger.error("reconcile failed; retrying with backoff",
                         metadata: ["key": "\(key)", "worker": "\(worker)", "failures": "\(failures + 1)", "error": "\(error)"])
            await queue.addRateLimited(key)
        }
    }
}

/// Resumes a continuation with the first of several outcomes and ignores the rest.
private final class FirstOutcome: Sendable {
    private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Bool) {
        let waiting = continuation.withLock { stored in
            defer { stored = nil }
            return stored
        }
        waiting?.resume(returning: value)
    }
}
