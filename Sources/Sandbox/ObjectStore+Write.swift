import CairnAPI
import YAML

extension ObjectStore {
    // MARK: - Create

    /// Creates an object: 409 AlreadyExists, 422 Invalid without a name, 404 without its namespace.
    public func create(_ body: Node, in resource: ResourceID, namespace: String? = nil) throws(StatusError) -> Node {
        let type = try lookup(resource)
        try requireMapping(body)
        var object = try normalized(body, type, resource, namespace: namespace)
        try checkNamespace(of: object, type)
        object = try named(object, type)
        object = pruned(object, type, version: resource.version)
        try validate(object, type, version: resource.version)
        object = stampedForCreate(object, type)
        let key = ObjectKey(resource: type.groupResource, namespace: type.namespaced ? object.namespace : "", name: object.name)
        guard objects[key] == nil else { throw .alreadyExists(type.groupResource, object.name) }
        if type.groupResource == ResourceID.customResourceDefinitions.groupResource { object = try establish(object) }
        let stored = commit(.added, key, object)
        collectGarbage()
        return present(stored, as: resource)
    }

    /// apiVersion, kind and namespace as the URL says; 400 when the body disagrees.
    private func normalized(_ body: Node, _ type: ResourceType, _ resource: ResourceID, namespace: String?) throws(StatusError) -> Node {
        var object = body
        object["apiVersion"] = .string(resource.apiVersion)
        object["kind"] = .string(type.kind)
        if type.namespaced {
            let given = object.namespace
            guard let namespace, !namespace.isEmpty else { throw .badRequest("a namespace is required for \(type.groupResource)") }
            if !given.isEmpty, given != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object[meta: "namespace"] = .string(namespace)
        } else {
            object[meta: "namespace"] = nil
        }
        return object
    }

    /// 404 on the namespace when it is missing; 403 when it is terminating.
    private func checkNamespace(of object: Node, _ type: ResourceType) throws(StatusError) {
        guard type.namespaced else { return }
        let key = ObjectKey(resource: CollectionPlanner.namespaces, namespace: "", name: object.namespace)
        guard let namespace = objects[key] else { throw .notFound(CollectionPlanner.namespaces, object.namespace) }
        if namespace.isDeleting {
            throw .forbidden(type.groupResource, object.name,
                             "unable to create new content in namespace \(object.namespace) because it is being terminated")
        }
    }

