/// What a request path names, decided from the path alone (no store, no I/O).
enum APIRoute: Equatable, Sendable {
    /// `/version`.
    case version
    /// `/api`: the core API versions.
    case coreVersions
    /// `/apis`: the API groups.
    case groups
    /// `/api/v1` or `/apis/<group>/<version>`: the resources of one group version.
    case resourceList(group: String, version: String)
    /// `/openapi/v3`: the index of group versions.
    case openAPIIndex
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`.
    case openAPIGroupVersion(group: String, version: String)
    /// Other `/openapi/...` paths (`/openapi/v2`), which the sandbox does not serve.
    case openAPI
    /// A resource, collection or subresource.
    case resource(ResourcePath)

    /// Parses a URL path (without the query).
    static func parse(_ path: String) -> APIRoute? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch segments.first {
        case "version" where segments.count == 1: return .version
        case "openapi": return parseOpenAPI(Array(segments.dropFirst()))
        case "api": return parseCore(Array(segments.dropFirst()))
        case "apis": return parseGroup(Array(segments.dropFirst()))
        default: return nil
        }
    }

    private static func parseOpenAPI(_ rest: [String]) -> APIRoute {
        switch (rest.first, rest.count) {
        case ("v3", 1): .openAPIIndex
        case ("v3", 3) where rest[1] == "api": .openAPIGroupVersion(group: "", version: rest[2])
        case ("v3", 4) where rest[1] == "apis": .openAPIGroupVersion(group: rest[2], version: rest[3])
        default: .openAPI
        }
    }

    private static func parseCore(_ rest: [String]) -> APIRoute? {
        guard let version = rest.first else { return .coreVersions }
        guard rest.count > 1 else { return .resourceList(group: "", version: version) }
        return ResourcePath(group: "", version: version, rest: Array(rest.dropFirst())).map(APIRoute.resource)
    }

    private static func parseGroup(_ rest: [String]) -> APIRoute? {
        guard rest.count >= 2 else { return rest.isEmpty ? .groups : nil }
        guard rest.count > 2 else { return .resourceList(group: rest[0], version: rest[1]) }
        return ResourcePath(group: rest[0], version: rest[1], rest: Array(rest.dropFirst(2))).map(APIRoute.resource)
    }
}

/// `[namespaces/<ns>/]<plural>[/<name>[/<subresource>]]` under one group version.
struct ResourcePath: Equatable, Sendable {
    /// The resource as the store names it.
    var resource: ResourceID
    /// The namespace in the path, when there is one.
    var namespace: String?
    /// The object's name; `nil` for the collection.
    var name: String?
    /// `status`, or `nil` for the main resource.
    var subresource: String?

    /// Splits the segments after the group version; `nil` when they name nothing.
    init?(group: String, version: String, rest: [String]) {
        var rest = rest[...]
        // `namespaces/<name>/status` is the namespace's own subresource, not a resource in it.
        if rest.count >= 3, rest.first == "namespaces", !["status", "finalize"].contains(rest[rest.startIndex + 2]) {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        guard let plural = rest.first, rest.count <= 3 else { return nil }
        resource = ResourceID(group: group, version: version, plural: plural)
        name = rest.dropFirst().first
        subresource = rest.dropFirst(2).first
    }
}
