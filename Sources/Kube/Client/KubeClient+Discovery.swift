import YAML

/// The server's `/version`.
public struct ServerVersion: Sendable, Equatable {
    /// `1`.
    public var major: String
    /// `32`, sometimes with a `+` for vendor builds.
    public var minor: String
    /// `v1.32.0`.
    public var gitVersion: String
    /// `linux/amd64`.
    public var platform: String
}

/// One API group and the versions it serves (`/api` gives the core group, named "").
public struct APIGroup: Sendable, Equatable {
    /// The group name; empty for the core group.
    public var name: String
    /// The served versions, preferred first as the server lists them.
    public var versions: [String]
    /// The version the server prefers.
    public var preferredVersion: String
}

/// One resource of a group version, as discovery describes it (`metav1.APIResource`).
public struct APIResource: Sendable, Equatable {
    /// The plural name in URLs (`deployments`), or `deployments/status` for a subresource.
    public var name: String
    /// The singular name (`deployment`); empty for subresources.
    public var singularName: String
    /// Whether objects live in a namespace.
    public var namespaced: Bool
    /// The kind (`Deployment`).
    public var kind: String
    /// The verbs it supports: `get`, `list`, `watch`, ...
    public var verbs: [String]
    /// Short names kubectl accepts (`deploy`).
    public var shortNames: [String]
    /// Categories it belongs to (`all`).
    public var categories: [String]

    /// Whether this entry is a subresource (`pods/status`) rather than a resource.
    public var isSubresource: Bool { name.contains("/") }
}

extension KubeClient {
    /// Reads `/version`.
    public func serverVersion() async throws -> ServerVersion {
        let url = url("/version")
        let node = try await perform("GET", url)
        let reader = DiscoveryReader(url: url)
        return ServerVersion(major: try reader.string(node, "major"), minor: try reader.string(node, "minor"),
                             gitVersion: try reader.string(node, "gitVersion"), platform: node["platform"]?.string ?? "")
    }

    /// Reads `/api` and `/apis`: the core group (named "") first, then the named groups.
    public func serverGroups() async throws -> [APIGroup] {
        let coreURL = url("/api")
        let core = try await perform("GET", coreURL)
        let coreVersions = try DiscoveryReader(url: coreURL).strings(core, "versions")
        let groupsURL = url("/apis")
        let list = try await perform("GET", groupsURL)
        let reader = DiscoveryReader(url: groupsURL)
        let groups = try reader.items(list, "groups").map { group in
            let versions = try reader.items(group, "versions").map { try reader.string($0, "version") }
            return APIGroup(name: try reader.string(group, "name"), versions: versions,
                            preferredVersion: group[path: "preferredVersion", "version"]?.string ?? versions.first ?? "")
        }
        return [APIGroup(name: "", versions: coreVersions, preferredVersion: coreVersions.first ?? "")] + groups
    }

    /// Reads the resource list of one group version (`v1`, `apps/v1`), subresources included;
    /// throws `.notFound` when the server does not serve that group version.
    public func serverResources(forGroupVersion groupVersion: String) async throws -> [APIResource] {
        let path = groupVersion.contains("/") ? "/apis/\(groupVersion)" : "/api/\(groupVersion)"
        let url = url(path)
        let list = try await perform("GET", url)
        let reader = DiscoveryReader(url: url)
        return try reader.items(list, "resources").map { entry in
            APIResource(
                name: try reader.string(entry, "name"), singularName: entry["singularName"]?.string ?? "",
                namespaced: entry["namespaced"]?.bool ?? false, kind: try reader.string(entry, "kind"),
                verbs: try reader.strings(entry, "verbs"), shortNames: entry["shortNames"]?.sequence?.compactMap(\.string) ?? [],
                categories: entry["categories"]?.sequence?.compactMap(\.string) ?? [])
        }
    }
}

/// Reads discovery documents, naming the document and field a malformed answer lacks.
private struct DiscoveryReader {
    let url: String

    func string(_ node: Node, _ field: String) throws(KubeError) -> String {
        guard let value = node[field]?.string else { throw missing(field, "a string", in: node) }
        return value
    }

    func strings(_ node: Node, _ field: String) throws(KubeError) -> [String] {
        guard let items = node[field]?.sequence else { throw missing(field, "a list of strings", in: node) }
        return items.compactMap(\.string)
    }

    func items(_ node: Node, _ field: String) throws(KubeError) -> [Node] {
        if node[field]?.isNull == true { return [] }
        guard let items = node[field]?.sequence else { throw missing(field, "a list", in: node) }
        return items
    }

    private func missing(_ field: String, _ expected: String, in node: Node) -> KubeError {
        KubeError(kind: .invalidResponse, status: nil, verb: "GET", url: url, httpCode: 200,
                  message: "the discovery document has no \(field) (\(expected)) in a \(node["kind"]?.string ?? node.typeName)")
    }
}
