import CairnAPI
import Synchronization
import YAML

/// The served resource types at the moment of one request, with the CRD documents behind the
/// custom ones (for names, printer columns and subresources discovery and tables need).
struct Catalog: Sendable {
    var types: [ResourceType]
    var crds: [GroupResource: CRDDocument]

    /// Reads the store's registry and its CRD objects, decoding only the CRDs `cache` has not
    /// seen at their current resourceVersion.
    static func load(from store: ObjectStore, cache: CRDDocumentCache) async throws(StatusError) -> Catalog {
        let types = await store.resourceTypes
        let list = try await store.list(.customResourceDefinitions)
        var crds: [GroupResource: CRDDocument] = [:]
        for document in try cache.documents(for: list.items) {
            crds[GroupResource(group: document.group, plural: document.names.plural)] = document
        }
        return Catalog(types: types, crds: crds)
    }

    /// The type serving `resource`, or 404 in the API server's wording.
    func type(of resource: ResourceID) throws(StatusError) -> ResourceType {
        guard let type = types.first(where: { $0.groupResource == resource.groupResource && $0.versions.contains(resource.version) }) else {
            throw .noSuchResource()
        }
        return type
    }

    /// The printer columns of a custom resource version, or kube-apiserver's for a built-in kind.
    func columns(of resource: ResourceID) -> [TableColumn] {
        guard let version = crds[resource.groupResource]?.version(resource.version) else {
            return BuiltInColumns.columns[resource.groupResource] ?? []
        }
        return zip(version.printerColumns, version.columnPaths).map { TableColumn($0.0, path: $0.1) }
    }
}

extension StatusError {
    /// A fault of the sandbox itself (500).
    static func internalError(_ message: String) -> StatusError {
        StatusError(reason: "InternalError", message: "Internal error occurred: \(message)", code: 500, details: nil)
    }
}

/// Decoded CRD documents by name and resourceVersion: decoding one compiles its schema's patterns,
/// too slow to repeat on every request of a server holding thousands of custom resources.
final class CRDDocumentCache: Sendable {
    private let entries = Mutex<[String: (resourceVersion: String, document: CRDDocument)]>([:])

    /// The documents of these stored CRDs, decoding those that are new or changed; forgets the rest.
    func documents(for crds: [Node]) throws(StatusError) -> [CRDDocument] {
        let known = entries.withLock { $0 }
        var fresh: [String: (resourceVersion: String, document: CRDDocument)] = [:]
        for node in crds {
            let version = node[path: "metadata", "resourceVersion"]?.string ?? ""
            if let entry = known[node.name], entry.resourceVersion == version {
                fresh[node.name] = entry
                continue
            }
            do {
                fresh[node.name] = (version, try CRDDocument(node))
            } catch {
                throw .internalError("stored CustomResourceDefinition \"\(node.name)\" cannot be read: \(error)")
            }
        }
        entries.withLock { $0 = fresh }
        return crds.compactMap { fresh[$0.name]?.document }
    }
}
