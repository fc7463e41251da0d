import Logging
import Synchronization
import YAML

/// A local, indexed copy of one resource type (optionally one namespace and one label selection),
/// kept current by list-then-watch, as client-go's shared informer.
///
/// `run()` lists in pages, storing each page before it asks for the next, then watches from the list's resourceVersion with bookmarks. It tracks
/// the resourceVersion of every event and bookmark, so a watch that ends (the server's timeout, a
/// dropped connection) resumes where it stopped, after a jittered exponential backoff when it
/// failed. When the server answers 410 Gone (as an HTTP error or as an `ERROR` event), it lists
/// again and delivers the differences as adds, updates and deletes.
///
/// Reads (`get`, `list`, `byIndex`) are synchronous and safe from any task. Events reach the
/// handlers and `events()` streams in the order the cache changed; register them before `run()`.
public final class Informer: Sendable {
    /// The index of objects by namespace.
    public static let namespaceIndex = "namespace"
    /// The index of objects by label, one value per label: `app=db`.
    public static let labelIndex = "label"

    /// How the informer lists, watches and retries.
    public struct Options: Sendable {
        /// The page size of a list (`limit`).
        public var pageSize: Int = 500
        /// How often every cached object is delivered again as an update; nil never.
        public var resyncInterval: Duration?
        /// The shortest `timeoutSeconds` asked for a watch; each watch asks for a random time
        /// between this and twice this, so that many informers do not reconnect together.
        public var watchTimeout: Duration = .seconds(300)
        /// The waits between failed lists or watches.
        public var backoff = Backoff()
        /// Applied to every listed or watched object before it is cached and delivered, to keep
        /// only what the controller reads (client-go's `SetTransform`); nil keeps objects whole.
        public var transform: (@Sendable (Node) -> Node)?

        /// The defaults: pages of 500, no resync, watches of 5–10 minutes, 100 ms to 30 s backoff.
        public init() {}
    }

    /// Counters, for monitoring and tests.
    public struct Statistics: Sendable {
        /// Complete lists, the first included.
        public var lists = 0
        /// Lists forced by 410 Gone.
        public var relists = 0
        /// Watch requests started.
        public var watches = 0
        /// The last list or watch failure, if any.
        public var lastError: String?
    }

    /// Handler closures, called one event at a time in order.
    public struct Handler: Sendable {
        var added: @Sendable (Node) async -> Void
        var updated: @Sendable (_ old: Node, _ new: Node) async -> Void
        var deleted: @Sendable (Node) async -> Void

        func callAsFunction(_ event: InformerEvent) async {
            switch event {
            case .added(let object): await added(object)
            case .updated(let old, let new): await updated(old, new)
            case .deleted(let object): await deleted(object)
            }
        }
    }

    /// The resource type watched.
    public let resource: Resource
    /// The namespace watched; nil for all.
    public let namespace: String?
    /// The label selector, if any.
    public let labelSelector: String?
    let client: KubeClient
    let options: Options
    let clock: any KubeClock
    let logger: Logger
    let state: Mutex<State>
    private let dispatch: AsyncStream<InformerEvent>
    let dispatchInput: AsyncStream<InformerEvent>.Continuation

    struct State: Sendable {
        var cache: ObjectCache
        var resourceVersion = ""
        var synced = false
        var started = false
        var syncWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter = 0
        var subscribers: [Int: AsyncStream<InformerEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var handlers: [Handler] = []
        var statistics = Statistics()
    }

    /// Creates an informer; `indexers` adds named indexes next to `namespaceIndex` and `labelIndex`.
    public init(client: KubeClient, resource: Resource, namespace: String? = nil, labelSelector: String? = nil,
                indexers: [String: Indexer] = [:], options: Options = Options(),
                clock: any KubeClock = SystemKubeClock(), logger: Logger = Logger(label: "cairn.informer")) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.options = options
        self.clock = clock
        var logger = logger
        logger[metadataKey: "resource"] = "\(resource)"
        self.logger = logger
        var all = indexers
        all[Self.namespaceIndex] = { [$0[path: "metadata", "namespace"]?.string ?? ""] }
        all[Self.labelIndex] = Self.labelPairs
        state = Mutex(State(cache: ObjectCache(indexers: all)))
        (dispatch, dispatchInput) = AsyncStream.makeStream(of: InformerEvent.self)
    }

