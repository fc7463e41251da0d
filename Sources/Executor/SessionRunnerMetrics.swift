import CairnAPI
import Metrics

/// The session runner's metrics, under the names `cairn controller` exports to Prometheus.
struct SessionRunnerMetrics: Sendable {
    private let factory: any MetricsFactory
    private let running: Gauge
    private let queued: Gauge

    init(factory: any MetricsFactory) {
        self.factory = factory
        running = Gauge(label: "cairn_executor_running_sessions", dimensions: [], factory: factory)
        queued = Gauge(label: "cairn_executor_queued_sessions", dimensions: [], factory: factory)
    }

    /// Counts one session that reached a final phase.
    func finished(_ phase: SessionPhase) {
        Counter(label: "cairn_executor_sessions_total", dimensions: [("phase", phase.rawValue)], factory: factory).increment()
    }

    /// Sets how many sessions have a running Job, and how many wait for room.
    func load(running count: Int, queued waiting: Int) {
        running.record(count)
        queued.record(waiting)
    }
}
