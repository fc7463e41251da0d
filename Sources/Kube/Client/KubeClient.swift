import Foundation
import YAML

/// The Kubernetes REST client: dynamic access to any resource as `Node` (JSON) values, with typed
/// convenience for `Codable` types.
///
/// All requests of one client share one libcurl multi handle on one thread, its connections, one
/// rate limiter and one retry policy. Methods throw `KubeError` for answers the server refused,
/// `TransportError` when no answer came, `KubeConfigError` when credentials cannot be obtained,
/// and `CancellationError` when the task was cancelled.
public struct KubeClient: Sendable {
    /// The version in the default `User-Agent`.
    public static let version = "0.1.0"

    /// The cluster this client talks to.
    public let connection: ClusterConnection
    /// Pacing, retries and timeouts.
    public let options: KubeClientOptions
    let transport: HTTPTransport
    let limiter: TokenBucket
    let clock: any KubeClock

    /// Creates a client; `clock` paces rate limiting and retries (tests pass one that never sleeps).
    public init(connection: ClusterConnection, options: KubeClientOptions = KubeClientOptions(),
                clock: any KubeClock = SystemKubeClock()) {
        self.connection = connection
        self.options = options
        self.clock = clock
        transport = HTTPTransport()
        limiter = TokenBucket(qps: options.qps, burst: options.burst, clock: clock)
    }

    // MARK: verbs

    /// Reads one object.
    public func get(_ resource: Resource, namespace: String? = nil, name: String) async throws -> Node {
        try await perform("GET", url(resource.path(namespace: namespace, name: name)))
    }

    /// Lists objects, one page when `options.limit` is set; a nil namespace lists all namespaces.
    public func list(_ resource: Resource, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> ObjectList {
        let url = url(resource.path(namespace: namespace), query: options.query)
        let list = try await perform("GET", url)
        // The API server writes `items: null` for an empty list of some types.
        guard let items = list["items"]?.sequence ?? (list["items"]?.isNull == true ? [] : nil) else {
            throw KubeError(kind: .invalidResponse, status: nil, verb: "GET", url: url, httpCode: 200,
                            message: "the answer is not a list: it has no items array (a \(list.typeName))")
        }
        let continueToken = list[path: "metadata", "continue"]?.string
        return ObjectList(items: items, resourceVersion: list[path: "metadata", "resourceVersion"]?.string ?? "",
                          continueToken: continueToken?.isEmpty == false ? continueToken : nil)
    }

    /// Creates an object; the namespace defaults to the object's `metadata.namespace`.
    public func create(_ resource: Resource, namespace: String? = nil, _ object: Node) async throws -> Node {
        let namespace = namespace ?? object[path: "metadata", "namespace"]?.string
        return try await perform("POST", url(resource.path(namespace: namespace)), body: object)
    }

    /// Replaces an object, named by its `metadata.name`; a stale `resourceVersion` throws `.conflict`.
    public func update(_ resource: Resource, namespace: String? = nil, _ object: Node) async throws -> Node {
        try await replace(resource, namespace: namespace, object, subresource: nil)
    }

    /// Replaces an object's status through the `status` subresource.
    public func updateStatus(_ resource: Resource, namespace: String? = nil, _ object: Node) async throws -> Node {
        try await replace(resource, namespace: namespace, object, subresource: "status")
    }

    /// Patches an object with a merge, JSON or strategic-merge patch.
    public func patch(_ resource: Resource, namespace: String? = nil, name: String, _ patch: Node,
                      type: PatchType = .merge, subresource: String? = nil) async throws -> Node {
        let url = url(resource.path(namespace: namespace, name: name, subresource: subresource))
        return try await perform("PATCH", url, body: patch, contentType: type.rawValue)
    }

    /// Deletes an object; returns what the server answers (the object while finalizers hold it, or a
    /// `Status`).
    @discardableResult
    public func delete(_ resource: Resource, namespace: String? = nil, name: String,
                       propagationPolicy: PropagationPolicy? = nil) async throws -> Node {
        let query = propagationPolicy.map { [("propagationPolicy", $0.rawValue)] } ?? []
        return try await perform("DELETE", url(resource.path(namespace: namespace, name: name), query: query))
    }

    private func replace(_ resource: Resource, namespace: String?, _ object: Node, subresource: String?) async throws -> Node {
        let namespace = namespace ?? object[path: "metadata", "namespace"]?.string
        let path = resource.path(namespace: namespace, name: try Self.name(of: object, resource: resource), subresource: subresource)
        return try await perform("PUT", url(path), body: object)
    }

    private static func name(of object: Node, resource: Resource) throws(KubeError) -> String {
        guard let name = object[path: "metadata", "name"]?.string, !name.isEmpty else {
            throw KubeError(kind: .invalid, status: nil, verb: "PUT", url: resource.description, httpCode: 0,
                            message: "the object has no metadata.name; set it to the name of the object to replace")
        }
        return name
    }
}
