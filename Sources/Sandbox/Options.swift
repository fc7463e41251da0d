import CairnAPI
import YAML

/// How a delete treats the object's dependents (`propagationPolicy`).
public enum PropagationPolicy: String, Sendable, CaseIterable {
    /// Delete the owner now; the garbage collector deletes dependents afterwards.
    case background = "Background"
    /// Delete dependents that block owner deletion first, then the owner.
    case foreground = "Foreground"
    /// Delete the owner and strip its owner references from dependents.
    case orphan = "Orphan"
}

/// Options of a delete call.
public struct DeleteOptions: Sendable {
    /// The propagation policy; `nil` means the API server's default, `Background`.
    public var propagationPolicy: PropagationPolicy?
    /// Delete only when the object still has this uid.
    public var preconditionUID: String?
    /// Delete only when the object still has this resourceVersion.
    public var preconditionResourceVersion: String?

    /// Creates delete options.
    public init(propagationPolicy: PropagationPolicy? = nil, preconditionUID: String? = nil, preconditionResourceVersion: String? = nil) {
        self.propagationPolicy = propagationPolicy
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
    }
}

/// Options of a list call.
public struct ListOptions: Sendable {
    /// A label selector in query-string syntax.
    public var labelSelector: String
    /// A field selector (`metadata.name=x`).
    public var fieldSelector: String
    /// The page size; `nil` or 0 lists everything.
    public var limit: Int?
    /// The token from the previous page.
    public var continueToken: String?

    /// Creates list options.
    public init(labelSelector: String = "", fieldSelector: String = "", limit: Int? = nil, continueToken: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
    }
}

/// Options of a watch call.
public struct WatchOptions: Sendable {
    /// Where to start: `""` or `"0"` replays the current objects as ADDED first; a version resumes
    /// after it.
    public var resourceVersion: String
    /// A label selector in query-string syntax.
    public var labelSelector: String
    /// A field selector (`metadata.name=x`).
    public var fieldSelector: String
    /// Whether the watcher accepts BOOKMARK events.
    public var allowBookmarks: Bool

    /// Creates watch options.
    public init(resourceVersion: String = "", labelSelector: String = "", fieldSelector: String = "", allowBookmarks: Bool = false) {
        self.resourceVersion = resourceVersion
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.allowBookmarks = allowBookmarks
    }
}

/// The kind of JSON patch body.
public enum PatchType: String, Sendable, CaseIterable {
    /// RFC 7386, `application/merge-patch+json`.
    case merge = "application/merge-patch+json"
    /// RFC 6902, `application/json-patch+json`.
    case json = "application/json-patch+json"
    /// Kubernetes strategic merge patch, `application/strategic-merge-patch+json`; built-in kinds only.
    case strategicMerge = "application/strategic-merge-patch+json"
}

/// One page of a list.
public struct ObjectList: Sendable, Equatable {
    /// The objects, in key order.
    public var items: [Node]
    /// The snapshot the page was read at.
    public var resourceVersion: String
    /// The token for the next page, when there is one.
    public var continueToken: String?

    /// The `<Kind>List` object as the API server returns it.
    public func node(kind: String, apiVersion: String) -> Node {
        var metadata: Node = .mapping(["resourceVersion": .string(resourceVersion)])
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return .mapping(["kind": .string("\(kind)List"), "apiVersion": .string(apiVersion), "metadata": metadata, "items": .sequence(items)])
    }
}

/// One event of a watch stream.
public struct WatchEvent: Sendable, Equatable {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    public enum EventType: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    /// The event's type.
    public var type: EventType
    /// The object, or the `Status` of an ERROR.
    public var object: Node

    /// Creates an event.
    public init(type: EventType, object: Node) {
        self.type = type
        self.object = object
    }

    /// `{"type": ..., "object": ...}`, one line of a watch response.
    public var node: Node { .mapping(["type": .string(type.rawValue), "object": object]) }

    /// The object's resourceVersion.
    public var resourceVersion: String { object[meta: "resourceVersion"]?.string ?? "" }
}
