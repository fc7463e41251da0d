import CairnAPI
import YAML

/// The served resource types at the moment of one request, with the CRD documents behind the
/// custom ones (for names, printer columns and subresources discovery and tables need).
struct Catalog: Sendable {
    var types: [ResourceType]
    var crds: [GroupResource: CRDDocument]

    /// Reads the store's registry and its CRD objects.
    static func load(from store: ObjectStore) async throws(StatusError) -> Catalog {
        let types = await store.resourceTypes
        let list = try await store.list(.customResourceDefinitions)
        var crds: [GroupResource: CRDDocument] = [:]
        for node in list.items {
            let document: CRDDocument
            do {
                document = try CRDDocument(node)
            } catch {
                throw .internalError("stored CustomResourceDefinition \"\(node.name)\" cannot be read: \(error)")
            }
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