    /// A transform that keeps `apiVersion`, `kind` and `metadata` without `managedFields`: for
    /// controllers that read only names, labels, annotations and owners, so that a cache of
    /// Deployments does not hold every pod template and status.
    public static let metadataOnly: @Sendable (Node) -> Node = { object in
        var metadata = object["metadata"] ?? .mapping([])
        metadata["managedFields"] = nil
        var kept: [Node.Pair] = []
        for key in ["apiVersion", "kind"] { if let value = object[key] { kept.append(Node.Pair(key: .string(key), value: value)) } }
        kept.append(Node.Pair(key: .string("metadata"), value: metadata))
        return Node(.mapping(kept))
    }

    /// Adds named indexes next to those given at creation, and files the cached objects under
    /// them: for a shared informer, whose owners each bring their own. A name already defined is
    /// a programming error and stops the process.
    public func addIndexers(_ indexers: [String: Indexer]) {
        state.withLock { $0.cache.addIndexers(indexers) }
    }

    // MARK: reading the cache

    /// Whether the first list is in the cache.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// The resourceVersion the cache is current to.
    public var resourceVersion: String { state.withLock { $0.resourceVersion } }

    /// The counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// The cached object, if any.
    public func get(namespace: String = "", name: String) -> Node? { get(ObjectKey(namespace: namespace, name: name)) }

    /// The cached object under `key`, if any.
    public func get(_ key: ObjectKey) -> Node? { state.withLock { $0.cache.objects[key] }?.object }

    /// The cached objects of one namespace, or all when nil, in key order.
    public func list(namespace: String? = nil) -> [Node] {
        state.withLock { state in
            namespace.map { state.cache.byIndex(Self.namespaceIndex, $0) } ?? state.cache.all
        }.map(\.object)
    }

    /// The cached objects the index `name` files under `value`, in key order:
    /// `byIndex(name: Informer.labelIndex, value: "app=db")`.
    public func byIndex(name: String, value: String) -> [Node] {
        state.withLock { $0.cache.byIndex(name, value) }.map(\.object)
    }

    /// Every value of the index `name` that currently has objects.
    public func indexValues(name: String) -> [String] { state.withLock { $0.cache.indexValues(name) } }

    /// Waits until the first list is in the cache; throws `CancellationError` if the task is
    /// cancelled first.
    public func waitForSync() async throws {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state in
                    if state.synced || Task.isCancelled { return true }
                    state.syncWaiters[id] = continuation
                    return false
                }
                guard resumeNow else { return }
                if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.syncWaiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    // MARK: subscribing

    /// A stream of every change from now on; it ends when `run()` returns.
    public func events() -> AsyncStream<InformerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: InformerEvent.self)
        let id = state.withLock { state in
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Registers handler closures; `deleted` receives the last known state of the object.
    public func addHandler(added: @escaping @Sendable (Node) async -> Void = { _ in },
                           updated: @escaping @Sendable (_ old: Node, _ new: Node) async -> Void = { _, _ in },
                           deleted: @escaping @Sendable (Node) async -> Void = { _ in }) {
        state.withLock { $0.handlers.append(Handler(added: added, updated: updated, deleted: deleted)) }
    }

    // MARK: running

    /// Lists, watches and delivers events until the task is cancelled; then ends the `events()`
    /// streams. Failures are retried with backoff, logged, and counted in `statistics`; call once.
    public func run() async {
        guard state.withLock({ state in defer { state.started = true }; return !state.started }) else {
            logger.error("run() called on an informer that already ran; create a new informer instead")
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.deliverEvents() }
            if let interval = options.resyncInterval { group.addTask { await self.resync(every: interval) } }
            await listAndWatch()
            group.cancelAll()
        }
        let subscribers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    private func deliverEvents() async {
        for await event in dispatch {
            let (subscribers, handlers) = state.withLock { (Array($0.subscribers.values), $0.handlers) }
            for subscriber in subscribers { subscriber.yield(event) }
            for handler in handlers { await handler(event) }
        }
    }

    private func resync(every interval: Duration) async {
        while true {
            do { try await clock.sleep(for: interval) } catch { return }  // cancelled: the informer stops
            // Inside the lock, so no watch event slips between the snapshot and its delivery.
            state.withLock { state in
                guard state.synced else { return }
                for stored in state.cache.all {
                    let object = stored.object
                    dispatchInput.yield(.updated(old: object, new: object))
                }
            }
        }
    }

    static func labelPairs(_ object: Node) -> [String] {
        (object[path: "metadata", "labels"]?.mapping ?? []).compactMap { pair in
            guard let key = pair.key.string, let value = pair.value.string else { return nil }
            return "\(key)=\(value)"
        }
    }
}
