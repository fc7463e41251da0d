import YAML

extension ObjectStore {
    /// The whole state as one tree: `{resourceVersion, objects: [{group, resource, object}]}`,
    /// CRDs first so a restore can serve their resources before loading their objects.
    public func snapshot() -> Node {
        let crds = ResourceID.customResourceDefinitions.groupResource
        let rank = { (key: ObjectKey) in key.resource == crds ? 0 : 1 }
        let ordered = objects.sorted { (rank($0.key), $0.key.resource, $0.key.path) < (rank($1.key), $1.key.resource, $1.key.path) }
        let entries = ordered.map { entry -> Node in
            .mapping(["group": .string(entry.key.resource.group), "resource": .string(entry.key.resource.plural), "object": entry.value])
        }
        return .mapping(["resourceVersion": .string(String(revision)), "objects": .sequence(entries)])
    }

    /// Replaces the state with a snapshot. Watch history starts afresh after its resourceVersion;
    /// open watches are ended.
    public func restore(from snapshot: Node) throws(StatusError) {
        guard let revision = snapshot["resourceVersion"]?.string.flatMap({ Int($0) }), let entries = snapshot["objects"]?.sequence else {
            throw .badRequest("a snapshot needs a resourceVersion and a list of objects")
        }
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers = [:]
        objects = [:]
        collection = CollectionIndex()
        collectionDue = true
        listCache = [:]  // a restored revision number may name another state
        types = Dictionary(uniqueKeysWithValues: ResourceType.builtIn.map { ($0.groupResource, $0) })
        for entry in entries { try load(entry) }
        self.revision = revision
        history.reset(at: revision)
    }

    private func load(_ entry: Node) throws(StatusError) {
        guard let group = entry["group"]?.string, let plural = entry["resource"]?.string, let object = entry["object"] else {
            throw .badRequest("a snapshot entry needs group, resource and object")
        }
        let resource = GroupResource(group: group, plural: plural)
        if resource == ResourceID.customResourceDefinitions.groupResource { register(try ResourceType.from(crd: object)) }
        let key = ObjectKey(resource: resource, namespace: object.namespace, name: object.name)
        objects[key] = object
        collection.update(key, old: nil, new: object)
    }
}
