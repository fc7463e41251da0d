@testable import Sandbox
import Testing
import YAML

/// The planner alone, one transition at a time, with no store involved.
@Suite struct CollectionPlannerTests {
    static let configMaps = GroupResource(group: "", plural: "configmaps")

    static func key(_ name: String, namespace: String = "ns", resource: GroupResource = configMaps) -> ObjectKey {
        ObjectKey(resource: resource, namespace: namespace, name: name)
    }

    static func object(_ uid: String, owners: [(String, Bool)] = [], finalizers: [String] = [], deleting: Bool = false) -> Node {
        var node: Node = .mapping(["metadata": .mapping(["uid": .string(uid)])])
        node.ownerReferences = owners.map { .mapping(["uid": .string($0.0), "blockOwnerDeletion": .bool($0.1)]) }
        node.finalizers = finalizers
        if deleting { node[meta: "deletionTimestamp"] = "2026-01-01T00:00:00Z" }
        return node
    }

    @Test func givenASettledState_whenPlanned_thenNothingIsDue() {
        let state = [Self.key("owner"): Self.object("o"), Self.key("dep"): Self.object("d", owners: [("o", true)])]
        #expect(CollectionPlanner.plan(state).isEmpty)
    }

    @Test func givenADependentWithAGoneOwner_whenPlanned_thenItIsDeletedInTheBackground() {
        #expect(CollectionPlanner.plan([Self.key("dep"): Self.object("d", owners: [("o", false)])]) == [.delete(Self.key("dep"), .background)])
    }

    @Test func givenOneLiveAndOneGoneOwner_whenPlanned_thenOnlyTheDanglingReferenceIsRemoved() {
        let state = [Self.key("a"): Self.object("a"), Self.key("dep"): Self.object("d", owners: [("a", false), ("gone", false)])]
        #expect(CollectionPlanner.plan(state) == [.removeOwnerReferences(Self.key("dep"), uids: ["gone"])])
    }

    @Test func givenAForegroundOwnerWithABlockingDependent_whenPlanned_thenTheDependentIsDeletedFirst() {
        let state = [
            Self.key("owner"): Self.object("o", finalizers: ["foregroundDeletion"], deleting: true),
            Self.key("dep"): Self.object("d", owners: [("o", true)]),
        ]
        #expect(CollectionPlanner.plan(state) == [.delete(Self.key("dep"), .background)])
    }

    @Test func givenAForegroundOwnerWhoseBlockingDependentIsStillDeleting_whenPlanned_thenItWaits() {
        let state = [
            Self.key("owner"): Self.object("o", finalizers: ["foregroundDeletion"], deleting: true),
            Self.key("dep"): Self.object("d", owners: [("o", true)], finalizers: ["x"], deleting: true),
        ]
        #expect(CollectionPlanner.plan(state).isEmpty)
    }

    @Test func givenAForegroundOwnerWithNoBlockingDependents_whenPlanned_thenItsFinalizerIsDropped() {
        let state = [Self.key("owner"): Self.object("o", finalizers: ["foregroundDeletion"], deleting: true)]
        #expect(CollectionPlanner.plan(state) == [.finishForegroundDeletion(Self.key("owner"))])
    }

    @Test func givenATerminatingNamespace_whenPlanned_thenItsContentGoesAndThenTheNamespace() {
        let namespace = Self.key("ns", namespace: "", resource: CollectionPlanner.namespaces)
        let full = [namespace: Self.object("n", deleting: true), Self.key("cm"): Self.object("c")]
        #expect(CollectionPlanner.plan(full) == [.delete(Self.key("cm"), .background)])
        #expect(CollectionPlanner.plan([namespace: Self.object("n", deleting: true)]) == [.removeNamespace(namespace)])
    }
}
