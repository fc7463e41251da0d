import CairnAPI
import YAML

extension ObjectStore {
    /// Deletes an object. With finalizers (or a foreground policy, or for a namespace) it gets a
    /// `deletionTimestamp` and stays until they are gone; otherwise it is removed. Dependents
    /// are then collected as the policy says. Returns the object's last state.
    public func delete(
        _ resource: ResourceID, namespace: String? = nil, name: String, options: DeleteOptions = DeleteOptions()
    ) throws(StatusError) -> Node {
        let type = try lookup(resource)
        let key = try self.key(type, namespace: namespace, name: name)
        guard let object = objects[key] else { throw .notFound(type.groupResource, name) }
        try checkPreconditions(options, object, type)
        let result = delete(key, object, policy: options.propagationPolicy ?? .background)
        collectGarbage()
        return present(result, as: resource)
    }

    private func checkPreconditions(_ options: DeleteOptions, _ object: Node, _ type: ResourceType) throws(StatusError) {
        if let uid = options.preconditionUID, uid != object.uid {
            throw .conflict(type.groupResource, object.name,
                            "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid)")
        }
        if let version = options.preconditionResourceVersion, let current = object[meta: "resourceVersion"]?.string, version != current {
            throw .conflict(type.groupResource, object.name,
                            "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(current)")
        }
    }

    /// The deletion itself, shared by API calls and the garbage collector.
    @discardableResult
    func delete(_ key: ObjectKey, _ object: Node, policy: PropagationPolicy) -> Node {
        if policy == .orphan { orphanDependents(of: object) }
        var finalizers = object.finalizers
        if policy == .foreground, !finalizers.contains(CollectionPlanner.foregroundFinalizer) {
            finalizers.append(CollectionPlanner.foregroundFinalizer)
        }
        let isNamespace = key.resource == CollectionPlanner.namespaces
        guard !finalizers.isEmpty || isNamespace else { return remove(key) }
        if object.isDeleting, finalizers == object.finalizers { return object }
        var marked = object
        marked.finalizers = finalizers
        if !object.isDeleting {
            marked[meta: "deletionTimestamp"] = .string(timestamp())
            marked[meta: "deletionGracePeriodSeconds"] = .int(0)
        }
        if isNamespace { marked["status"] = .mapping(["phase": "Terminating"]) }
        return commit(.modified, key, marked)
    }

    /// Removes an object for good; removing a CRD stops serving its resource and removes its objects.
    @discardableResult
    func remove(_ key: ObjectKey, lastState: Node? = nil) -> Node {
        guard let object = lastState ?? objects[key] else { return .null }
        let removed = commit(.deleted, key, object)
        if key.resource == ResourceID.customResourceDefinitions.groupResource { retire(crd: object) }
        return removed
    }

    private func orphanDependents(of owner: Node) {
        for (key, dependent) in objects.sorted(by: { $0.key < $1.key }) {
            let kept = dependent.ownerReferences.filter { $0["uid"]?.string != owner.uid }
            guard kept.count != dependent.ownerReferences.count else { continue }
            var copy = dependent
            copy.ownerReferences = kept
            commit(.modified, key, copy)
        }
    }

    /// Applies the planner's actions until the state settles.
    func collectGarbage() {
        guard collectionDue else { return }
        for _ in 0..<1000 {
            collectionDue = false
            let actions = CollectionPlanner.plan(objects, index: collection, dependents: collection.takeDirty())
            if actions.isEmpty { return }
            for action in actions { perform(action) }
        }
    }

    private func perform(_ action: CollectionAction) {
        switch action {
        case .delete(let key, let policy):
            guard let object = objects[key], !object.isDeleting else { return }
            delete(key, object, policy: policy)
        case .removeOwnerReferences(let key, let uids):
            guard let object = objects[key] else { return }
            var copy = object
            copy.ownerReferences = object.ownerReferences.filter { !uids.contains($0["uid"]?.string ?? "") }
            commit(.modified, key, copy)
        case .finishForegroundDeletion(let key):
            guard let object = objects[key], let type = types[key.resource] else { return }
            var copy = object
            copy.finalizers = object.finalizers.filter { $0 != CollectionPlanner.foregroundFinalizer }
            write(copy, replacing: object, at: key, type)
        case .removeNamespace(let key):
            remove(key)
        }
    }

    // MARK: - CRDs

    /// Checks a new CRD, starts serving its resource, and marks it Established.
    func establish(_ crd: Node) throws(StatusError) -> Node {
        let type = try ResourceType.from(crd: crd)
        let expected = "\(type.plural).\(type.group)"
        guard crd.name == expected else {
            throw .invalid(kind: "CustomResourceDefinition", group: "apiextensions.k8s.io", name: crd.name, causes: [
                StatusError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \"\(crd.name)\": must be spec.names.plural+\".\"+spec.group",
                                  field: "metadata.name"),
            ])
        }
        guard types[type.groupResource] == nil else { throw .alreadyExists(ResourceID.customResourceDefinitions.groupResource, crd.name) }
        register(type)
        var copy = crd
        let now = Node.string(timestamp())
        let condition = { (kind: String, reason: String) -> Node in
            .mapping(["type": .string(kind), "status": "True", "lastTransitionTime": now, "reason": .string(reason), "message": ""])
        }
        copy["status"] = .mapping([
            "acceptedNames": crd[path: "spec", "names"] ?? .mapping([]),
            "conditions": [condition("NamesAccepted", "NoConflicts"), condition("Established", "InitialNamesAccepted")],
            "storedVersions": .sequence(type.versions.prefix(1).map { .string($0) }),
        ])
        return copy
    }

    /// Stops serving a removed CRD's resource and removes its objects.
    private func retire(crd: Node) {
        guard let group = crd[path: "spec", "group"]?.string, let plural = crd[path: "spec", "names", "plural"]?.string else { return }
        let resource = GroupResource(group: group, plural: plural)
        for key in objects.keys.filter({ $0.resource == resource }).sorted() { remove(key) }
        types[resource] = nil
    }
}
