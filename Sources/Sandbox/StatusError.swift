import YAML

/// A failed API call, carrying the `Status` body exactly as kube-apiserver sends it.
public struct StatusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The machine-readable reason (`NotFound`, `Conflict`, `Expired`, ...).
    public var reason: String
    /// The human message, in the API server's wording.
    public var message: String
    /// The HTTP status code.
    public var code: Int
    /// `details`, when the error names an object.
    public var details: Details?
    /// `details.retryAfterSeconds`, sent also as the `Retry-After` header.
    public var retryAfterSeconds: Int?

    /// Creates an error.
    public init(reason: String, message: String, code: Int, details: Details?) {
        self.reason = reason
        self.message = message
        self.code = code
        self.details = details
    }

    /// `metav1.StatusDetails`.
    public struct Details: Sendable, Equatable {
        /// The object's name.
        public var name: String = ""
        /// The API group; empty for the core group.
        public var group: String = ""
        /// The resource plural (`pods`) or, for `Invalid`, the kind (`Pod`).
        public var kind: String = ""
        /// The field-level problems.
        public var causes: [Cause] = []
    }

    /// `metav1.StatusCause`.
    public struct Cause: Sendable, Equatable {
        /// `FieldValueRequired`, `FieldValueInvalid`, ...
        public var reason: String
        /// The problem, without the field path.
        public var message: String
        /// The field path: `metadata.name`, `spec.replicas`.
        public var field: String

        /// Creates a cause.
        public init(reason: String, message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }

        /// `field: message`, as the aggregate message prints it.
        var summary: String { field.isEmpty ? message : "\(field): \(message)" }
    }

    /// The message.
    public var description: String { message }

    /// The `Status` object: kind, apiVersion, metadata, status, message, reason, details, code,
    /// with empty fields left out as the server's `omitempty` does.
    public var node: Node {
        var status: Node = .mapping(["kind": "Status", "apiVersion": "v1", "metadata": .mapping([]), "status": "Failure"])
        status["message"] = .string(message)
        status["reason"] = .string(reason)
        if let details { status["details"] = details.node }
        if let retryAfterSeconds {
            var details = status["details"] ?? .mapping([])
            details["retryAfterSeconds"] = .int(retryAfterSeconds)
            status["details"] = details
        }
        status["code"] = .int(code)
        return status
    }
}

extension StatusError.Details {
    var node: Node {
        var node = Node.mapping([])
        if !name.isEmpty { node["name"] = .string(name) }
        if !group.isEmpty { node["group"] = .string(group) }
        if !kind.isEmpty { node["kind"] = .string(kind) }
        if !causes.isEmpty {
            node["causes"] = .sequence(causes.map { .mapping(["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]) })
        }
        return node
    }
}

// MARK: - The API server's constructors (k8s.io/apimachinery/pkg/api/errors)

extension StatusError {
    /// `pods "x" not found` (404).
    public static func notFound(_ resource: GroupResource, _ name: String) -> StatusError {
        StatusError(reason: "NotFound", message: "\(resource) \"\(name)\" not found", code: 404,
                    details: Details(name: name, group: resource.group, kind: resource.plural))
    }

    /// `pods "x" already exists` (409).
    public static func alreadyExists(_ resource: GroupResource, _ name: String) -> StatusError {
        StatusError(reason: "AlreadyExists", message: "\(resource) \"\(name)\" already exists", code: 409,
                    details: Details(name: name, group: resource.group, kind: resource.plural))
    }

    /// `Operation cannot be fulfilled on pods "x": <why>` (409).
    public static func conflict(_ resource: GroupResource, _ name: String, _ why: String) -> StatusError {
        StatusError(reason: "Conflict", message: "Operation cannot be fulfilled on \(resource) \"\(name)\": \(why)", code: 409,
                    details: Details(name: name, group: resource.group, kind: resource.plural))
    }

    /// The stale-resourceVersion conflict.
    public static func staleUpdate(_ resource: GroupResource, _ name: String) -> StatusError {
        conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again")
    }

    /// `Pod "x" is invalid: field: message` (422); several causes print as `[a, b]`.
    public static func invalid(kind: String, group: String, name: String, causes: [Cause]) -> StatusError {
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        let summaries = causes.map(\.summary)
        let aggregate = summaries.count == 1 ? summaries[0] : "[\(summaries.joined(separator: ", "))]"
        return StatusError(reason: "Invalid", message: "\(qualified) \"\(name)\" is invalid: \(aggregate)", code: 422,
                           details: Details(name: name, group: group, kind: kind, causes: causes))
    }

    /// A resourceVersion or continue token older than the retained history (410, reason `Expired`).
    public static func expired(_ message: String) -> StatusError {
        StatusError(reason: "Expired", message: message, code: 410, details: nil)
    }

    /// A malformed request (400).
    public static func badRequest(_ message: String) -> StatusError {
        StatusError(reason: "BadRequest", message: message, code: 400, details: nil)
    }

    /// `<action> is not supported on resources of kind "pods"` (405).
    public static func methodNotSupported(_ resource: GroupResource, action: String) -> StatusError {
        StatusError(reason: "MethodNotAllowed", message: "\(action) is not supported on resources of kind \"\(resource)\"", code: 405,
                    details: Details(group: resource.group, kind: resource.plural))
    }

    /// An operation refused by policy (403), e.g. creating in a terminating namespace.
    public static func forbidden(_ resource: GroupResource, _ name: String, _ why: String) -> StatusError {
        StatusError(reason: "Forbidden", message: "\(resource) \"\(name)\" is forbidden: \(why)", code: 403,
                    details: Details(name: name, group: resource.group, kind: resource.plural))
    }

    /// A URL that names no resource the server serves (404, no details).
    public static func noSuchResource() -> StatusError {
        StatusError(reason: "NotFound", message: "the server could not find the requested resource", code: 404,
                    details: Details())
    }
}
