import Foundation
import YAML

/// A resource type of the API, addressed dynamically: `apps/v1 deployments`, `v1 pods`.
public struct Resource: Sendable, Hashable, CustomStringConvertible {
    /// The API group; empty for the core group.
    public var group: String
    /// The version: `v1`, `v1alpha1`.
    public var version: String
    /// The lowercase plural name in URLs: `deployments`.
    public var plural: String
    /// Whether objects live in a namespace.
    public var namespaced: Bool

    /// Creates a resource type.
    public init(group: String, version: String, plural: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.namespaced = namespaced
    }

    /// `plural.group/version`, as kubectl spells it.
    public var description: String { group.isEmpty ? "\(plural)/\(version)" : "\(plural).\(group)/\(version)" }

    /// `/api/v1/namespaces/ns/pods/name/status`, leaving out what is nil.
    func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { path += "/namespaces/\(Self.escape(namespace))" }
        path += "/\(plural)"
        if let name { path += "/\(Self.escape(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    private static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}

/// Which objects `list` and `watch` return.
public struct ListOptions: Sendable {
    /// A label selector: `app=db,tier!=cache`.
    public var labelSelector: String?
    /// A field selector: `metadata.name=x`.
    public var fieldSelector: String?
    /// The page size; the server returns a `continue` token when more remain.
    public var limit: Int?
    /// The token from the previous page.
    public var continueToken: String?
    /// The resourceVersion to read at (`0` lets the server answer from its cache).
    public var resourceVersion: String?

    /// Creates list options.
    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil,
                continueToken: String? = nil, resourceVersion: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }

    var query: [(String, String)] {
        [("labelSelector", labelSelector), ("fieldSelector", fieldSelector), ("limit", limit.map(String.init)),
         ("continue", continueToken), ("resourceVersion", resourceVersion)]
            .compactMap { name, value in value.map { (name, $0) } }
    }
}

/// Where a watch starts and how long the server keeps it open.
public struct WatchOptions: Sendable {
    /// A label selector: `app=db`.
    public var labelSelector: String?
    /// A field selector: `metadata.name=x`.
    public var fieldSelector: String?
    /// The resourceVersion to resume after; usually the list's.
    public var resourceVersion: String?
    /// Whether the server may send `BOOKMARK` events carrying a newer resourceVersion.
    public var allowWatchBookmarks: Bool
    /// How long the server keeps the watch open before ending it cleanly.
    public var timeoutSeconds: Int?

    /// Creates watch options.
    public init(labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
                allowWatchBookmarks: Bool = true, timeoutSeconds: Int? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.allowWatchBookmarks = allowWatchBookmarks
        self.timeoutSeconds = timeoutSeconds
    }

    var query: [(String, String)] {
        [("watch", "true"), ("labelSelector", labelSelector), ("fieldSelector", fieldSelector),
         ("resourceVersion", resourceVersion), ("allowWatchBookmarks", allowWatchBookmarks ? "true" : nil),
         ("timeoutSeconds", timeoutSeconds.map(String.init))]
            .compactMap { name, value in value.map { (name, $0) } }
    }
}

/// How a patch body is to be read.
public enum PatchType: String, Sendable {
    /// RFC 7386 JSON merge patch.
    case merge = "application/merge-patch+json"
    /// RFC 6902 JSON patch: a list of operations.
    case json = "application/json-patch+json"
    /// Kubernetes strategic merge patch (built-in types only).
    case strategicMerge = "application/strategic-merge-patch+json"
}

/// What happens to an object's dependents when it is deleted.
public enum PropagationPolicy: String, Sendable {
    /// Dependents are deleted first; the object waits for them.
    case foreground = "Foreground"
    /// The object goes now; the garbage collector deletes dependents after.
    case background = "Background"
    /// Dependents are kept and lose their owner reference.
    case orphan = "Orphan"
}

/// One page of a list.
public struct ObjectList: Sendable {
    /// The objects.
    public var items: [Node]
    /// The collection's resourceVersion, to start a watch from.
    public var resourceVersion: String
    /// The token for the next page; nil on the last.
    public var continueToken: String?
}

/// One change seen by a watch.
public enum WatchEvent: Sendable, Equatable {
    /// An object appeared (or was there when the watch started).
    case added(Node)
    /// An object changed.
    case modified(Node)
    /// An object was deleted; its last state.
    case deleted(Node)
    /// Nothing changed, but everything up to this object's resourceVersion has been sent.
    case bookmark(Node)
    /// The server reported an error, such as 410 Expired; the watch must restart.
    case error(KubeStatus)
}
