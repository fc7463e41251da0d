import CairnAPI
import Foundation
import Kube
import Logging
import Metrics
import Synchronization
import YAML

/// Keeps each BackupStorage's status and maintains its repositories: on the storage's
/// `spec.maintenance.schedule` (`@weekly-random` by default) a Job runs `cairn agent maintain`,
/// which checks the repository with `restic check` and, only if it is sound, prunes the data that
/// forgotten snapshots left with `restic prune`. Keyed by the storage.
///
/// What a person sees:
/// - `kubectl get backupstorages`: Phase (the backend is valid and its credentials Secret
///   exists), Healthy (the `RepositoryHealthy` condition: the last check's verdict) and
///   Last-Maintenance; `status.repositories[]` holds each repository's last run, its Job and what
///   restic said.
/// - Events on the storage: `MaintenanceStarted`, `Maintained`, `MaintenanceFailed`,
///   `RepositoryDamaged` (Warning, with restic check's findings) and `MaintenanceWaiting`.
///
/// check and prune take restic's exclusive lock, so a run does not start while a backup, restore
/// or forget Job of the same storage is active (it looks again every `busyRecheck`), and the
/// session runner holds new backups Queued (`MaintenanceRunning`) while a maintenance Job runs.
/// A run that misses its time (the controller was down) is caught up once, as the Scheduler does.
/// `kubectl annotate backupstorage <name> cairn.dev/maintain-now=true` asks for a run now.
/// The Job is named after the scheduled time, so a restart adopts it instead of starting another.
public final class MaintenanceKeeper: Sendable {
    /// How the keeper runs.
    public struct Options: Sendable {
        /// The namespace watched; all when nil.
        public var namespace: String?
        /// Reconciles running at once.
        public var workers = 1
        /// How long in-flight reconciles get to finish on shutdown.
        public var gracePeriod: Duration = .seconds(10)
        /// How soon a storage that met a 409 Conflict is looked at again.
        public var conflictRequeue: Duration = .milliseconds(50)
        /// The component named in Events.
        public var component = "cairn-controller"
        /// How long after a run that could not start (a missing encryption Secret, say) it is tried again.
        public var retryDelay: TimeInterval = 600
        /// How often a run that waits for other Jobs on the repository, or a storage whose credentials
        /// Secret is missing, is looked at again.
        public var busyRecheck: TimeInterval = 60
        /// The image, pull policy and resources of the maintenance Jobs: the backup Jobs' by default.
        public var agentImage = SessionRunner.Options().agentImage
        public var imagePullPolicy: String?
        public var resources = SessionRunner.Options().resources
        /// Where `cairn_maintenance_runs_total` and `cairn_repository_healthy` go.
        public var metricsFactory: any MetricsFactory = MetricsSystem.factory

        /// Creates options; all namespaces when `namespace` is nil.
        public init(namespace: String? = nil) { self.namespace = namespace }
    }

    /// What the keeper did so far, for tests and logs.
    public struct Statistics: Sendable, Equatable {
        /// Reconciles finished, whatever their outcome.
        public var reconciles = 0
        /// Status writes.
        public var statusWrites = 0
        /// Writes answered 409 Conflict (or 409 AlreadyExists).
        public var conflicts = 0
        /// Maintenance Jobs created.
        public var jobsCreated = 0
        /// Runs that ended, by outcome.
        public var succeeded = 0
        public var failed = 0
    }

    /// Event reasons.
    public static let startedReason = "MaintenanceStarted"
    public static let maintainedReason = "Maintained"
    public static let failedReason = "MaintenanceFailed"
    public static let damagedReason = "RepositoryDamaged"
    public static let waitingReason = "MaintenanceWaiting"

    /// `cairn.dev/maintain-now` on a BackupStorage (any value): run its maintenance now, even when
    /// paused; the keeper removes it once the Job is created.
    public static let maintainNowAnnotation = "cairn.dev/maintain-now"

    /// The informers' index by storage, `<namespace>/<name>`.
    static let storageIndex = "maintenance-storage"

    let client: KubeClient
    let clock: any ExecutorClock
    let options: Options
    let logger: Logger
    let storages: Informer
    let configurations: Informer
    let jobs: Informer
    /// The informers it made for itself and runs in ``run()``; nil when it reads shared ones, which their owner runs.
    let ownedInformers: SharedInformers?
    let recorder: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    let wakeUps: WakeUps<ObjectKey>
    let counters = Mutex(Statistics())

