import YAML

/// The API server's `Status` object (meta/v1), as it sends it with every error.
public struct KubeStatus: Sendable, Equatable {
    /// One reason a request was invalid, usually naming a field.
    public struct Cause: Sendable, Equatable {
        /// A machine-readable reason: `FieldValueRequired`, `FieldValueInvalid`, ...
        public var reason: String?
        /// What is wrong.
        public var message: String?
        /// The field, as a path: `spec.replicas`.
        public var field: String?
    }

    /// `Success` or `Failure`.
    public var status: String?
    /// What happened, for people.
    public var message: String?
    /// A machine-readable reason: `NotFound`, `AlreadyExists`, `Conflict`, `Expired`, ...
    public var reason: String?
    /// The HTTP status code the server meant.
    public var code: Int?
    /// The name of the object concerned.
    public var name: String?
    /// The kind of the object concerned.
    public var kind: String?
    /// The group of the object concerned.
    public var group: String?
    /// Why the request was invalid, for `Invalid`.
    public var causes: [Cause] = []
    /// How long the server asks the client to wait before retrying.
    public var retryAfterSeconds: Int?

    /// Reads a `Status` object; nil when the node is not one (`kind: Status`).
    public init?(_ node: Node) {
        guard node["kind"]?.string == "Status" else { return nil }
        self.init(fields: node)
    }

    /// Reads the fields of a `Status` that carries no `kind`, as the kubelet writes it on the exec
    /// error channel.
    init(fields node: Node) {
        status = node["status"]?.string
        message = node["message"]?.string
        reason = node["reason"]?.string
        code = node["code"]?.int
        let details = node["details"]
        name = details?["name"]?.string
        kind = details?["kind"]?.string
        group = details?["group"]?.string
        retryAfterSeconds = details?["retryAfterSeconds"]?.int
        causes = (details?["causes"]?.sequence ?? []).map {
            Cause(reason: $0["reason"]?.string, message: $0["message"]?.string, field: $0["field"]?.string)
        }
    }

    /// What kind of failure this status reports, as `KubeError` would classify it: a watch's
    /// `.error(status)` with `status.errorKind == .gone` means list again.
    public var errorKind: KubeError.Kind { KubeError.kind(reason: reason, code: code ?? 500) }
}
