/// Maps `apiVersion` + `kind` to the `Resource` that serves it, from the server's discovery.
///
/// Resource lists are read per group version and cached. A kind the cache does not know makes the
/// mapper read its group version once more before giving up, as client-go's deferred discovery
/// mapper does, so a kind served by a CRD created a moment ago is found.
public actor RESTMapper {
    private let client: KubeClient
    private var cache: [String: [APIResource]] = [:]
    private var loading: [String: Task<[APIResource]?, any Error>] = [:]

    /// Creates a mapper that discovers through `client`.
    public init(client: KubeClient) {
        self.client = client
    }

    /// The resource serving `kind` in `apiVersion` (`apps/v1`, `v1`); throws `RESTMappingError`
    /// when the server serves no such kind.
    public func resource(apiVersion: String, kind: String) async throws -> Resource {
        if let resources = cache[apiVersion], let found = Self.find(kind, apiVersion: apiVersion, in: resources) { return found }
        let fresh = try await load(apiVersion)
        if let resources = fresh, let found = Self.find(kind, apiVersion: apiVersion, in: resources) { return found }
        throw RESTMappingError(kind: kind, apiVersion: apiVersion, served: fresh.map { $0.filter { !$0.isSubresource }.map(\.kind) })
    }

    /// Forgets everything discovered, so the next mapping reads the server again.
    public func reset() {
        cache = [:]
    }

    /// Reads a group version's resources, sharing one request among concurrent callers; nil when
    /// the server does not serve the group version.
    private func load(_ apiVersion: String) async throws -> [APIResource]? {
        if let task = loading[apiVersion] { return try await task.value }
        let client = client
        let task = Task<[APIResource]?, any Error> {
            do {
                return try await client.serverResources(forGroupVersion: apiVersion)
            } catch let error as KubeError where error.kind == .notFound {
                return nil
            }
        }
        loading[apiVersion] = task
        defer { loading[apiVersion] = nil }
        let resources = try await task.value
        cache[apiVersion] = resources
        return resources
    }

    private static func find(_ kind: String, apiVersion: String, in resources: [APIResource]) -> Resource? {
        guard let entry = resources.first(where: { $0.kind == kind && !$0.isSubresource }) else { return nil }
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", apiVersion)
        return Resource(group: group, version: version, plural: entry.name, namespaced: entry.namespaced)
    }
}

/// No resource of the server serves a kind in an apiVersion.
public struct RESTMappingError: Error, Sendable, CustomStringConvertible {
    /// The kind asked for.
    public let kind: String
    /// The apiVersion asked for.
    public let apiVersion: String
    /// The kinds the group version does serve; nil when the server does not serve the group version.
    public let served: [String]?

    /// What is missing, and what to check.
    public var description: String {
        guard let served else {
            return "no kind \"\(kind)\" is registered for version \"\(apiVersion)\": the server does not serve \(apiVersion); check the apiVersion, or install the CRD that defines it"
        }
        return "no kind \"\(kind)\" is registered for version \"\(apiVersion)\": \(apiVersion) serves \(served.sorted().joined(separator: ", ")); check the kind's spelling, or install the CRD that defines it"
    }
}
