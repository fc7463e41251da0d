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

/// Decides garbage collection from a snapshot of all objects, as kube-controller-manager's
/// garbage collector and namespace controller do, without performing anything.
enum CollectionPlanner {
    static let foregroundFinalizer = "foregroundDeletion"

    /// The actions due for this state; empty when the state is settled.
    static func plan(_ objects: [ObjectKey: Node]) -> [CollectionAction] {
        let byUID = Dictionary(objects.map { ($0.value.uid, $0) }, uniquingKeysWith: { first, _ in first })
        let keys = objects.keys.sorted()
        var actions: [CollectionAction] = []
        for key in keys {
            let object = objects[key]!
            if let action = dependentAction(key, object, byUID: byUID, objects: objects) { actions.append(action) }
            if let action = namespaceContentAction(key, object, objects: objects) { actions.append(action) }
        }
        for key in keys where objects[key]!.isDeleting {
            if let action = ownerAction(key, objects[key]!, objects: objects) { actions.append(action) }
        }
        return actions
    }

    /// A dependent whose owners are all gone or deleting in the foreground goes; one that keeps a
    /// live owner loses the references to the rest.
    private static func dependentAction(
        _ key: ObjectKey, _ object: Node, byUID: [String: (key: ObjectKey, value: Node)], objects: [ObjectKey: Node]
    ) -> CollectionAction? {
        let owners = object.ownerReferences.compactMap { $0["uid"]?.string }
        guard !owners.isEmpty, !object.isDeleting else { return nil }
        let dangling = Set(owners.filter { byUID[$0] == nil })
        let waiting = Set(owners.filter { byUID[$0].map { isWaitingForDependents($0.value) } ?? false })
        if dangling.count + waiting.count == owners.count {
            return .delete(key, hasDependents(object, objects) && !waiting.isEmpty ? .foreground : .background)
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
    private static func ownerAction(_ key: ObjectKey, _ object: Node, objects: [ObjectKey: Node]) -> CollectionAction? {
        if key.resource == namespaces {
            let empty = !objects.keys.contains { $0.namespace == key.name }
            return empty && object.finalizers.isEmpty ? .removeNamespace(key) : nil
        }
        guard isWaitingForDependents(object) else { return nil }
        let blocked = objects.values.contains { dependent in
            dependent.ownerReferences.contains { $0["uid"]?.string == object.uid && $0["blockOwnerDeletion"]?.bool == true }
        }
        return blocked ? nil : .finishForegroundDeletion(key)
    }

    static func isWaitingForDependents(_ object: Node) -> Bool {
        object.isDeleting && object.finalizers.contains(foregroundFinalizer)
    }

    private static func hasDependents(_ object: Node, _ objects: [ObjectKey: Node]) -> Bool {
        objects.values.contains { $0.ownerReferences.contains { $0["uid"]?.string == object.uid } }
    }

    static let namespaces = GroupResource(group: "", plural: "namespaces")
}
