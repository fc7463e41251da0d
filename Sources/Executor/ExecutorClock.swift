import Foundation
import Synchronization

/// The wall clock the executor schedules by; tests inject a ``ManualClock`` so they never sleep.
public protocol ExecutorClock: Sendable {
    /// The current time.
    var now: Date { get }
    /// Waits until `deadline` (returns at once if it has passed); throws `CancellationError` when
    /// the task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The real wall clock.
public struct SystemExecutorClock: ExecutorClock {
    /// Creates the real clock.
    public init() {}

    /// `Date()`.
    public var now: Date { Date() }

    /// Sleeps in steps of at most a minute, so a wall clock that jumps (NTP, a suspended VM) is
    /// noticed within a minute rather than after the whole interval measured at the start.
    public func sleep(until deadline: Date) async throws {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return }
            try await Task.sleep(for: .milliseconds(Int64((min(remaining, 60) * 1000).rounded(.up))))
        }
    }
}

/// A clock that moves only when a test moves it: ``advance(to:)`` and ``advance(by:)`` wake the
/// sleepers whose deadline has come, earliest deadline first.
public final class ManualClock: ExecutorClock {
    private struct Sleeper {
        var deadline: Date
        var order: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    /// Creates a clock standing at `start`.
    public init(start: Date) { state = Mutex(State(now: start)) }

    /// The time the clock stands at.
    public var now: Date { state.withLock { $0.now } }

    /// How many tasks are sleeping on the clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline a task sleeps until, if any.
    public var earliestDeadline: Date? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    /// Suspends until the clock is advanced to `deadline` or past it.
    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, order: id, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock to `time` (never backwards) and wakes every sleeper due by then, earliest
    /// deadline first.
    public func advance(to time: Date) {
        let due = state.withLock { state in
            state.now = max(state.now, time)
            let now = state.now
            let due = state.sleepers.values.filter { $0.deadline <= now }
                .sorted { ($0.deadline, $0.order) < ($1.deadline, $1.order) }
            for sleeper in due { state.sleepers[sleeper.order] = nil }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock forward by `interval` seconds.
    public func advance(by interval: TimeInterval) { advance(to: now.addingTimeInterval(interval)) }
}
