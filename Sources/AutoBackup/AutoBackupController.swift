import Blueprint
import CairnAPI
import Foundation
import Kube
import Logging
import Metrics
import Synchronization
import YAML

/// Watches annotated workloads, PVCs, the further kinds blueprints list in `spec.subjects`, and
/// BackupBlueprints, and keeps one rendered
/// BackupConfiguration per opted-in target in step, keyed by target.
///
/// Every reconcile re-reads the informers' caches and renders from scratch; the decision is
/// ``ReconcilePlan``'s, this type only watches, queues and writes.
///
/// Outcomes are visible in four places: each generated configuration's status (`Rendered`,
/// `Ready`, `managedBy`, `phase`), Warning Events on the target, each blueprint's status (counts,
/// failures, `NameConflict`), and the metrics. Blueprint status is shared by every target of a
/// blueprint, so targets only record their report in memory (``OutcomeBook``) and a second,
/// keyed and coalescing queue writes each blueprint's status at most once per
/// ``Options/blueprintStatusDelay``. That queue also adds the blueprint finalizer and carries out
/// `deletionPolicy` when a blueprint is deleted.
public final class AutoBackupController: Sendable {
    /// How the controller runs.
    public struct Options: Sendable {
        /// The namespace whose targets and configurations are watched; all when nil. Blueprints
        /// and Namespaces are always watched cluster-wide, since a target may use a blueprint elsewhere.
        public var namespace: String?
        /// Reconciles running at once.
        public var workers = 2
        /// How long in-flight reconciles get to finish on shutdown.
        public var gracePeriod: Duration = .seconds(10)
        /// How soon a key that met a 409 Conflict or a cache that lags is looked at again.
        public var conflictRequeue: Duration = .milliseconds(50)
        /// The component named in Events.
        public var component = "cairn-controller"
        /// How long a blueprint's status waits for more target reports before it is written, so
        /// that many targets changing at once cost one write.
        public var blueprintStatusDelay: Duration = .milliseconds(300)
        /// Where the metrics go; tests pass a `MetricsTestKit.TestMetrics` of their own.
        public var metricsFactory: any MetricsFactory = MetricsSystem.factory
        /// The time written into conditions' lastTransitionTime.
        public var now: @Sendable () -> Date = { Date() }
        /// How often a kind listed in a blueprint's `spec.subjects` that the server does not serve
        /// (its CRD not installed yet) is looked up again.
        public var subjectRecheckInterval: Duration = .seconds(10)

        /// Creates options; all namespaces when `namespace` is nil.
        public init(namespace: String? = nil) { self.namespace = namespace }
    }

    /// What the controller did so far, for tests and benchmarks (the metrics count the same writes).
    public struct Statistics: Sendable, Equatable {
        /// Reconciles finished, whatever their outcome.
        public var reconciles = 0
        /// Configurations created.
        public var creates = 0
        /// Configurations updated (drift or a render change).
        public var updates = 0
        /// Configurations deleted after an opt-out.
        public var deletes = 0
        /// Warning Events recorded (failed renders, name conflicts, missing storage), one per
        /// change of a target's failure.
        public var warnings = 0
        /// Status subresource writes, of configurations and blueprints.
        public var statusWrites = 0
        /// Of those, writes of blueprint status.
        public var blueprintStatusWrites = 0
        /// Blueprint metadata writes: the finalizer added or removed.
        public var blueprintUpdates = 0
        /// Writes answered 409 Conflict, each retried through the queue.
        public var conflicts = 0
    }

    /// The informer index from `<blueprint namespace>/<blueprint name>` to the targets that name it.
    static let blueprintIndex = "blueprint"

    /// The configuration informer index from `<storage namespace>/<storage name>` to the configurations that name it.
    static let storageIndex = "storage"

