import CairnAPI
import Foundation
import Kube
import Logging
import Metrics
import Synchronization
import YAML

/// Runs BackupSessions: takes each from Pending (or no phase) through Queued and Running to
/// Succeeded, Failed or Skipped, keyed by session `namespace/name`.
///
/// Each reconcile re-reads the session and its Job; the decisions are ``SessionPlan``'s (and the
/// pure types it calls), this type only watches, queues and writes. What it creates has a
/// deterministic name (the Job is named after the session, a Snapshot after the session and
/// PVC), so a restart adopts what exists and never creates anything twice.
public final class SessionRunner: Sendable {
    /// How the runner runs.
    public struct Options: Sendable {
        /// The namespace whose sessions are run; all when nil.
        public var namespace: String?
        /// Reconciles running at once.
        public var workers = 2
        /// How long in-flight reconciles get to finish on shutdown.
        public var gracePeriod: Duration = .seconds(10)
        /// How soon a session that met a 409 Conflict is looked at again.
        public var conflictRequeue: Duration = .milliseconds(50)
        /// How often a Queued session checks again for room, besides being woken when a session finishes.
        public var queuedRecheck: Duration = .seconds(30)
        /// The component named in Events.
        public var component = "cairn-controller"
        /// Backup Jobs that may run at once in all watched namespaces; nil for no limit.
        public var maxRunning: Int? = 10
        /// Backup Jobs that may run at once on one node; nil for no limit. Only Jobs bound to a
        /// node by their ReadWriteOnce volumes are counted against it before they run.
        public var maxRunningPerNode: Int? = 2
        /// The image the backup Jobs run `cairn agent` from.
        public var agentImage = "ghcr.io/cairn-dev/cairn:\(KubeClient.version)"
        /// The agent container's `imagePullPolicy`; the cluster's default when nil.
        public var imagePullPolicy: String?
        /// The agent container's `resources`.
        public var resources: Node = .mapping([
            "requests": .mapping(["cpu": "100m", "memory": "256Mi"]), "limits": .mapping(["memory": "1Gi"]),
        ])
        /// Where the metrics go; tests pass a `MetricsTestKit.TestMetrics` of their own.
        public var metricsFactory: any MetricsFactory = MetricsSystem.factory
        /// The time written into statuses.
        public var now: @Sendable () -> Date = { Date() }

        /// Creates options; all namespaces when `namespace` is nil.
        public init(namespace: String? = nil) { self.namespace = namespace }
    }

    let client: KubeClient
    let options: Options
    let logger: Logger
    let sessions: Informer
    let jobs: Informer
    /// The informers it made for itself and runs in ``run()``; nil when it reads shared ones, which their owner runs.
    let ownedInformers: SharedInformers?
    let recorder: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    let metrics: SessionRunnerMetrics
    /// Where each checked session's Job would run, for sessions that wait: the admission of a newer
    /// session counts older ones against their node.
    let places = Mutex<[ObjectKey: Admission.Place]>([:])

    /// Creates a runner; nothing runs before ``run()``. Given `informers`, it reads sessions and
    /// Jobs through them and leaves running them to their owner (as in `cairn controller`, where
    /// the scheduler reads the same sessions); else it makes and runs its own.
    public init(client: KubeClient, options: Options = Options(), informers shared: SharedInformers? = nil,
                logger: Logger = Logger(label: "cairn.executor")) {
        self.client = client
        self.options = options
        self.logger = logger
        let informers = shared ?? SharedInformers(client: client, logger: logger)
        ownedInformers = shared == nil ? informers : nil
        sessions = informers.informer(ExecutorResource.sessions, namespace: options.namespace)
        sessions.addIndexers([Self.activeIndex: Self.activeKeys, Self.historyIndex: Self.historyKeys])
        jobs = informers.informer(ExecutorResource.jobs, namespace: options.namespace, labelSelector: ExecutorLabel.backupSession)
        recorder = EventRecorder(client: client, options: .init(component: options.component), wallClock: options.now, logger: logger)
        metrics = SessionRunnerMetrics(factory: options.metricsFactory)
        addHandlers()
    }

    /// Runs the informers, the Event recorder and the workers until the task is cancelled.
    public func run() async {
        // Admission counts running Jobs: deciding on a half-filled cache would overrun the limits.
        await ReconcilerLoop.run(queue, workers: options.workers, gracePeriod: options.gracePeriod, logger: logger,
                                 owned: ownedInformers, recorder: recorder, caches: caches) { [self] key in
            try await reconcile(key)
        }
    }

    /// Waits until both informers hold their first list; throws `CancellationError` if cancelled first.
    public func waitForSync() async throws { try await ReconcilerLoop.waitForSync(caches) }

    /// What the first reconcile waits for.
    private var caches: [Informer] { [sessions, jobs] }

    /// Waits until every Event recorded so far is written.
    public func flushEvents() async { await recorder.flush() }

    private func addHandlers() {
        // Weak: the informers hold these handlers and the runner holds the informers.
        sessions.addHandler(
            added: { [weak self] in await self?.queue.add(ObjectKey($0)) },
            updated: { [weak self] old, new in
                await self?.queue.add(ObjectKey(new))
                if !Self.isFinished(old) && Self.isFinished(new) { await self?.wakeWaiting() }
            },
            deleted: { [weak self] in await self?.sessionGone($0) })
        jobs.addHandler(
            added: { [weak self] in await self?.enqueueOwner(of: $0) },
            updated: { [weak self] in await self?.enqueueOwner(of: $1) },
            deleted: { [weak self] in await self?.enqueueOwner(of: $0) })
    }

    private func sessionGone(_ session: Node) async {
        let key = ObjectKey(session)
        places.withLock { _ = $0.removeValue(forKey: key) }
        if !Self.isFinished(session) { await wakeWaiting() }
    }

    /// A Job's change wakes the BackupSession that owns it.
    private func enqueueOwner(of job: Node) async {
        for owner in job[path: "metadata", "ownerReferences"]?.sequence ?? [] where owner["kind"]?.string == "BackupSession" {
            if let name = owner["name"]?.string { await queue.add(ObjectKey(namespace: job.namespace, name: name)) }
        }
    }

    /// Queues every session that waits for room, in creation order.
    func wakeWaiting() async {
        let waiting = activeSessions().filter { !$0.isDeleting }.sorted { ($0.creationTimestamp, $0.name) < ($1.creationTimestamp, $1.name) }
        for session in waiting { await queue.add(ObjectKey(session)) }
    }

    /// The session informer's index of sessions that have not finished, under one value: the
    /// cache parses an object on each read, so admission reads only these, not the history.
    static let activeIndex = "active"

    @Sendable static func activeKeys(_ session: Node) -> [String] { isFinished(session) ? [] : ["active"] }

    /// The session informer's index of finished sessions by `<namespace>/<configuration>/<session>`.
    static let historyIndex = "history"

    @Sendable static func historyKeys(_ session: Node) -> [String] {
        guard isFinished(session) else { return [] }
        return [historyKey(namespace: session.namespace, configuration: session[path: "spec", "configuration"]?.string ?? "",
                           session: session[path: "spec", "session"]?.string ?? "")]
    }

    static func historyKey(namespace: String, configuration: String, session: String) -> String {
        "\(namespace)/\(configuration)/\(session)"
    }

    /// The cached sessions that have not finished.
    func activeSessions() -> [Node] { sessions.byIndex(name: Self.activeIndex, value: "active") }

    static func isFinished(_ session: Node) -> Bool {
        HistoryPlan.isFinished(session[path: "status", "phase"]?.string.flatMap(SessionPhase.init(rawValue:)))
    }
}
