import YAML

/// Where an object is stored.
struct ObjectKey: Hashable, Sendable, Comparable {
    var resource: GroupResource
    /// Empty for cluster-scoped objects.
    var namespace: String
    var name: String

    /// The etcd-like key lists are ordered by.
    var path: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { (lhs.resource, lhs.path) < (rhs.resource, rhs.path) }
}

/// What the garbage collector wants done next. Each action is applied through the same paths
/// API calls take, so watchers see every step.
enum CollectionAction: Equatable {
    /// Delete an object with a propagation policy.
    case delete(ObjectKey, PropagationPolicy)
    /// Strip owner references to these uids (owners that are gone) from a dependent that keeps a live owner.
    case removeOwnerReferences(ObjectKey, uids: Set<String>)
    /// Drop the `foregroundDeletion` finalizer of an owner with no blocking dependents left.
    case finishForegroundDeletion(ObjectKey)
    /// Remove a terminating namespace that holds nothing any more.
    case removeNamespace(ObjectKey)
}

/// The objects garbage collection must look at, kept by the store as objects change: those with
/// owner references, those being deleted, every uid, the dependents of each owner uid, and the
/// dependents whose verdict may have changed since the last plan.
struct CollectionIndex: Sendable {
    /// Objects with at least one owner reference.
    private(set) var owned: Set<ObjectKey> = []
    /// Objects with a deletionTimestamp.
    private(set) var deleting: Set<ObjectKey> = []
    /// Where each uid lives.
    private(set) var uids: [String: ObjectKey] = [:]
    /// The objects whose owner references name each uid, whether or not that uid still exists.
    private(set) var dependents: [String: Set<ObjectKey>] = [:]
    /// Dependents written, or whose owners came, went or started or stopped deleting, since the
    /// last ``takeDirty()``: the only dependents a plan must look at, so a write among many
    /// unrelated owned objects does not re-check them all.
    private(set) var dirty: Set<ObjectKey> = []

    /// Records that the object at `key` changed from `old` to `new` (nil: absent).
    mutating func update(_ key: ObjectKey, old: Node?, new: Node?) {
        if let old {
            if uids[old.uid] == key { uids.removeValue(forKey: old.uid) }
            for uid in Self.ownerUIDs(old) {
                dependents[uid]?.remove(key)
                if dependents[uid]?.isEmpty == true { dependents.removeValue(forKey: uid) }
            }
        }
        // This object's dependents see an owner that appeared, went, or changed its deletion state.
        if old?.uid != new?.uid || old?.isDeleting != new?.isDeleting || old?.finalizers != new?.finalizers {
            for uid in Set([old?.uid, new?.uid].compactMap { $0 }) { dirty.formUnion(dependents[uid] ?? []) }
        }
        guard let new else {
            owned.remove(key)
            deleting.remove(key)
            dirty.remove(key)
            return
        }
        uids[new.uid] = key
        let owners = Self.ownerUIDs(new)
        for uid in owners { dependents[uid, default: []].insert(key) }
        if owners.isEmpty { owned.remove(key) } else { owned.insert(key); dirty.insert(key) }
        if new.isDeleting { deleting.insert(key) } else { deleting.remove(key) }
    }

    /// The dependents to look at now; the set starts empty again.
    mutating func takeDirty() -> Set<ObjectKey> {
        defer { dirty = [] }
        return dirty
    }

    private static func ownerUIDs(_ object: Node) -> [String] {
        object.ownerReferences.compactMap { $0["uid"]?.string }
    }
}

/// Decides garbage collection from a snapshot of all objects, as kube-controller-manager's
/// garbage collector and namespace controller do, without performing anything.
enum CollectionPlanner {
    static let foregroundFinalizer = "foregroundDeletion"

    /// The actions due for this state; empty when the state is settled.
    static func plan(_ objects: [ObjectKey: Node]) -> [CollectionAction] {
        var index = CollectionIndex()
        for (key, object) in objects { index.update(key, old: nil, new: object) }
        return plan(objects, index: index, dependents: index.owned)
    }