    let client: KubeClient
    let options: Options
    let logger: Logger
    let targets: TargetInformers
    let blueprints: Informer
    let configurations: Informer
    let storages: Informer
    private let namespaces: Informer
    /// Where the informers of configurations, blueprints, storages and Namespaces come from; run
    /// by ``run()`` only when the controller made them itself.
    let informers: SharedInformers
    let ownsInformers: Bool
    let recorder: EventRecorder
    let queue = WorkQueue<TargetKey>()
    /// Blueprints whose status, finalizer or deletion needs looking at.
    let blueprintQueue = WorkQueue<ObjectKey>()
    /// The latest report of every opted-in target.
    let book = Mutex(OutcomeBook())
    /// Per configuration, the resourceVersions our own writes replaced: a cache still showing one
    /// of them lags behind our write, whose watch event brings the key back (client-go's
    /// "expectations"), so the reconcile waits for it instead of writing into a 409.
    let superseded = Mutex<[ObjectKey: Set<String>]>([:])
    /// The configurations Cairn manages now (generated, not detached), for the gauge.
    private let managed = Mutex<Set<ObjectKey>>([])
    let metrics: AutoBackupMetrics
    /// The renderer and the blueprint generation it was built from; rebuilt only when blueprints change.
    private let rendererState = Mutex<(generation: Int, built: Int, renderer: Renderer?)>((0, -1, nil))
    /// The served BackupConfiguration schema, which types lone `${...}` references in live blueprints.
    private let configurationSchema = Mutex<StructuralSchema?>(nil)
    let counters = Mutex(Statistics())

    /// Creates a controller; nothing runs before ``run()``. Given `informers`, it reads
    /// configurations, blueprints, storages and Namespaces through them and leaves running them to
    /// their owner (as in `cairn controller`, where the scheduler reads the same configurations);
    /// else it makes and runs its own. Target informers are always its own.
    public init(client: KubeClient, options: Options = Options(), informers shared: SharedInformers? = nil,
                logger: Logger = Logger(label: "cairn.autobackup")) {
        self.client = client
        self.options = options
        self.logger = logger
        informers = shared ?? SharedInformers(client: client, logger: logger)
        ownsInformers = shared == nil
        let blueprints = informers.informer(CairnResource.blueprints)
        self.blueprints = blueprints
        configurations = informers.informer(CairnResource.configurations, namespace: options.namespace)
        configurations.addIndexers([Self.storageIndex: Self.storageKeys])
        storages = informers.informer(CairnResource.storages)
        metrics = AutoBackupMetrics(factory: options.metricsFactory)
        namespaces = informers.informer(CairnResource.namespaces, transform: .metadataOnly)  // a usage policy reads namespace labels only
        let recorder = EventRecorder(client: client, options: .init(component: options.component))
        self.recorder = recorder
        targets = TargetInformers(client: client, namespace: options.namespace, queue: queue, blueprints: blueprints, recorder: recorder,
                                  recheckInterval: options.subjectRecheckInterval, logger: logger)
        addHandlers()
    }

    /// The counters so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// Runs the informers, the Event recorder and the workers until the task is cancelled.
    public func run() async {
        let runner = ControllerRunner(
            queue: queue, workers: options.workers, gracePeriod: options.gracePeriod, logger: logger
        ) { [self] key in try await reconcile(key) }
        let blueprintRunner = ControllerRunner(
            queue: blueprintQueue, workers: 1, gracePeriod: options.gracePeriod, logger: logger
        ) { [self] key in try await reconcileBlueprint(key) }
        await loadConfigurationSchema()
        await withTaskGroup(of: Void.self) { group in
            for informer in targets.builtInInformers { group.addTask { await informer.run() } }
            if ownsInformers { group.addTask { await self.informers.run() } }
            group.addTask { await self.recorder.run() }
            group.addTask { await self.targets.run() }
            group.addTask {
                // Reconciling against a half-filled cache would create what already exists.
                do { try await self.waitForSync() } catch { return }
                await withTaskGroup(of: Void.self) { runners in
                    runners.addTask { await runner.run() }
                    runners.addTask { await blueprintRunner.run() }
                }
            }
        }
    }

