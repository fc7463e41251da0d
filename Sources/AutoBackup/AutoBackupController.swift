import Blueprint
import CairnAPI
import Kube
import Logging
import Synchronization
import YAML

/// Watches annotated workloads, PVCs, the further kinds blueprints list in `spec.subjects`, and
/// BackupBlueprints, and keeps one rendered
/// BackupConfiguration per opted-in target in step, keyed by target.
///
/// Every reconcile re-reads the informers' caches and renders from scratch; the decision is
/// ``ReconcilePlan``'s, this type only watches, queues and writes.
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
        /// How often a kind listed in a blueprint's `spec.subjects` that the server does not serve
        /// (its CRD not installed yet) is looked up again.
        public var subjectRecheckInterval: Duration = .seconds(10)

        /// Creates options; all namespaces when `namespace` is nil.
        public init(namespace: String? = nil) { self.namespace = namespace }
    }

    /// What the controller did so far, for tests and, later, metrics.
    public struct Statistics: Sendable, Equatable {
        /// Reconciles finished, whatever their outcome.
        public var reconciles = 0
        /// Configurations created.
        public var creates = 0
        /// Configurations updated (drift or a render change).
        public var updates = 0
        /// Configurations deleted after an opt-out.
        public var deletes = 0
        /// Warning Events recorded (failed renders, name conflicts).
        public var warnings = 0
    }

    /// The informer index from `<blueprint namespace>/<blueprint name>` to the targets that name it.
    static let blueprintIndex = "blueprint"

    private let client: KubeClient
    private let options: Options
    private let logger: Logger
    private let targets: TargetInformers
    private let blueprints: Informer
    private let configurations: Informer
    private let namespaces: Informer
    private let recorder: EventRecorder
    private let queue = WorkQueue<TargetKey>()
    /// The renderer and the blueprint generation it was built from; rebuilt only when blueprints change.
    private let rendererState = Mutex<(generation: Int, built: Int, renderer: Renderer?)>((0, -1, nil))
    /// The served BackupConfiguration schema, which types lone `${...}` references in live blueprints.
    private let configurationSchema = Mutex<StructuralSchema?>(nil)
    private let counters = Mutex(Statistics())

    /// Creates a controller; nothing runs before ``run()``.
    public init(client: KubeClient, options: Options = Options(), logger: Logger = Logger(label: "cairn.autobackup")) {
        self.client = client
        self.options = options
        self.logger = logger
        let blueprints = Informer(client: client, resource: CairnResource.blueprints, logger: logger)
        self.blueprints = blueprints
        configurations = Informer(client: client, resource: CairnResource.configurations, namespace: options.namespace, logger: logger)
        namespaces = Informer(client: client, resource: CairnResource.namespaces, logger: logger)
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
        await loadConfigurationSchema()
        await withTaskGroup(of: Void.self) { group in
            for informer in allInformers { group.addTask { await informer.run() } }
            group.addTask { await self.recorder.run() }
            group.addTask { await self.targets.run() }
            group.addTask {
                // Reconciling against a half-filled cache would create what already exists.
                do { try await self.waitForSync() } catch { return }
                await runner.run()
            }
        }
    }

    /// Reads the BackupConfiguration CRD's schema; without it, live blueprints are typed as if every
    /// lone reference were plain (see `LiveBlueprint`), which the log says.
    private func loadConfigurationSchema() async {
        let crds = Resource(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false)
        do {
            let crd = try CRDDocument(try await client.get(crds, name: "backupconfigurations.\(CairnGroup.group)"))
            let schema = crd.version(CairnGroup.version)?.schema
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
        let informers = targets.all.map(\.informer) + [blueprints, configurations, namespaces]
        return Dictionary(informers.map { ("\($0.resource)", $0.statistics) }, uniquingKeysWith: { first, _ in first })
    }

    /// The informers the controller waits for before it reconciles; a dynamic kind's informer
    /// fills in later and queues its targets as it does.
    private var allInformers: [Informer] { targets.builtInInformers + [blueprints, configurations, namespaces] }

    // MARK: - Reconcile

    /// Renders one target and creates, updates or deletes its configuration so that it matches.
    func reconcile(_ key: TargetKey) async throws -> ReconcileResult {
        defer { counters.withLock { $0.reconciles += 1 } }
        guard let (object, target) = targetObject(key) else { return .done }
        let outcome = renderer().render(target, namespaceLabels: namespaceLabels(target.namespace))
        let name = Naming.configurationName(kind: target.kind, name: target.name)
        let live = configurations.get(namespace: target.namespace, name: name)
        let action = ReconcilePlan.decide(outcome: outcome, live: live, target: target)
        return try await perform(action, key: key, target: object)
    }

    /// The cached target with its kind filled in, or nil when it is gone or going (GC removes its configuration).
    private func targetObject(_ key: TargetKey) -> (Node, RenderTarget)? {
        guard let entry = targets.entry(key.kind), var object = entry.informer.get(namespace: key.namespace, name: key.name) else { return nil }
        guard object[path: "metadata", "deletionTimestamp"] == Node?.none else { return nil }
        object["apiVersion"] = .string(entry.kind.apiVersion)
        object["kind"] = .string(entry.kind.kind)
        do {
            return (object, try RenderTarget(manifest: object))
        } catch {
            logger.error("cannot read the target: \(error)", metadata: ["key": "\(key)"])
            return nil
        }
    }

    private func perform(_ action: ReconcileAction, key: TargetKey, target: Node) async throws -> ReconcileResult {
        var logger = logger
        logger[metadataKey: "key"] = "\(key)"
        do {
            switch action {
            case .nothing:
                return .done
            case .create(let configuration):
                _ = try await client.create(CairnResource.configurations, namespace: key.namespace, configuration)
                count(\.creates, logger, "created BackupConfiguration \(configuration.name)")
            case .update(let configuration):
                _ = try await client.update(CairnResource.configurations, namespace: key.namespace, configuration)
                count(\.updates, logger, "updated BackupConfiguration \(configuration.name)")
            case .delete(let name):
                // Gone already: a reconcile that ran before the cache saw the deletion.
                guard try await delete(name, namespace: key.namespace) else { return .done }
                count(\.deletes, logger, "deleted BackupConfiguration \(name): the target opted out")
            case .warn(let reason, let message):
                recorder.record(target, type: .warning, reason: reason, message: message)
                count(\.warnings, logger, "\(reason): \(message)")
            }
            return .done
        } catch let error as KubeError where error.kind == .conflict || error.kind == .alreadyExists {
            // The cache lags behind the server; its watch event brings the key back, this makes sure.
            logger.debug("requeued after \(error.kind): \(error.message)")
            return .requeue(after: options.conflictRequeue)
        }
    }

    /// Deletes a configuration; false when it was already gone.
    private func delete(_ name: String, namespace: String) async throws -> Bool {
        do {
            try await client.delete(CairnResource.configurations, namespace: namespace, name: name)
            return true
        } catch let error as KubeError where error.kind == .notFound {
            return false
        }
    }

    private func count(_ field: WritableKeyPath<Statistics, Int>, _ logger: Logger, _ message: Logger.Message) {
        counters.withLock { $0[keyPath: field] += 1 }
        logger.info(message)
    }

    // MARK: - Renderer and namespace labels

    /// The renderer over the cached blueprints, rebuilt when a blueprint changed since it was built.
    private func renderer() -> Renderer {
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
        do {
            let schema = configurationSchema.withLock { $0 }
            return try NodeDecoder().decode(BackupBlueprint.self, from: LiveBlueprint.plainReferences(node, configurationSchema: schema))
        } catch {
            logger.error("BackupBlueprint \(node.namespace)/\(node.name) does not decode and is ignored: \(error)")
            return nil
        }
    }

    private func namespaceLabels(_ namespace: String) -> [String: String]? {
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
            updated: { [weak self] in await self?.blueprintChanged([$0, $1]) },
            deleted: { [weak self] in await self?.blueprintChanged([$0]) })
        namespaces.addHandler(updated: { [weak self] old, new in
            guard old.stringMap("labels") != new.stringMap("labels") else { return }
            await self?.enqueueNamespace(new.name)
        })
    }

    /// A change to a configuration (drift, deletion) wakes the target it backs up.
    private func enqueueOwner(of configuration: Node) async {
        guard let kind = configuration[path: "spec", "target", "kind"]?.string, targets.entry(kind) != nil,
              let name = configuration[path: "spec", "target", "name"]?.string else { return }
        await queue.add(TargetKey(kind: kind, namespace: configuration.namespace, name: name))
    }

    /// A blueprint change invalidates the renderer and wakes every target that names the blueprint.
    private func blueprintChanged(_ versions: [Node]) async {
        rendererState.withLock { $0.generation += 1 }
        targets.subjectsChanged()
        for value in Set(versions.map { "\($0.namespace)/\($0.name)" }) {
            for entry in targets.all {
                for object in entry.informer.byIndex(name: Self.blueprintIndex, value: value) {
                    await queue.add(TargetKey(kind: entry.kind.kind, object))
                }
            }
        }
    }

    private func enqueueNamespace(_ namespace: String) async {
        for entry in targets.all {
            for object in entry.informer.list(namespace: namespace) { await queue.add(TargetKey(kind: entry.kind.kind, object)) }
        }
    }

    /// `<blueprint namespace>/<blueprint name>` for an opted-in object, the index ``blueprintIndex`` files it under.
    @Sendable static func blueprintKeys(_ object: Node) -> [String] {
        let annotations = object.stringMap("annotations")
        guard let name = annotations[BlueprintAnnotation.name] else { return [] }
        return ["\(annotations[BlueprintAnnotation.namespace] ?? object.namespace)/\(name)"]
    }
}