    /// The actions due for this state, looking only at the objects that can need one: the given
    /// dependents (the store passes those whose verdict may have changed, see
    /// ``CollectionIndex/dirty``), deleting objects and the contents of terminating namespaces.
    /// A write among many unrelated objects plans in time that grows with what it touched, not
    /// with the whole store.
    static func plan(_ objects: [ObjectKey: Node], index: CollectionIndex, dependents: Set<ObjectKey>) -> [CollectionAction] {
        let terminating = Set(index.deleting.filter { $0.resource == namespaces }.map(\.name))
        var candidates = dependents.filter { objects[$0] != nil }
        if !terminating.isEmpty { candidates.formUnion(objects.keys.filter { terminating.contains($0.namespace) }) }
        var actions: [CollectionAction] = []
        for key in candidates.sorted() {
            let object = objects[key]!
            if let action = dependentAction(key, object, index: index, objects: objects) { actions.append(action) }
            if let action = namespaceContentAction(key, object, objects: objects) { actions.append(action) }
        }
        for key in index.deleting.sorted() {
            if let action = ownerAction(key, objects[key]!, index: index, objects: objects) { actions.append(action) }
        }
        return actions
    }

    /// A dependent whose owners are all gone or deleting in the foreground goes; one that keeps a
    /// live owner loses the references to the rest.
    private static func dependentAction(
        _ key: ObjectKey, _ object: Node, index: CollectionIndex, objects: [ObjectKey: Node]
    ) -> CollectionAction? {
        let owners = object.ownerReferences.compactMap { $0["uid"]?.string }
        guard !owners.isEmpty, !object.isDeleting else { return nil }
        let dangling = Set(owners.filter { index.uids[$0] == nil })
        let waiting = Set(owners.filter { index.uids[$0].flatMap { objects[$0] }.map(isWaitingForDependents) ?? false })
        if dangling.count + waiting.count == owners.count {
            return .delete(key, hasDependents(object, index: index, objects: objects) && !waiting.isEmpty ? .foreground : .background)
        }
        return dangling.isEmpty ? nil : .removeOwnerReferences(key, uids: dangling)
    }

    /// Everything in a terminating namespace is deleted.
    private static func namespaceContentAction(_ key: ObjectKey, _ object: Node, objects: [ObjectKey: Node]) -> CollectionAction? {
        guard !key.namespace.isEmpty, !object.isDeleting else { return nil }
        let namespace = ObjectKey(resource: namespaces, namespace: "", name: key.namespace)
        return objects[namespace]?.isDeleting == true ? .delete(key, .background) : nil
    }

    /// A foreground owner finishes once no dependent blocks it; a terminating namespace once empty.
    private static func ownerAction(_ key: ObjectKey, _ object: Node, index: CollectionIndex, objects: [ObjectKey: Node]) -> CollectionAction? {
        if key.resource == namespaces {
            let empty = !objects.keys.contains { $0.namespace == key.name }
            return empty && object.finalizers.isEmpty ? .removeNamespace(key) : nil
        }
        guard isWaitingForDependents(object) else { return nil }
        let blocked = (index.dependents[object.uid] ?? []).contains { key in
            objects[key]?.ownerReferences.contains { $0["uid"]?.string == object.uid && $0["blockOwnerDeletion"]?.bool == true } ?? false
        }
        return blocked ? nil : .finishForegroundDeletion(key)
    }

    static func isWaitingForDependents(_ object: Node) -> Bool {
        object.isDeleting && object.finalizers.contains(foregroundFinalizer)
    }

    private static func hasDependents(_ object: Node, index: CollectionIndex, objects: [ObjectKey: Node]) -> Bool {
        !(index.dependents[object.uid] ?? []).isEmpty
    }

    static let namespaces = GroupResource(group: "", plural: "namespaces")
}
