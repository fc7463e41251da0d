import Dispatch
import Foundation
import Synchronization

/// Set once SIGTERM or SIGINT reaches the agent; the running restic call is then asked to stop
/// with SIGINT, the one signal restic 0.14 cleans up after (it removes its lock). SIGTERM would
/// kill it outright and leave the lock behind.
public final class Interruption: Sendable {
    private struct State {
        var interrupted = false
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
        var sources: [any DispatchSourceSignal] = []
    }

    private let state = Mutex(State())

    /// Creates a flag that nothing has set.
    public init() {}

    /// Whether the agent was interrupted.
    public var isInterrupted: Bool { state.withLock { $0.interrupted } }

    /// Sets the flag and wakes every waiter.
    public func interrupt() {
        let waiters = state.withLock { state in
            state.interrupted = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Returns true once interrupted, or false when the calling task is cancelled first.
    func wait() async -> Bool {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow: Bool? = state.withLock { state in
                    if state.interrupted { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: false)
        }
    }

    /// Routes SIGTERM and SIGINT to `interrupt()` instead of their default action, which would end
    /// the agent before it writes its result.
    public func installSignalHandlers() {
        state.withLock { state in
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [weak self] in self?.interrupt() }
                source.resume()
                state.sources.append(source)  // kept for the life of the process
            }
        }
    }
}