    /// Reads the BackupConfiguration CRD's schema; without it, live blueprints are typed as if every
    /// lone reference were plain (see `LiveBlueprint`), which the log says.
    private func loadConfigurationSchema() async {
        do {
            let schema = try await CairnResource.servedConfigurationSchema(client)
            configurationSchema.withLock { $0 = schema }
            rendererState.withLock { $0.generation += 1 }
        } catch {
            logger.warning("cannot read the BackupConfiguration CRD's schema; a quoted lone ${...} in a blueprint is typed by its value", metadata: ["error": "\(error)"])
        }
    }

    /// Waits until every informer holds its first list; throws `CancellationError` if cancelled first.
    public func waitForSync() async throws {
        for informer in allInformers { try await informer.waitForSync() }
    }

    /// Queues every cached target, as a periodic resync would.
    public func requeueAll() async {
        for entry in targets.all {
            for object in entry.informer.list() { await queue.add(TargetKey(kind: entry.kind.kind, object)) }
        }
    }

    /// The kinds watched for annotated targets: the built-in ones and those blueprints list in `spec.subjects`.
    public var watchedKinds: [TargetKind] { targets.all.map(\.kind).sorted { $0.kind < $1.kind } }

    /// Each informer's counters (lists, relists after 410 Gone, watches), by resource.
    public var informerStatistics: [String: Informer.Statistics] {
        let informers = targets.all.map(\.informer) + [blueprints, configurations, namespaces, storages]
        return Dictionary(informers.map { ("\($0.resource)", $0.statistics) }, uniquingKeysWith: { first, _ in first })
    }

    /// The informers the controller waits for before it reconciles; a dynamic kind's informer
    /// fills in later and queues its targets as it does.
    private var allInformers: [Informer] { targets.builtInInformers + [blueprints, configurations, namespaces, storages] }

    /// The target informer for a kind, and the kind.
    func target(_ kind: String) -> (kind: TargetKind, informer: Informer)? { targets.entry(kind).map { ($0.kind, $0.informer) } }

    // MARK: - Renderer and namespace labels

    /// The renderer over the cached blueprints, rebuilt when a blueprint changed since it was built.
    func renderer() -> Renderer {
        let (generation, cached) = rendererState.withLock { state in
            (state.generation, state.built == state.generation ? state.renderer : nil)
        }
        if let cached { return cached }
        let renderer = Renderer(blueprints: blueprints.list().compactMap(decodeBlueprint))
        rendererState.withLock { state in
            // A blueprint event during the build bumped the generation: keep the newer state's claim.
            if state.generation == generation { (state.built, state.renderer) = (generation, renderer) }
        }
        return renderer
    }

    private func decodeBlueprint(_ node: Node) -> BackupBlueprint? {
        // A blueprint being deleted renders nothing, so its deletion policy is not undone by a re-render.
        guard node[path: "metadata", "deletionTimestamp"] == Node?.none else { return nil }
        do {
            let schema = configurationSchema.withLock { $0 }
            return try NodeDecoder().decode(BackupBlueprint.self, from: LiveBlueprint.plainReferences(node, configurationSchema: schema))
        } catch {
            logger.error("BackupBlueprint \(node.namespace)/\(node.name) does not decode and is ignored: \(error)")
            return nil
        }
    }

    func namespaceLabels(_ namespace: String) -> [String: String]? {
        namespaces.get(name: namespace)?.stringMap("labels")
    }

    // MARK: - Wiring events to keys

