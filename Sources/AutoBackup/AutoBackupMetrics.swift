import Metrics
import Synchronization

/// The AutoBackup metrics, under the names `cairn controller` exports to Prometheus.
struct AutoBackupMetrics: Sendable {
    /// A reconcile's outcome, the `result` dimension of `cairn_autobackup_reconciles_total`.
    enum Result: String {
        case success, error, requeue
    }

    /// An API write, the `verb` dimension of `cairn_autobackup_api_writes_total`.
    enum Verb: String {
        case create, update, delete, status
    }

    private let factory: any MetricsFactory
    private let duration: Timer
    private let queueDepth: Gauge
    private let managed: Gauge

    init(factory: any MetricsFactory) {
        self.factory = factory
        duration = Timer(label: "cairn_autobackup_reconcile_duration_seconds", dimensions: [], factory: factory)
        queueDepth = Gauge(label: "cairn_autobackup_queue_depth", dimensions: [], factory: factory)
        managed = Gauge(label: "cairn_autobackup_managed_configurations", dimensions: [], factory: factory)
    }

    /// Counts one finished reconcile of a target and how long it took.
    func reconciled(_ result: Result, took elapsed: Duration) {
        Counter(label: "cairn_autobackup_reconciles_total", dimensions: [("result", result.rawValue)], factory: factory).increment()
        let (seconds, attoseconds) = elapsed.components
        duration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Counts one write the server accepted.
    func wrote(_ verb: Verb) {
        Counter(label: "cairn_autobackup_api_writes_total", dimensions: [("verb", verb.rawValue)], factory: factory).increment()
    }

    /// Counts one reconcile that ended in a failure with `reason`.
    func failed(_ reason: String) {
        Counter(label: "cairn_autobackup_render_failures_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// Sets how many targets currently fail with `reason`.
    func failing(_ reason: String, _ count: Int) {
        Gauge(label: "cairn_autobackup_failing_targets", dimensions: [("reason", reason)], factory: factory).record(count)
    }

    /// Sets how many keys wait in the target queue.
    func queued(_ depth: Int) { queueDepth.record(depth) }

    /// Sets how many configurations Cairn manages (generated and not detached).
    func managedConfigurations(_ count: Int) { managed.record(count) }
}
