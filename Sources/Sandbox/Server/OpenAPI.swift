import Crypto
import YAML

/// The OpenAPI v3 documents, as far as kubectl reads them: the index of group versions, and per
/// group version the object paths with their PATCH operation, its group-version-kind and the
/// `fieldValidation` parameter. That is how kubectl (1.27+) finds out that the server validates
/// fields itself, so `kubectl apply` and `create` work without `--validate=false` and send
/// `fieldValidation=Strict`. Schemas are not published (`components.schemas` is empty), so
/// `kubectl explain` has nothing to show.
enum OpenAPI {
    /// `/openapi/v3`: every served group version with the URL of its document.
    static func index(_ catalog: Catalog) throws(StatusError) -> Node {
        var paths: [Node.Pair] = []
        for (group, version) in groupVersions(catalog) {
            let key = group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
            let hash = try digest(groupVersion(catalog, types: types(catalog, group: group, version: version), group: group, version: version))
            paths.append(Node.Pair(key: .string(key), value: .mapping(["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash)")])))
        }
        return .mapping(["paths": .mapping(paths)])
    }

    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`; 404 when nothing is served there.
    static func groupVersion(_ catalog: Catalog, group: String, version: String) throws(StatusError) -> Node {
        let types = types(catalog, group: group, version: version)
        guard !types.isEmpty else { throw .noSuchResource() }
        return groupVersion(catalog, types: types, group: group, version: version)
    }

    private static func groupVersion(_ catalog: Catalog, types: [ResourceType], group: String, version: String) -> Node {
        let prefix = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        let parameters: Node = [
            .mapping(["name": "fieldValidation", "in": "query", "schema": .mapping(["type": "string", "uniqueItems": true])]),
            .mapping(["name": "fieldManager", "in": "query", "schema": .mapping(["type": "string", "uniqueItems": true])]),
        ]
        var paths: [Node.Pair] = []
        for type in types {
            let path = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)/{name}" : "\(prefix)/\(type.plural)/{name}"
            let kind: Node = .mapping(["group": .string(group), "version": .string(version), "kind": .string(type.kind)])
            let patch: Node = .mapping([
                "operationId": .string("patch\(type.kind)"), "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": kind, "parameters": parameters,
            ])
            paths.append(Node.Pair(key: .string(path), value: .mapping(["patch": patch])))
        }
        return .mapping([
            "openapi": "3.0.0",
            "info": .mapping(["title": "Kubernetes (Cairn sandbox)", "version": .string(Discovery.version["gitVersion"]?.string ?? "")]),
            "paths": .mapping(paths),
            "components": .mapping(["schemas": .mapping([])]),
        ])
    }

    private static func groupVersions(_ catalog: Catalog) -> [(String, String)] {
        var seen: [(String, String)] = []
        for type in catalog.types {
            for version in type.versions where !seen.contains(where: { $0 == (type.group, version) }) { seen.append((type.group, version)) }
        }
        return seen.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    private static func types(_ catalog: Catalog, group: String, version: String) -> [ResourceType] {
        catalog.types.filter { $0.group == group && $0.versions.contains(version) }
    }

    /// A stable digest of a document, so kubectl's cache refreshes exactly when it changes.
    private static func digest(_ document: Node) throws(StatusError) -> String {
        let text: String
        do {
            text = try JSON.emit(document)
        } catch {
            throw .internalError("the OpenAPI document cannot be written as JSON: \(error)")
        }
        return SHA256.hash(data: Array(text.utf8)).prefix(16).map { String(format: "%02X", $0) }.joined()
    }
}