    private func addHandlers() {
        // The target informers queue their own keys (see TargetInformers). Weak: the informers hold these handlers and the controller holds the informers.
        configurations.addHandler(
            added: { [weak self] in await self?.enqueueOwner(of: $0) },
            updated: { [weak self] in await self?.enqueueOwner(of: $1) },
            deleted: { [weak self] in await self?.enqueueOwner(of: $0) })
        blueprints.addHandler(
            added: { [weak self] in await self?.blueprintChanged([$0]) },
            updated: { [weak self] old, new in
                // Our own status writes come back here: only a spec or deletion change re-renders,
                // and anything else is looked at within the status delay, so it cannot undo the coalescing.
                guard old["spec"] != new["spec"] || old[path: "metadata", "deletionTimestamp"] != new[path: "metadata", "deletionTimestamp"] else {
                    guard let self else { return }
                    await blueprintQueue.addAfter(ObjectKey(namespace: new.namespace, name: new.name), options.blueprintStatusDelay)
                    return
                }
                await self?.blueprintChanged([old, new])
            },
            deleted: { [weak self] in await self?.blueprintChanged([$0]) })
        storages.addHandler(
            added: { [weak self] in await self?.storageChanged($0) },
            deleted: { [weak self] in await self?.storageChanged($0) })
        configurations.addHandler(
            added: { [weak self] in self?.trackManaged($0, exists: true) },
            updated: { [weak self] in self?.trackManaged($1, exists: true) },
            deleted: { [weak self] in self?.trackManaged($0, exists: false) })
        namespaces.addHandler(updated: { [weak self] old, new in
            guard old.stringMap("labels") != new.stringMap("labels") else { return }
            await self?.enqueueNamespace(new.name)
        })
    }

    /// A change to a configuration (drift, deletion) wakes the target it backs up.
    func enqueueOwner(of configuration: Node) async {
        guard let kind = configuration[path: "spec", "target", "kind"]?.string, targets.entry(kind) != nil,
              let name = configuration[path: "spec", "target", "name"]?.string else { return }
        await queue.add(TargetKey(kind: kind, namespace: configuration.namespace, name: name))
    }

    /// A blueprint change invalidates the renderer and wakes every target that names the blueprint,
    /// and the blueprint's own key (status, finalizer, deletion).
    private func blueprintChanged(_ versions: [Node]) async {
        rendererState.withLock { $0.generation += 1 }
        for version in versions { await blueprintQueue.add(ObjectKey(namespace: version.namespace, name: version.name)) }
        targets.subjectsChanged()
        for value in Set(versions.map { "\($0.namespace)/\($0.name)" }) {
            for entry in targets.all {
                for object in entry.informer.byIndex(name: Self.blueprintIndex, value: value) {
                    await queue.add(TargetKey(kind: entry.kind.kind, object))
                }
            }
        }
    }

    /// A storage that appears or goes wakes the targets whose configurations name it.
    private func storageChanged(_ storage: Node) async {
        for configuration in configurations.byIndex(name: Self.storageIndex, value: "\(storage.namespace)/\(storage.name)") {
            await enqueueOwner(of: configuration)
        }
    }

    /// Keeps the set of managed configurations, and its gauge, in step with the cache.
    private func trackManaged(_ configuration: Node, exists: Bool) {
        let key = ObjectKey(namespace: configuration.namespace, name: configuration.name)
        let isManaged = exists && configuration.stringMap("labels")[CairnLabel.managedBy] == CairnLabel.managedByValue
            && !ReconcilePlan.isDetached(configuration)
        let count = managed.withLock { set in
            if isManaged { set.insert(key) } else { set.remove(key) }
            return set.count
        }
        if !exists { superseded.withLock { $0[key] = nil } }
        metrics.managedConfigurations(count)
    }

    private func enqueueNamespace(_ namespace: String) async {
        for entry in targets.all {
            for object in entry.informer.list(namespace: namespace) { await queue.add(TargetKey(kind: entry.kind.kind, object)) }
        }
    }

    /// `<storage namespace>/<storage name>` for a configuration, the index ``storageIndex`` files it under.
    @Sendable static func storageKeys(_ configuration: Node) -> [String] {
        guard let storage = ReconcilePlan.storage(of: configuration) else { return [] }
        return ["\(storage.namespace ?? configuration.namespace)/\(storage.name)"]
    }

    /// `<blueprint namespace>/<blueprint name>` for an opted-in object, the index ``blueprintIndex`` files it under.
    @Sendable static func blueprintKeys(_ object: Node) -> [String] {
        let annotations = object.stringMap("annotations")
        guard let name = annotations[BlueprintAnnotation.name] else { return [] }
        return ["\(annotations[BlueprintAnnotation.namespace] ?? object.namespace)/\(name)"]
    }
}
