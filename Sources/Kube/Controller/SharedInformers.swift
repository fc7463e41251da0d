import Logging
import Synchronization
import YAML

/// One informer per resource, namespace, label selector and transform, shared by every
/// controller in a process, as client-go's `SharedInformerFactory`: each cache and watch exists
/// once, however many controllers read it.
///
/// Owners ask for informers with ``informer(_:namespace:labelSelector:transform:)`` and add their
/// handlers and indexes to it, but never call the informer's `run()`: ``run()`` runs every
/// informer made here, including those asked for after it started.
public final class SharedInformers: Sendable {
    /// A transform with a name, since closures cannot be compared: informers of one resource with
    /// different transforms are different informers.
    public struct Transform: Sendable {
        /// Names the transform; equal names must mean equal transforms.
        public let name: String
        /// The transform itself, as `Informer.Options.transform`.
        public let apply: @Sendable (Node) -> Node

        /// Creates a named transform.
        public init(name: String, apply: @escaping @Sendable (Node) -> Node) {
            self.name = name
            self.apply = apply
        }

        /// ``Informer/metadataOnly``.
        public static let metadataOnly = Transform(name: "metadataOnly", apply: Informer.metadataOnly)
    }

    private struct Key: Hashable {
        var resource: Resource
        var namespace: String?
        var labelSelector: String?
        var transform: String?
    }

    private let client: KubeClient
    private let options: Informer.Options
    private let clock: any KubeClock
    private let logger: Logger
    private let informers = Mutex<[Key: Informer]>([:])
    private let running = Mutex(false)
    private let started: AsyncStream<Informer>
    private let start: AsyncStream<Informer>.Continuation

    /// Creates an empty set; `options` (page size, resync, watch timeout, backoff) apply to every
    /// informer, with each one's transform set as asked.
    public init(client: KubeClient, options: Informer.Options = Informer.Options(), clock: any KubeClock = SystemKubeClock(),
                logger: Logger = Logger(label: "cairn.informer")) {
        self.client = client
        self.options = options
        self.clock = clock
        self.logger = logger
        (started, start) = AsyncStream.makeStream(of: Informer.self)
    }

    /// The informer of `resource` in `namespace` (all when nil) matching `labelSelector`, with
    /// objects passed through `transform`: the existing one if any owner asked for it before.
    public func informer(_ resource: Resource, namespace: String? = nil, labelSelector: String? = nil,
                         transform: Transform? = nil) -> Informer {
        let key = Key(resource: resource, namespace: namespace, labelSelector: labelSelector, transform: transform?.name)
        return informers.withLock { informers in
            if let existing = informers[key] { return existing }
            var options = options
            options.transform = transform?.apply
            let informer = Informer(client: client, resource: resource, namespace: namespace, labelSelector: labelSelector,
                                    options: options, clock: clock, logger: logger)
            informers[key] = informer
            start.yield(informer)
            return informer
        }
    }

    /// How many informers there are, for tests.
    public var count: Int { informers.withLock { $0.count } }

    /// Runs every informer, those asked for later included, until the task is cancelled; call once.
    public func run() async {
        guard running.withLock({ running in defer { running = true }; return !running }) else {
            logger.error("run() called on shared informers that already ran; create a new set instead")
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for await informer in started { group.addTask { await informer.run() } }
            group.cancelAll()
        }
    }

    /// Waits until every informer asked for so far holds its first list; throws
    /// `CancellationError` if cancelled first.
    public func waitForSync() async throws {
        for informer in informers.withLock({ Array($0.values) }) { try await informer.waitForSync() }
    }
}
