import YAML

/// What an informer saw happen to one object.
public enum InformerEvent: Sendable, Equatable {
    /// The object appeared (or was there at the first list).
    case added(Node)
    /// The object changed; a resync re-delivers unchanged objects with `old == new`.
    case updated(old: Node, new: Node)
    /// The object is gone; its last known state.
    case deleted(Node)

    /// The object the event is about: the new state for updates.
    public var object: Node {
        switch self {
        case .added(let object), .deleted(let object), .updated(_, let object): object
        }
    }
}

/// Computes the values an object is indexed under, such as the blueprint a workload names.
public typealias Indexer = @Sendable (Node) -> [String]

/// One cached object, kept as the compact JSON the server sent rather than as a `Node` tree.
///
/// A tree takes five to six times the bytes of its JSON (a 32-byte node per value and key, an
/// array per object, a heap string per long scalar); 10,000 cached BackupConfigurations are about
/// 18 MB as JSON and over 100 MB as trees. Reads parse it again, some microseconds per object,
/// which is small beside the API call a reconcile makes.
struct StoredObject: Sendable {
    private enum Form: Sendable {
        case json([UInt8])
        /// A value JSON cannot hold (a non-finite double built in code): kept as it is.
        case tree(Node)
    }

    private let form: Form
    /// `metadata.resourceVersion`, read without parsing.
    let resourceVersion: String

    init(_ object: Node) {
        resourceVersion = ObjectCache.resourceVersion(object)
        do {
            form = .json(Array(try JSON.emit(object).utf8))
        } catch {
            form = .tree(object)
        }
    }

    /// The object, parsed again.
    var object: Node {
        switch form {
        case .tree(let node): return node
        case .json(let bytes):
            do {
                return try JSON.parse(bytes)
            } catch {
                // The bytes are JSON.emit's own output, so JSON.parse reading them back is the
                // YAML module's round-trip guarantee, tested there; failing it is a bug in that module.
                preconditionFailure("informer cache: JSON.parse rejected JSON.emit's output: \(error)")
            }
        }
    }
}

/// An informer's local copy of the objects, keyed by `namespace/name`, with indexes. A value type:
/// the informer keeps it behind a lock, and parses what it reads outside it.
struct ObjectCache: Sendable {
    private(set) var objects: [ObjectKey: StoredObject] = [:]
    private var indexers: [String: Indexer]
    private var indices: [String: [String: Set<ObjectKey>]] = [:]

    init(indexers: [String: Indexer]) {
        self.indexers = indexers
    }

    /// Stores an object; `.added` when its key is new, else `.updated` from the cached state.
    mutating func upsert(_ object: Node) -> InformerEvent {
        let key = ObjectKey(object)
        let old = objects[key]?.object
        if let old { unindex(key, old) }
        objects[key] = StoredObject(object)
        index(key, object)
        return old.map { .updated(old: $0, new: object) } ?? .added(object)
    }

    /// Removes an object; `.deleted` with `object` (the server's last state), or nil when it was
    /// not cached.
    mutating func remove(_ object: Node) -> InformerEvent? {
        let key = ObjectKey(object)
        guard let old = objects.removeValue(forKey: key)?.object else { return nil }
        unindex(key, old)
        return .deleted(object)
    }

    /// Replaces the contents with a fresh list and returns the differences, as client-go's
    /// `Replace`: deletes (with the last cached state) for keys the list no longer has, then adds
    /// for new keys and updates for objects whose resourceVersion moved.
    mutating func replace(with items: [Node]) -> [InformerEvent] {
        remove(keeping: Set(items.map(ObjectKey.init))) + merge(items)
    }

    /// Stores one page of a list: adds for new keys, updates for objects whose resourceVersion
    /// moved, nothing for the rest. An informer fills its cache page by page with this, so that
    /// only one page is ever held as trees.
    mutating func merge(_ items: [Node]) -> [InformerEvent] {
        var events: [InformerEvent] = []
        for item in items {
            if let old = objects[ObjectKey(item)], old.resourceVersion == Self.resourceVersion(item) { continue }
            events.append(upsert(item))
        }
        return events
    }

    /// Removes every object whose key is not in `kept` (the keys of a complete list), in key
    /// order, with their last cached state.
    mutating func remove(keeping kept: Set<ObjectKey>) -> [InformerEvent] {
        var events: [InformerEvent] = []
        for key in objects.keys.sorted() where !kept.contains(key) {
            if let old = objects[key]?.object, let event = remove(old) { events.append(event) }
        }
        return events
    }

    /// Adds named indexes and files every cached object under them. A name already in use is a
    /// programming error: two owners of a shared informer would read each other's index.
    mutating func addIndexers(_ added: [String: Indexer]) {
        for (name, indexer) in added {
            precondition(indexers[name] == nil, "informer index \(name) is already defined; give each owner's index its own name")
            indexers[name] = indexer
            for (key, stored) in objects {
                for value in Set(indexer(stored.object)) { indices[name, default: [:]][value, default: []].insert(key) }
            }
        }
    }

    /// The objects under `value` in the index `name`, in key order.
    func byIndex(_ name: String, _ value: String) -> [StoredObject] {
        (indices[name]?[value] ?? []).sorted().compactMap { objects[$0] }
    }

    /// Every value of the index `name` that has objects.
    func indexValues(_ name: String) -> [String] {
        (indices[name] ?? [:]).keys.sorted()
    }

    /// Every object, in key order.
    var all: [StoredObject] { objects.keys.sorted().compactMap { objects[$0] } }

    static func resourceVersion(_ object: Node) -> String {
        object[path: "metadata", "resourceVersion"]?.string ?? ""
    }

    private mutating func index(_ key: ObjectKey, _ object: Node) {
        for (name, indexer) in indexers {
            for value in Set(indexer(object)) { indices[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private mutating func unindex(_ key: ObjectKey, _ object: Node) {
        for (name, indexer) in indexers {
            for value in Set(indexer(object)) {
                indices[name]?[value]?.remove(key)
                if indices[name]?[value]?.isEmpty == true { indices[name]?[value] = nil }
            }
        }
    }
}