    /// The name, generated from `generateName` when needed (retrying collisions).
    private func named(_ object: Node, _ type: ResourceType) throws(StatusError) -> Node {
        guard object.name.isEmpty else { return object }
        guard let prefix = object[meta: "generateName"]?.string, !prefix.isEmpty else {
            throw .invalid(kind: type.kind, group: type.group, name: "", causes: [
                StatusError.Cause(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name"),
            ])
        }
        var copy = object
        for _ in 0..<100 {
            copy[meta: "name"] = .string(prefix + configuration.nameSuffix())
            let key = ObjectKey(resource: type.groupResource, namespace: type.namespaced ? copy.namespace : "", name: copy.name)
            if objects[key] == nil { return copy }
        }
        throw .alreadyExists(type.groupResource, copy.name)
    }

    /// uid, creationTimestamp, generation 1 where the kind tracks it; no deletion fields; status
    /// cleared where it is a subresource.
    private func stampedForCreate(_ object: Node, _ type: ResourceType) -> Node {
        var copy = object
        copy[meta: "uid"] = .string(configuration.uid())
        copy[meta: "creationTimestamp"] = .string(timestamp())
        copy[meta: "generation"] = type.tracksGeneration ? .int(1) : nil
        copy[meta: "deletionTimestamp"] = nil
        copy[meta: "deletionGracePeriodSeconds"] = nil
        if type.hasStatusSubresource { copy["status"] = nil }
        if type.groupResource == CollectionPlanner.namespaces { copy["status"] = .mapping(["phase": "Active"]) }
        return copy
    }

    // MARK: - Update

    /// Replaces an object: 409 Conflict on a stale resourceVersion, none means unconditional; 404 when missing.
    /// With a status subresource, changes to `status` are ignored.
    public func update(_ body: Node, in resource: ResourceID, namespace: String? = nil, name: String) throws(StatusError) -> Node {
        try replace(body, in: resource, namespace: namespace, name: name, statusOnly: false)
    }

    /// Writes only `status` (the `/status` subresource); everything else in the body is ignored.
    public func updateStatus(_ body: Node, in resource: ResourceID, namespace: String? = nil, name: String) throws(StatusError) -> Node {
        try replace(body, in: resource, namespace: namespace, name: name, statusOnly: true)
    }

    func replace(_ body: Node, in resource: ResourceID, namespace: String?, name: String, statusOnly: Bool) throws(StatusError) -> Node {
        let type = try lookup(resource)
        if statusOnly, !type.hasStatusSubresource { throw .noSuchResource() }
        try requireMapping(body)
        let key = try self.key(type, namespace: namespace, name: name)
        guard let old = objects[key] else { throw .notFound(type.groupResource, name) }
        try checkPreconditions(body, old, type, name: name)
        let body = pruned(body, type, version: resource.version)
        let new = statusOnly ? withStatus(of: body, on: old) : try merged(body, over: old, type, resource)
        try validate(new, type, version: resource.version)
        let result = write(new, replacing: old, at: key, type)
        collectGarbage()
        return present(result, as: resource)
    }

    private func checkPreconditions(_ body: Node, _ old: Node, _ type: ResourceType, name: String) throws(StatusError) {
        if !body.name.isEmpty, body.name != name {
            throw .badRequest("the name of the object (\(body.name)) does not match the name on the URL (\(name))")
        }
        if let version = body[meta: "resourceVersion"]?.string, !version.isEmpty, version != old[meta: "resourceVersion"]?.string {
            throw .staleUpdate(type.groupResource, name)
        }
    }

    private func withStatus(of body: Node, on old: Node) -> Node {
        var copy = old
        copy["status"] = body["status"]
        return copy
    }

    /// The body with the system-owned metadata of the stored object, and its generation.
    private func merged(_ body: Node, over old: Node, _ type: ResourceType, _ resource: ResourceID) throws(StatusError) -> Node {
        var new = body
        new["apiVersion"] = old["apiVersion"]
        new["kind"] = old["kind"]
        for field in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "resourceVersion"] {
            new[meta: field] = old[meta: field]
        }
        if type.hasStatusSubresource { new["status"] = old["status"] }
        if old.isDeleting {
            let added = Set(new.finalizers).subtracting(old.finalizers)
            if !added.isEmpty {
                throw .invalid(kind: type.kind, group: type.group, name: old.name, causes: [
                    StatusError.Cause(reason: "FieldValueForbidden",
                                      message: "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers \(added.sorted())",
                                      field: "metadata.finalizers"),
                ])
            }
        }
        let excludingStatus = type.hasStatusSubresource
        if type.tracksGeneration, new.content(excludingStatus: excludingStatus) != old.content(excludingStatus: excludingStatus) {
            new[meta: "generation"] = .int((old[meta: "generation"]?.int ?? 0) + 1)
        }
        return new
    }

    /// Commits a changed object (a no-op write keeps its resourceVersion); removes it once a
    /// deleting object has no finalizers left.
    @discardableResult
    func write(_ new: Node, replacing old: Node, at key: ObjectKey, _ type: ResourceType) -> Node {
        guard new != old else { return old }
        // As kube-apiserver does, an update that empties the finalizers of a deleting object
        // becomes the deletion itself: watchers see one DELETED event.
        if new.isDeleting, new.finalizers.isEmpty { return remove(key, lastState: new) }
        return commit(.modified, key, new)
    }

    // MARK: - Patch

    /// Applies a merge, JSON or strategic merge patch to the object (or, with `status`, to its
    /// status subresource). Custom resources refuse strategic merge with 415, as kube-apiserver does.
    public func patch(
        _ patch: Node, type patchType: PatchType, in resource: ResourceID, namespace: String? = nil, name: String, status: Bool = false
    ) throws(StatusError) -> Node {
        let type = try lookup(resource)
        if patchType == .strategicMerge, type.isCustom { throw .unsupportedMediaType(Self.customResourcePatchTypes) }
        let current = try get(resource, namespace: namespace, name: name)
        let patched: Node
        switch patchType {
        case .merge:
            guard patch.mapping != nil else { throw .badRequest("the patch must be a JSON object") }
            patched = Patch.merge(current, patch)
        case .json:
            do {
                patched = try Patch.json(current, patch)
            } catch {
                throw StatusError(reason: "Invalid", message: "the server rejected our request due to an error in our request", code: 422, details: .init())
            }
        case .strategicMerge:
            guard patch.mapping != nil else { throw .badRequest("the patch must be a JSON object") }
            patched = try Patch.strategicMerge(current, patch, schema: MergeSchema.of(kind: type.kind))
        }
        return try replace(patched, in: resource, namespace: namespace, name: name, statusOnly: status)
    }

    /// The patch types kube-apiserver accepts for custom resources (1.32, CBOR serving off).
    static let customResourcePatchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
}
