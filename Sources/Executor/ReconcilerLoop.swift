import Kube
import Logging

/// How each executor reconciler runs: the informers it made for itself (none when it reads
/// `cairn controller`'s shared ones), its Event recorder, and, once its caches hold their first
/// list, its workers over its queue, until the task is cancelled.
enum ReconcilerLoop {
    /// Runs `reconcile` over `queue` with `workers` at once. `owned` is run here only when the
    /// reconciler made it; `caches` are waited for before the first reconcile, since a decision
    /// taken on a half-filled cache would create what exists or overrun a limit.
    static func run<Key: Hashable & Sendable & CustomStringConvertible>(
        _ queue: WorkQueue<Key>, workers: Int, gracePeriod: Duration, logger: Logger, owned: SharedInformers?,
        recorder: EventRecorder, caches: [Informer], reconcile: @escaping @Sendable (Key) async throws -> ReconcileResult
    ) async {
        let runner = ControllerRunner(queue: queue, workers: workers, gracePeriod: gracePeriod, logger: logger, reconcile: reconcile)
        await withTaskGroup(of: Void.self) { group in
            if let owned { group.addTask { await owned.run() } }
            group.addTask { await recorder.run() }
            group.addTask {
                do { try await waitForSync(caches) } catch { return }
                await runner.run()
            }
        }
    }

    /// Waits until every cache holds its first list; throws `CancellationError` if cancelled first.
    static func waitForSync(_ caches: [Informer]) async throws {
        for cache in caches { try await cache.waitForSync() }
    }
}
