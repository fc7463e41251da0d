import Foundation
import Kube

/// One timer per key on an ``ExecutorClock``: when a key's time comes it is added to the work queue.
///
/// Setting a key's time replaces its timer, so a configuration whose schedule changed wakes at its
/// new time and not at both.
actor WakeUps<Key: Hashable & Sendable> {
    private let clock: any ExecutorClock
    private let queue: WorkQueue<Key>
    private var timers: [Key: (due: Date, task: Task<Void, Never>)] = [:]

    init(clock: any ExecutorClock, queue: WorkQueue<Key>) {
        self.clock = clock
        self.queue = queue
    }

    /// Wakes `key` at `due`; nil cancels its timer.
    func set(_ key: Key, at due: Date?) {
        guard timers[key]?.due != due else { return }
        timers.removeValue(forKey: key)?.task.cancel()
        guard let due else { return }
        let (clock, queue) = (clock, queue)
        let task = Task {
            do { try await clock.sleep(until: due) } catch { return }  // cancelled: replaced, or the scheduler stops
            await self.fire(key, due: due)
            await queue.add(key)
        }
        timers[key] = (due, task)
    }

    /// How many keys have a timer.
    var count: Int { timers.count }

    /// Cancels every timer.
    func cancelAll() {
        for timer in timers.values { timer.task.cancel() }
        timers = [:]
    }

    private func fire(_ key: Key, due: Date) {
        if timers[key]?.due == due { timers[key] = nil }
    }
}
