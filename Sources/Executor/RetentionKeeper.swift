import CairnAPI
import Foundation
import Kube
import Logging
import Synchronization
import YAML

/// One retention group: the Snapshots of one configuration, session and PVC, which retention
/// counts together (restic's `--group-by host,tags` with the PVC's tag).
public struct RetentionGroup: Hashable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var configuration: String
    public var session: String
    public var pvc: String

    /// Creates a group key.
    public init(namespace: String, configuration: String, session: String, pvc: String) {
        (self.namespace, self.configuration, self.session, self.pvc) = (namespace, configuration, session, pvc)
    }

    /// The group of a Snapshot object, from its spec; nil when a field is missing.
    init?(snapshot: Node) {
        guard let configuration = snapshot[path: "spec", "configuration"]?.string, let session = snapshot[path: "spec", "session"]?.string,
              let pvc = snapshot[path: "spec", "pvc"]?.string else { return nil }
        self.init(namespace: snapshot.namespace, configuration: configuration, session: session, pvc: pvc)
    }

    /// Reads a ``description``; names cannot hold `/`.
    init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else { return nil }
        self.init(namespace: parts[0], configuration: parts[1], session: parts[2], pvc: parts[3])
    }

    /// `<namespace>/<configuration>/<session>/<pvc>`.
    public var description: String { "\(namespace)/\(configuration)/\(session)/\(pvc)" }
}

/// Keeps retention on Snapshot objects: writes the period labels and `delete-after` marks that
/// ``RetentionPlanner`` decides, and sweeps what is due through a forget Job, keyed by
/// ``RetentionGroup``.
///
/// A group is looked at again whenever one of its Snapshots, its configuration or its forget Job
/// changes, and when the injected ``ExecutorClock`` reaches its earliest `delete-after` date or
/// the retry time of a failed forget: the plan changes with time only there, so no periodic scan
/// is needed. Label writes are merge patches of the labels alone, made only when something
/// changes, and carry the resourceVersion read, so a Snapshot pinned a moment ago is answered
/// with a 409 and looked at again rather than marked. A Snapshot object is deleted only after
/// its forget Job reported, in a valid agent result, that its restic snapshot is gone.
public final class RetentionKeeper: Sendable {
    /// How the keeper runs.
    public struct Options: Sendable {
        /// The namespace watched; all when nil.
        public var namespace: String?
        /// Reconciles running at once.
        public var workers = 2
        /// How long in-flight reconciles get to finish on shutdown.
        public var gracePeriod: Duration = .seconds(10)
        /// How soon a group that met a 409 Conflict is looked at again.
        public var conflictRequeue: Duration = .milliseconds(50)
        /// The component named in Events.
        public var component = "cairn-controller"
        /// How long a snapshot no period keeps stays marked before it is swept.
        public var grace: TimeInterval = RetentionPlanner.defaultGrace
        /// How long after a failed forget (or a sweep that cannot start) it is tried again.
        public var retryDelay: TimeInterval = 600
        /// The image, pull policy and resources of the forget Jobs: the backup Jobs' by default.
        public var agentImage = SessionRunner.Options().agentImage
        public var imagePullPolicy: String?
        public var resources = SessionRunner.Options().resources

        /// Creates options; all namespaces when `namespace` is nil.
        public init(namespace: String? = nil) { self.namespace = namespace }
    }

    /// What the keeper did so far, for tests and logs.
    public struct Statistics: Sendable, Equatable {
        /// Reconciles finished, whatever their outcome.
        public var reconciles = 0
        /// Label patches written.
        public var labelWrites = 0
        /// Writes answered 409 Conflict (or 409 AlreadyExists).
        public var conflicts = 0
        /// Forget Jobs created.
        public var forgetJobs = 0
        /// Forget Jobs that ended without forgetting.
        public var forgetFailures = 0
        /// Snapshot objects deleted after their restic snapshot was forgotten.
        public var snapshotsDeleted = 0
    }

    /// The Warning reason of a forget that failed, or could not start.
    public static let forgetFailedReason = "ForgetFailed"
    /// The Normal reason when a forget Job is created.
    public static let sweepingReason = "Sweeping"
    /// The Normal reason when swept Snapshots are deleted.
    public static let sweptReason = "Swept"
    /// The Warning reason when a session's retention cannot be planned (an unknown time zone).
    public static let invalidRetentionReason = "InvalidRetention"

    /// The snapshot informer's index by group, and by `<namespace>/<configuration>`.
    static let groupIndex = "group"
    static let configurationIndex = "configuration"

