import CairnAPI
import Foundation
import YAML

extension ObjectStore {
    /// Lists objects, filtered by namespace and selectors, a page at a time: a `continue` token
    /// reads the next page from the same snapshot; one older than the history answers 410 Expired.
    public func list(_ resource: ResourceID, namespace: String? = nil, options: ListOptions = ListOptions()) throws(StatusError) -> ObjectList {
        let type = try lookup(resource)
        let filter = try ObjectFilter(resource: type.groupResource, namespace: type.namespaced ? namespace : nil,
                                      labelSelector: options.labelSelector, fieldSelector: options.fieldSelector)
        var snapshot = revision
        var after = ""
        if let token = options.continueToken, !token.isEmpty {
            (snapshot, after) = try ContinueToken.decode(token)
            guard snapshot >= history.compactedThrough else { throw .expired(ContinueToken.expiredMessage) }
        }
        let ordered = orderedMatches(type.groupResource, at: snapshot, filter: filter, cacheKey: ListCacheKey(
            resource: type.groupResource, snapshot: snapshot, namespace: filter.namespace,
            labelSelector: options.labelSelector, fieldSelector: options.fieldSelector))
        let start = ordered.partitioningIndex { $0.path > after }
        let candidates = ordered[start...]
        let limit = options.limit ?? 0
        let page = limit > 0 ? Array(candidates.prefix(limit)) : Array(candidates)
        let token = limit > 0 && candidates.count > limit ? ContinueToken.encode(revision: snapshot, after: page.last!.path) : nil
        return ObjectList(items: page.map { present($0.object, as: resource) }, resourceVersion: String(snapshot), continueToken: token)
    }

    /// The objects of a list in etcd order (by path), as they were at `snapshot`. The state at a
    /// past revision never changes, so the pages of one paged list share one ordering: sorting
    /// 50,000 objects for every page of 500 made a page cost a tenth of a second.
    private func orderedMatches(
        _ resource: GroupResource, at snapshot: Int, filter: ObjectFilter, cacheKey: ListCacheKey
    ) -> [(path: String, object: Node)] {
        if let cached = listCache[cacheKey] { return cached }
        let ordered = state(of: resource, at: snapshot)
            .compactMap { key, object -> (path: String, object: Node)? in filter.matches(object) ? (key.path, object) : nil }
            .sorted { $0.path < $1.path }
        if listCache.count >= 8 { listCache.removeAll() }  // a handful of lists page at once; keep it small
        listCache[cacheKey] = ordered
        return ordered
    }

    /// The objects of one resource as they were at `snapshot`, rewound through the history.
    func state(of resource: GroupResource, at snapshot: Int) -> [ObjectKey: Node] {
        var state = objects.filter { $0.key.resource == resource }
        for event in history.events(after: snapshot).reversed() where event.key.resource == resource {
            state[event.key] = event.type == .deleted ? event.object : event.previous
        }
        return state
    }
}

/// Which ordered list a page belongs to.
struct ListCacheKey: Hashable, Sendable {
    var resource: GroupResource
    var snapshot: Int
    var namespace: String?
    var labelSelector: String
    var fieldSelector: String
}

extension Array {
    /// The first index whose element satisfies `predicate`, for an array partitioned by it
    /// (false for a prefix, true after); `endIndex` when none does.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = startIndex, high = endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// The namespace and selectors a list or watch asks for.
struct ObjectFilter: Sendable {
    var resource: GroupResource
    var namespace: String?
    var labels: LabelSelectorExpression
    var fields: FieldSelector

    init(resource: GroupResource, namespace: String?, labelSelector: String, fieldSelector: String) throws(StatusError) {
        self.resource = resource
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        do {
            labels = try LabelSelectorExpression(parsing: labelSelector)
        } catch {
            throw .badRequest(error.description)
        }
        fields = try FieldSelector(parsing: fieldSelector)
    }

    func matches(_ object: Node) -> Bool {
        (namespace.map { $0 == object.namespace } ?? true) && labels.matches(object.labels) && fields.matches(object)
    }
}

/// The opaque `continue` token: base64 of `{"v","rv","start"}` as kube-apiserver writes it.
enum ContinueToken {
    static let expiredMessage =
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."

    static func encode(revision: Int, after key: String) -> String {
        let node: Node = .mapping(["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(key + "\u{0}")])
        do {
            return Data(try JSON.emit(node).utf8).base64EncodedString()
        } catch {
            preconditionFailure("JSON.emit failed on a tree of strings and integers: \(error)")
        }
    }

    static func decode(_ token: String) throws(StatusError) -> (revision: Int, after: String) {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else {
            throw .badRequest("continue key is not valid: illegal base64 data")
        }
        let node: Node
        do {
            node = try JSON.parse(text)
        } catch {
            throw .badRequest("continue key is not valid: \(error)")
        }
        guard node["v"]?.string == "meta.k8s.io/v1", let revision = node["rv"]?.int, var start = node["start"]?.string else {
            throw .badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        }
        if start.hasSuffix("\u{0}") { start.removeLast() }
        return (revision, start)
    }
}
