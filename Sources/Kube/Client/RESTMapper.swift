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

    /// The resource serving `kind` in `group` (empty for the core group) at the version the server
    /// prefers, with that `apiVersion`, as client-go maps a group and kind; when `group` is nil,
    /// the first group in discovery order that serves the kind. Throws `RESTMappingError` when no
    /// group does (`apiVersion` then names the group asked for, or `*` for any).
    public func resource(group: String?, kind: String) async throws -> (apiVersion: String, resource: Resource) {
        let groups = try await client.serverGroups().filter { group == nil || $0.name == group }
        for candidate in groups {
            let apiVersion = candidate.name.isEmpty ? candidate.preferredVersion : "\(candidate.name)/\(candidate.preferredVersion)"
            do {
                return (apiVersion, try await resource(apiVersion: apiVersion, kind: kind))
            } catch is RESTMappingError {
                continue  // another group may serve it
            }
        }
        throw RESTMappingError(kind: kind, group: group, groupServed: !groups.isEmpty)
    }

    /// The resource kubectl means by `name`: a plural (`postgresclusters`), singular, short name
    /// or kind in any case, optionally followed by `.group` (`pg.db.example.com`), at the version
    /// its group prefers; the first match in discovery order. Throws `RESTMappingError` when no
    /// resource is known by that name.
    public func resource(named name: String) async throws -> (apiVersion: String, kind: String, resource: Resource) {
        let wanted = name.lowercased()
        for group in try await client.serverGroups() {
            let apiVersion = group.name.isEmpty ? group.preferredVersion : "\(group.name)/\(group.preferredVersion)"
            let resources: [APIResource]
            if let cached = cache[apiVersion] { resources = cached } else { resources = try await load(apiVersion) ?? [] }
            for entry in resources where !entry.isSubresource {
                let names = [entry.name, entry.singularName, entry.kind.lowercased()] + entry.shortNames.map { $0.lowercased() }
                guard names.contains(where: { $0 == wanted || (!group.name.isEmpty && "\($0).\(group.name)" == wanted) }) else { continue }
                return (apiVersion, entry.kind, Resource(group: group.name, version: group.preferredVersion, plural: entry.name, namespaced: entry.namespaced))
            }
        }
        throw RESTMappingError(resourceName: name)
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

/// No resource of the server serves a kind in an apiVersion (or in a group).
public struct RESTMappingError: Error, Sendable, CustomStringConvertible {
    /// The kind asked for.
    public let kind: String
    /// The apiVersion asked for; empty when a group was asked for.
    public let apiVersion: String
    /// The kinds the group version does serve; nil when the server does not serve the group version.
    public let served: [String]?
    /// The group asked for, when the mapping was by group (nil there meaning any group).
    public let group: String?
    /// For a mapping by group, whether the server serves that group at all; nil for one by apiVersion.
    private let groupServed: Bool?
    /// For a mapping by name, the name asked for.
    private var resourceName: String?

    init(kind: String, apiVersion: String, served: [String]?) {
        (self.kind, self.apiVersion, self.served, group, groupServed) = (kind, apiVersion, served, nil, nil)
    }

    init(kind: String, group: String?, groupServed: Bool) {
        (self.kind, apiVersion, served, self.group, self.groupServed) = (kind, "", nil, group, groupServed)
    }

    init(resourceName: String) {
        self.init(kind: resourceName, group: nil, groupServed: false)
        self.resourceName = resourceName
    }

    /// What is missing, and what to check.
    public var description: String {
        if let resourceName {
            return "the server has no resource type \"\(resourceName)\" (as a plural, singular, short name or kind); "
                + "check the spelling against kubectl api-resources, or install the CRD that defines it"
        }
        if let groupServed {
            guard let group else { return "no API group serves kind \"\(kind)\"; check the kind's spelling, or install the CRD that defines it" }
            let name = group.isEmpty ? "the core group" : "group \"\(group)\""
            let why = groupServed ? "\(name) serves no such kind" : "the server does not serve \(name)"
            return "no kind \"\(kind)\" is registered in \(name): \(why); check the group and kind, or install the CRD that defines it"
        }
        guard let served else {
            return "no kind \"\(kind)\" is registered for version \"\(apiVersion)\": the server does not serve \(apiVersion); check the apiVersion, or install the CRD that defines it"
        }
        return "no kind \"\(kind)\" is registered for version \"\(apiVersion)\": \(apiVersion) serves \(served.sorted().joined(separator: ", ")); check the kind's spelling, or install the CRD that defines it"
    }
}