    var reads: ExecutorReads { ExecutorReads(client: client) }

    /// Creates a keeper; nothing runs before ``run()``. Given `informers`, it reads through them and
    /// leaves running them to their owner; else it makes and runs its own.
    public init(client: KubeClient, clock: any ExecutorClock = SystemExecutorClock(), options: Options = Options(),
                informers shared: SharedInformers? = nil, logger: Logger = Logger(label: "cairn.maintenance")) {
        self.client = client
        self.clock = clock
        self.options = options
        self.logger = logger
        let informers = shared ?? SharedInformers(client: client, logger: logger)
        ownedInformers = shared == nil ? informers : nil
        storages = informers.informer(ExecutorResource.storages, namespace: options.namespace)
        // All namespaces' configurations: a storage is used from namespaces other than its own.
        configurations = informers.informer(ExecutorResource.configurations, namespace: options.namespace)
        configurations.addIndexers([Self.storageIndex: Self.configurationStorageKeys])
        jobs = informers.informer(ExecutorResource.jobs, namespace: options.namespace, labelSelector: MaintenanceJob.roleLabel)
        jobs.addIndexers([Self.storageIndex: MaintenanceJob.storageKeys])
        recorder = EventRecorder(client: client, options: .init(component: options.component), logger: logger)
        wakeUps = WakeUps(clock: clock, queue: queue)
        addHandlers()
    }

    /// The counters so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// Runs the informers, the Event recorder, the timers and the workers until the task is cancelled.
    public func run() async {
        // Repositories planned from a half-filled cache would pick the wrong namespace.
        await ReconcilerLoop.run(queue, workers: options.workers, gracePeriod: options.gracePeriod, logger: logger,
                                 owned: ownedInformers, recorder: recorder, caches: caches) { [self] key in
            try await reconcile(key)
        }
        await wakeUps.cancelAll()
    }

    /// Waits until the informers hold their first list; throws `CancellationError` if cancelled first.
    public func waitForSync() async throws { try await ReconcilerLoop.waitForSync(caches) }

    /// What the first reconcile waits for.
    private var caches: [Informer] { [storages, configurations, jobs] }

    /// Waits until every Event recorded so far is written.
    public func flushEvents() async { await recorder.flush() }

    private func addHandlers() {
        // Weak: the informers hold these handlers and the keeper holds the informers.
        storages.addHandler(
            added: { [weak self] in await self?.queue.add(ObjectKey($0)) },
            updated: { [weak self] in await self?.queue.add(ObjectKey($1)) },
            deleted: { [weak self] in await self?.queue.add(ObjectKey($0)) })
        configurations.addHandler(
            added: { [weak self] in await self?.enqueue(Self.configurationStorageKeys($0)) },
            updated: { [weak self] old, new in
                // Status writes after every backup come through here: only a change that moves a
                // repository (its storage, its first backup, its namespace's candidates) matters.
                guard Self.matters(old, new) else { return }
                await self?.enqueue(Self.configurationStorageKeys(old) + Self.configurationStorageKeys(new))
            },
            deleted: { [weak self] in await self?.enqueue(Self.configurationStorageKeys($0)) })
        jobs.addHandler(
            added: { [weak self] in await self?.enqueue(MaintenanceJob.storageKeys($0)) },
            updated: { [weak self] in await self?.enqueue(MaintenanceJob.storageKeys($1)) },
            deleted: { [weak self] in await self?.enqueue(MaintenanceJob.storageKeys($0)) })
    }

    private func enqueue(_ keys: [String]) async {
        for key in Set(keys) { if let key = ObjectKey(parsing: key) { await queue.add(key) } }
    }

    static func matters(_ old: Node, _ new: Node) -> Bool {
        configurationStorageKeys(old) != configurationStorageKeys(new)
            || (old[path: "status", "lastSuccessfulBackup"] == nil) != (new[path: "status", "lastSuccessfulBackup"] == nil)
            || old[path: "spec", "encryptionSecret"] != new[path: "spec", "encryptionSecret"]
            || old.isDeleting != new.isDeleting
    }

    /// `<namespace>/<name>` of the storage a configuration names.
    @Sendable static func configurationStorageKeys(_ configuration: Node) -> [String] {
        guard let name = configuration[path: "spec", "storage", "name"]?.string else { return [] }
        let namespace = configuration[path: "spec", "storage", "namespace"]?.string ?? configuration.namespace
        return ["\(namespace)/\(name)"]
    }
}
