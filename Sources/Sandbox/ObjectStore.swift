import CairnAPI
import Foundation
import YAML

/// The sandbox API server's storage: typed objects as JSON trees, with the semantics of
/// kube-apiserver and etcd (resourceVersion, uid, generation, finalizers, garbage collection,
/// selectors, pagination, watch history).
public actor ObjectStore {
    /// Injected dependencies and limits.
    public struct Configuration: Sendable {
        /// The time stamped into `creationTimestamp` and `deletionTimestamp`.
        public var clock: @Sendable () -> Date
        /// Five lowercase alphanumerics appended to `generateName`.
        public var nameSuffix: @Sendable () -> String
        /// A new `metadata.uid`.
        public var uid: @Sendable () -> String
        /// How many events the watch history keeps; older resourceVersions answer 410.
        public var historyLimit: Int
        /// How many undelivered events a watcher may have before its stream is ended with 410.
        public var watcherBufferLimit: Int

        /// Creates a configuration; the defaults use the system clock and randomness.
        public init(
            clock: @escaping @Sendable () -> Date = { Date() },
            nameSuffix: @escaping @Sendable () -> String = ObjectStore.randomSuffix,
            uid: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
            historyLimit: Int = 1000, watcherBufferLimit: Int = 1000
        ) {
            self.clock = clock
            self.nameSuffix = nameSuffix
            self.uid = uid
            self.historyLimit = historyLimit
            self.watcherBufferLimit = watcherBufferLimit
        }
    }

    /// Five random characters from Kubernetes' `generateName` alphabet.
    @Sendable public static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    let configuration: Configuration
    var types: [GroupResource: ResourceType] = [:]
    var objects: [ObjectKey: Node] = [:]
    /// What garbage collection looks at; `commit` and snapshot loading keep it in step with `objects`.
    var collection = CollectionIndex()
    /// Whether a write since the last collection could have given garbage collection work: a
    /// deletion, or a change to an object with owners or a deletionTimestamp. Other writes leave a
    /// settled state settled, so bulk creates of unrelated objects skip planning altogether.
    var collectionDue = false
    /// Recent paged lists in order, by snapshot; see `orderedMatches`.
    var listCache: [ListCacheKey: [(path: String, object: Node)]] = [:]
    /// The last resourceVersion handed out.
    var revision = 0
    var history = EventHistory()
    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 0

    /// Creates a store that serves the built-in resource types.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        for type in ResourceType.builtIn { types[type.groupResource] = type }
    }

    /// The resource types currently served, built-in and from CRDs.
    public var resourceTypes: [ResourceType] { types.values.sorted { $0.groupResource < $1.groupResource } }

    /// The current resourceVersion of the whole store.
    public var resourceVersion: String { String(revision) }

    /// Serves another resource type (CRDs do this by themselves).
    public func register(_ type: ResourceType) { types[type.groupResource] = type }

    // MARK: - Reads

    /// The object, or 404.
    public func get(_ resource: ResourceID, namespace: String? = nil, name: String) throws(StatusError) -> Node {
        let type = try lookup(resource)
        let key = try self.key(type, namespace: namespace, name: name)
        guard let object = objects[key] else { throw .notFound(type.groupResource, name) }
        return present(object, as: resource)
    }

    // MARK: - Shared steps

    func lookup(_ resource: ResourceID) throws(StatusError) -> ResourceType {
        guard let type = types[resource.groupResource], type.versions.contains(resource.version) else { throw .noSuchResource() }
        return type
    }

    func key(_ type: ResourceType, namespace: String?, name: String) throws(StatusError) -> ObjectKey {
        if type.namespaced {
            guard let namespace, !namespace.isEmpty else { throw .badRequest("a namespace is required for \(type.groupResource)") }
            return ObjectKey(resource: type.groupResource, namespace: namespace, name: name)
        }
        return ObjectKey(resource: type.groupResource, namespace: "", name: name)
    }

    /// The object as a client of `resource`'s version sees it.
    func present(_ object: Node, as resource: ResourceID) -> Node {
        var copy = object
        copy["apiVersion"] = .string(resource.apiVersion)
        return copy
    }

    func timestamp() -> String {
        stampFormatter.string(from: configuration.clock())
    }

    /// Made once: building an `ISO8601DateFormatter` builds ICU formatters, which cost far more than
    /// formatting a time, and every create stamped one inside this actor (18% of the sandbox's CPU
    /// in the scheduler benchmark). Isolated to the actor, so never used from two threads at once.
    private let stampFormatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter
    }()

    /// Stamps the next resourceVersion, stores or removes the object, records and sends the event.
    @discardableResult
    func commit(_ type: WatchEvent.EventType, _ key: ObjectKey, _ object: Node) -> Node {
        revision += 1
        var stamped = object
        stamped[meta: "resourceVersion"] = .string(String(revision))
        let previous = objects[key]
        if type == .deleted || [previous, stamped].contains(where: { $0.map { !$0.ownerReferences.isEmpty || $0.isDeleting } ?? false }) {
            collectionDue = true
        }
        if type == .deleted {
            objects.removeValue(forKey: key)  // not `= nil`: Node is ExpressibleByNilLiteral
            collection.update(key, old: previous, new: nil)
        } else {
            objects[key] = stamped
            collection.update(key, old: previous, new: stamped)
        }
        let event = StoredEvent(revision: revision, type: type, key: key, object: stamped, previous: previous)
        history.append(event, limit: configuration.historyLimit)
        dispatch(event)
        return stamped
    }

    func requireMapping(_ object: Node) throws(StatusError) {
        guard object.mapping != nil else { throw .badRequest("the body of the request was not a JSON object") }
    }

    /// The object without the fields its schema does not declare, as kube-apiserver prunes custom
    /// resources (built-in kinds have no schema in the sandbox and are kept as sent).
    func pruned(_ object: Node, _ type: ResourceType, version: String) -> Node {
        type.schemas[version]?.pruned(object).object ?? object
    }

    /// 422 Invalid with every cause unless the (pruned) object satisfies its schema.
    func validate(_ object: Node, _ type: ResourceType, version: String) throws(StatusError) {
        guard let schema = type.schemas[version] else { return }
        let problems = schema.validate(object)
        guard !problems.isEmpty else { return }
        let causes = problems.map { StatusError.Cause(reason: $0.kind.causeType ?? "FieldValueInvalid", message: $0.message, field: $0.path) }
        throw .invalid(kind: type.kind, group: type.group, name: object.name, causes: causes)
    }
}
