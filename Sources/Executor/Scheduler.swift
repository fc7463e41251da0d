import CairnAPI
import Foundation
import Kube
import Logging
import Synchronization
import YAML

/// Turns each BackupConfiguration's sessions into BackupSessions on schedule.
///
/// It watches configurations and BackupSessions and reconciles one configuration at a time: it
/// re-reads both caches, lets ``SchedulePlanner`` decide each session, creates what it asks for
/// (a 409 AlreadyExists means a run is already there, since names come from the scheduled time),
/// writes `nextSchedule`, `nextBackup` and the `Scheduled` condition only when they change, and
/// sets a timer on the injected ``ExecutorClock`` for the earliest next run. It does not run
/// sessions: it leaves them without a phase (Pending) for the session runner, except Skipped ones.
public final class Scheduler: Sendable {
    /// How the scheduler runs.
    public struct Options: Sendable {
        /// The namespace watched; all when nil.
        public var namespace: String?
        /// Reconciles running at once.
        public var workers = 2
        /// How long in-flight reconciles get to finish on shutdown.
        public var gracePeriod: Duration = .seconds(10)
        /// How soon a configuration whose status write met a 409 Conflict is looked at again.
        public var conflictRequeue: Duration = .milliseconds(50)
        /// The component named in Events.
        public var component = "cairn-controller"

        /// Creates options; all namespaces when `namespace` is nil.
        public init(namespace: String? = nil) { self.namespace = namespace }
    }

    /// What the scheduler did so far, for tests and benchmarks.
    public struct Statistics: Sendable, Equatable {
        /// Reconciles finished, whatever their outcome.
        public var reconciles = 0
        /// BackupSessions created to run.
        public var created = 0
        /// Skipped BackupSessions recorded.
        public var skipped = 0
        /// Active BackupSessions deleted to make way for a newer run under `Replace`.
        public var replaced = 0
        /// Creates answered 409 AlreadyExists: the run was there already.
        public var alreadyExisted = 0
        /// Runs not made because they were past `startingDeadline`.
        public var missed = 0
        /// Configuration status writes.
        public var statusWrites = 0
        /// Status writes answered 409 Conflict.
        public var conflicts = 0
        /// For each session created, the seconds from its scheduled time to its creation.
        public var lateness: [Double] = []
    }

    /// `cairn.dev/skipped` (annotation): the reason on a BackupSession created to record a skipped
    /// run, so that its Skipped status can be written again if the first write was lost, and a
    /// runner never takes it for a Pending one.
    public static let skippedAnnotation = "cairn.dev/skipped"
    /// The Warning reason when a run was missed by more than `startingDeadline`.
    public static let missedReason = "MissedSchedule"
    /// The Normal reason when `Replace` deleted active sessions for a newer run.
    public static let replacedReason = "Replaced"

    /// The session informer's index from `<namespace>/<configuration>` to its BackupSessions.
    static let configurationIndex = "configuration"

    let client: KubeClient
    let clock: any ExecutorClock
    let options: Options
    let logger: Logger
    let configurations: Informer
    let sessions: Informer
    /// The informers it made for itself and runs in ``run()``; nil when it reads shared ones, which their owner runs.
    let ownedInformers: SharedInformers?
    let recorder: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    let wakeUps: WakeUps<ObjectKey>
    let counters = Mutex(Statistics())
    let decodedConfigurations = DecodedConfigurations()
    /// The latest missed run reported per configuration and session, so each is reported once.
    let reportedMisses = Mutex<[String: Date]>([:])

    /// Creates a scheduler; nothing runs before ``run()``. Given `informers`, it reads the
    /// configurations and sessions through them and leaves running them to their owner (as in
    /// `cairn controller`, where AutoBackup and the session runner read the same caches); else it
    /// makes and runs its own.
    public init(client: KubeClient, clock: any ExecutorClock = SystemExecutorClock(), options: Options = Options(),
                informers shared: SharedInformers? = nil, logger: Logger = Logger(label: "cairn.scheduler")) {
        self.client = client
        self.clock = clock
        self.options = options
        self.logger = logger
        let informers = shared ?? SharedInformers(client: client, logger: logger)
        ownedInformers = shared == nil ? informers : nil
        configurations = informers.informer(ExecutorResource.configurations, namespace: options.namespace)
        sessions = informers.informer(ExecutorResource.sessions, namespace: options.namespace)
        sessions.addIndexers([Self.configurationIndex: Self.configurationKeys])
        recorder = EventRecorder(client: client, options: .init(component: options.component), wallClock: { clock.now })
        wakeUps = WakeUps(clock: clock, queue: queue)
        addHandlers()
    }

    /// The counters so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// Runs the informers, the Event recorder, the timers and the workers until the task is cancelled.
    public func run() async {
        // Planning against a half-filled session cache would create runs that exist.
        await ReconcilerLoop.run(queue, workers: options.workers, gracePeriod: options.gracePeriod, logger: logger,
                                 owned: ownedInformers, recorder: recorder, caches: caches) { [self] key in
            try await reconcile(key)
        }
        await wakeUps.cancelAll()
    }

    /// Waits until both informers hold their first list; throws `CancellationError` if cancelled first.
    public func waitForSync() async throws { try await ReconcilerLoop.waitForSync(caches) }

    /// What the first reconcile waits for.
    private var caches: [Informer] { [configurations, sessions] }

    private func addHandlers() {
        // Weak: the informers hold these handlers and the scheduler holds the informers.
        configurations.addHandler(
            added: { [weak self] in await self?.queue.add(ObjectKey($0)) },
            updated: { [weak self] in await self?.queue.add(ObjectKey($1)) },
            deleted: { [weak self] in await self?.queue.add(ObjectKey($0)) })
        sessions.addHandler(
            added: { [weak self] in await self?.enqueueConfiguration(of: $0) },
            updated: { [weak self] in await self?.enqueueConfiguration(of: $1) },
            deleted: { [weak self] in await self?.enqueueConfiguration(of: $0) })
    }

    private func enqueueConfiguration(of session: Node) async {
        for key in Self.configurationKeys(session) {
            if let key = ObjectKey(parsing: key) { await queue.add(key) }
        }
    }

    /// `<namespace>/<spec.configuration>` of a BackupSession.
    @Sendable static func configurationKeys(_ session: Node) -> [String] {
        guard let configuration = session[path: "spec", "configuration"]?.string else { return [] }
        return ["\(session[path: "metadata", "namespace"]?.string ?? "")/\(configuration)"]
    }
}
