import CairnTesting
import Kube
import Testing
import YAML

/// Finalizers, owner-reference garbage collection and namespace deletion. A real cluster's
/// controllers act a moment later, so outcomes are polled with `eventually`.
@Suite struct DeletionTests {
    static let configMaps = Conformance.configMaps
    static let hold = "cairn.dev/conformance-hold"

    private func create(_ cluster: TestCluster, _ name: String, finalizers: [String] = [], owners: [Node] = []) async throws -> Node {
        var object = Conformance.configMap(name, in: cluster.namespace)
        if !finalizers.isEmpty { object["metadata"]?["finalizers"] = .sequence(finalizers.map { .string($0) }) }
        if !owners.isEmpty { object["metadata"]?["ownerReferences"] = .sequence(owners) }
        return try await cluster.client.create(Self.configMaps, object)
    }

    private func release(_ cluster: TestCluster, _ name: String) async throws {
        _ = try await cluster.client.patch(Self.configMaps, namespace: cluster.namespace, name: name, try node(#"{"metadata": {"finalizers": null}}"#))
    }

    @Test func givenAFinalizer_WhenDeleted_ThenTheObjectStaysMarkedUntilTheFinalizerIsRemoved() async throws {
        try await TestCluster.with { cluster in
            _ = try await create(cluster, "held", finalizers: [Self.hold])

            try await cluster.client.delete(Self.configMaps, namespace: cluster.namespace, name: "held")

            let marked = try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: "held")
            #expect(marked[path: "metadata", "deletionTimestamp"]?.string?.isEmpty == false)
            #expect(marked[path: "metadata", "finalizers"] == [.string(Self.hold)])
            try await release(cluster, "held")
            try await cluster.eventually("the released object to go") {
                try await cluster.isGone(Self.configMaps, namespace: cluster.namespace, name: "held")
            }
        }
    }

    @Test func givenAFinalizer_WhenTheDeletingObjectGetsANewFinalizer_ThenTheServerRefusesIt() async throws {
        try await TestCluster.with { cluster in
            _ = try await create(cluster, "held", finalizers: [Self.hold])
            try await cluster.client.delete(Self.configMaps, namespace: cluster.namespace, name: "held")

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.patch(Self.configMaps, namespace: cluster.namespace, name: "held",
                                               try node(#"{"metadata": {"finalizers": ["cairn.dev/conformance-hold", "cairn.dev/another"]}}"#))
            }
            #expect(error?.kind == .invalid)
            #expect(error?.status?.causes.first?.field == "metadata.finalizers")
            try await release(cluster, "held")
        }
    }

    @Test func givenADependent_WhenItsOwnerIsDeletedInTheBackground_ThenTheDependentIsCollected() async throws {
        try await TestCluster.with { cluster in
            let owner = try await create(cluster, "owner")
            _ = try await create(cluster, "dependent", owners: [Conformance.ownerReference(to: owner)])

            try await cluster.client.delete(Self.configMaps, namespace: cluster.namespace, name: "owner", propagationPolicy: .background)

            #expect(try await cluster.isGone(Self.configMaps, namespace: cluster.namespace, name: "owner"))
            try await cluster.eventually("the garbage collector to delete the dependent") {
                try await cluster.isGone(Self.configMaps, namespace: cluster.namespace, name: "dependent")
            }
        }
    }

    @Test func givenABlockingDependent_WhenItsOwnerIsDeletedInTheForeground_ThenTheOwnerWaitsForIt() async throws {
        try await TestCluster.with { cluster in
            let owner = try await create(cluster, "owner")
            _ = try await create(cluster, "dependent", finalizers: [Self.hold], owners: [Conformance.ownerReference(to: owner, blockOwnerDeletion: true)])

            try await cluster.client.delete(Self.configMaps, namespace: cluster.namespace, name: "owner", propagationPolicy: .foreground)

            try await cluster.eventually("the dependent to be marked for deletion") {
                let dependent = try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: "dependent")
                return dependent[path: "metadata", "deletionTimestamp"] != nil
            }
            let waiting = try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: "owner")
            #expect(waiting[path: "metadata", "deletionTimestamp"] != nil)
            #expect(waiting[path: "metadata", "finalizers"]?.sequence?.contains("foregroundDeletion") == true)

            try await release(cluster, "dependent")
            try await cluster.eventually("the owner to go after its dependent") {
                try await cluster.isGone(Self.configMaps, namespace: cluster.namespace, name: "owner")
            }
            #expect(try await cluster.isGone(Self.configMaps, namespace: cluster.namespace, name: "dependent"))
        }
    }

    @Test func givenADependent_WhenItsOwnerIsDeletedWithOrphan_ThenTheDependentStaysWithoutTheReference() async throws {
        try await TestCluster.with { cluster in
            let owner = try await create(cluster, "owner")
            _ = try await create(cluster, "dependent", owners: [Conformance.ownerReference(to: owner)])

            try await cluster.client.delete(Self.configMaps, namespace: cluster.namespace, name: "owner", propagationPolicy: .orphan)

            try await cluster.eventually("the owner to go") {
                try await cluster.isGone(Self.configMaps, namespace: cluster.namespace, name: "owner")
            }
            let dependent = try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: "dependent")
            #expect(dependent[path: "metadata", "ownerReferences"]?.sequence?.isEmpty ?? true)
            #expect(dependent[path: "metadata", "deletionTimestamp"] == nil)
        }
    }

    @Test func givenANamespaceWithObjects_WhenDeleted_ThenItsContentsGoAndThenTheNamespace() async throws {
        try await TestCluster.with { cluster in
            let doomed = cluster.namespace + "-doomed"
            _ = try await cluster.client.create(TestCluster.namespaces, .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": .string(doomed)])]))
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("inside", in: doomed))

            try await cluster.client.delete(TestCluster.namespaces, name: doomed)

            try await cluster.eventually("the namespace's ConfigMap to go") {
                try await cluster.isGone(Self.configMaps, namespace: doomed, name: "inside")
            }
            try await cluster.eventually("the namespace to go") {
                try await cluster.isGone(TestCluster.namespaces, name: doomed)
            }
        }
    }
}