    let client: KubeClient
    let clock: any ExecutorClock
    let options: Options
    let logger: Logger
    let snapshots: Informer
    let configurations: Informer
    let jobs: Informer
    /// The informers it made for itself and runs in ``run()``; nil when it reads shared ones, which their owner runs.
    let ownedInformers: SharedInformers?
    let recorder: EventRecorder
    let queue = WorkQueue<RetentionGroup>()
    let wakeUps: WakeUps<RetentionGroup>
    let counters = Mutex(Statistics())
    /// When this keeper first saw each failed forget Job (by uid), on its clock: the retry is due
    /// `retryDelay` later. A restart forgets it and waits one delay more, which is safe.
    let failuresSeen = Mutex<[String: Date]>([:])

    var reads: ExecutorReads { ExecutorReads(client: client) }

    /// Creates a keeper; nothing runs before ``run()``. Given `informers`, it reads through them
    /// and leaves running them to their owner (in `cairn controller` the configurations cache is
    /// AutoBackup's and the Scheduler's too); else it makes and runs its own.
    public init(client: KubeClient, clock: any ExecutorClock = SystemExecutorClock(), options: Options = Options(),
                informers shared: SharedInformers? = nil, logger: Logger = Logger(label: "cairn.retention")) {
        self.client = client
        self.clock = clock
        self.options = options
        self.logger = logger
        let informers = shared ?? SharedInformers(client: client, logger: logger)
        ownedInformers = shared == nil ? informers : nil
        snapshots = informers.informer(ExecutorResource.snapshots, namespace: options.namespace)
        snapshots.addIndexers([Self.groupIndex: Self.groupKeys, Self.configurationIndex: Self.configurationKeys])
        configurations = informers.informer(ExecutorResource.configurations, namespace: options.namespace)
        jobs = informers.informer(ExecutorResource.jobs, namespace: options.namespace, labelSelector: "\(ForgetJob.roleLabel)=\(ForgetJob.roleValue)")
        jobs.addIndexers([Self.groupIndex: ForgetJob.groupKeys])
        // The Events' times are the real ones, not the injected clock's: an Event is named after its
        // time, so two about one object at one simulated instant would collide.
        recorder = EventRecorder(client: client, options: .init(component: options.component), logger: logger)
        wakeUps = WakeUps(clock: clock, queue: queue)
        addHandlers()
    }

    /// The counters so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// Runs the informers, the Event recorder, the timers and the workers until the task is cancelled.
    public func run() async {
        // A group planned from a half-filled cache would mark snapshots whose newer siblings are not seen yet.
        await ReconcilerLoop.run(queue, workers: options.workers, gracePeriod: options.gracePeriod, logger: logger,
                                 owned: ownedInformers, recorder: recorder, caches: caches) { [self] key in
            try await reconcile(key)
        }
        await wakeUps.cancelAll()
    }

    /// Waits until the informers hold their first list; throws `CancellationError` if cancelled first.
    public func waitForSync() async throws { try await ReconcilerLoop.waitForSync(caches) }

    /// What the first reconcile waits for.
    private var caches: [Informer] { [snapshots, configurations, jobs] }

    /// Waits until every Event recorded so far is written.
    public func flushEvents() async { await recorder.flush() }

    private func addHandlers() {
        // Weak: the informers hold these handlers and the keeper holds the informers.
        snapshots.addHandler(
            added: { [weak self] in await self?.enqueue(Self.groupKeys($0)) },
            updated: { [weak self] in await self?.enqueue(Self.groupKeys($1)) },
            deleted: { [weak self] in await self?.enqueue(Self.groupKeys($0)) })
        configurations.addHandler(
            added: { [weak self] in await self?.enqueueGroups(of: $0) },
            updated: { [weak self] in await self?.enqueueGroups(of: $1) },
            deleted: { [weak self] in await self?.enqueueGroups(of: $0) })
        jobs.addHandler(
            added: { [weak self] in await self?.enqueue(ForgetJob.groupKeys($0)) },
            updated: { [weak self] in await self?.enqueue(ForgetJob.groupKeys($1)) },
            deleted: { [weak self] in await self?.enqueue(ForgetJob.groupKeys($0)) })
    }

    private func enqueue(_ keys: [String]) async {
        for key in keys { if let group = RetentionGroup(parsing: key) { await queue.add(group) } }
    }

    /// A configuration's change (its retention, its time zone) wakes each of its groups.
    private func enqueueGroups(of configuration: Node) async {
        let snapshots = snapshots.byIndex(name: Self.configurationIndex, value: "\(configuration.namespace)/\(configuration.name)")
        await enqueue(Array(Set(snapshots.flatMap(Self.groupKeys))))
    }

    @Sendable static func groupKeys(_ snapshot: Node) -> [String] {
        RetentionGroup(snapshot: snapshot).map { [$0.description] } ?? []
    }

    @Sendable static func configurationKeys(_ snapshot: Node) -> [String] {
        snapshot[path: "spec", "configuration"]?.string.map { ["\(snapshot.namespace)/\($0)"] } ?? []
    }
}
