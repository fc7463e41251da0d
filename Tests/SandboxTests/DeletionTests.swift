import Sandbox
import Testing
import YAML

@Suite struct DeletionTests {
    @Test func givenAFinalizer_whenDeleted_thenTheObjectStaysUntilTheLastFinalizerIsRemoved() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("cfg", finalizers: ["a.dev/x", "b.dev/y"]), in: Fixture.configMaps, namespace: "ns")
        let marked = try await store.delete(Fixture.configMaps, namespace: "ns", name: "cfg")
        #expect(marked.meta("deletionTimestamp") == "2026-01-01T00:00:00Z")
        #expect(marked.meta("deletionGracePeriodSeconds") == 0)
        var current = try await store.get(Fixture.configMaps, namespace: "ns", name: "cfg")
        current["metadata"]?["finalizers"] = ["b.dev/y"]
        current = try await store.update(current, in: Fixture.configMaps, namespace: "ns", name: "cfg")
        #expect(current.meta("deletionTimestamp") == "2026-01-01T00:00:00Z")
        current["metadata"]?["finalizers"] = nil
        _ = try await store.update(current, in: Fixture.configMaps, namespace: "ns", name: "cfg")
        await #expect(throws: StatusError.notFound(GroupResource(group: "", plural: "configmaps"), "cfg")) {
            _ = try await store.get(Fixture.configMaps, namespace: "ns", name: "cfg")
        }
    }

    @Test func givenADeletingObject_whenANewFinalizerIsAdded_thenInvalid() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("cfg", finalizers: ["a.dev/x"]), in: Fixture.configMaps, namespace: "ns")
        var marked = try await store.delete(Fixture.configMaps, namespace: "ns", name: "cfg")
        marked["metadata"]?["finalizers"] = ["a.dev/x", "b.dev/new"]
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.update(marked, in: Fixture.configMaps, namespace: "ns", name: "cfg")
        }
        #expect(error?.code == 422)
        #expect(error?.details?.causes.first?.field == "metadata.finalizers")
    }

    @Test func givenNoFinalizers_whenDeleted_thenTheObjectIsGone() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("cfg"), in: Fixture.configMaps, namespace: "ns")
        let last = try await store.delete(Fixture.configMaps, namespace: "ns", name: "cfg")
        #expect(last.rv == "3")
        #expect(try await store.list(Fixture.configMaps, namespace: "ns").items.isEmpty)
    }

    @Test func givenAStaleUIDPrecondition_whenDeleting_thenConflict() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("cfg"), in: Fixture.configMaps, namespace: "ns")
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.delete(Fixture.configMaps, namespace: "ns", name: "cfg", options: DeleteOptions(preconditionUID: "other"))
        }
        #expect(error?.message == #"Operation cannot be fulfilled on configmaps "cfg": Precondition failed: UID in precondition: other, UID in object meta: uid-2"#)
    }

    /// deployment → replicaset → pod, each owned by the one before.
    private func chain(_ store: ObjectStore, block: Bool = true) async throws -> (Node, Node, Node) {
        let deployment = try await store.create(Fixture.object("web"), in: Fixture.deployments, namespace: "ns")
        let replicaSet = try await store.create(Fixture.object("web-1", owners: [Fixture.owner(deployment, block: block)]), in: Fixture.replicaSets, namespace: "ns")
        let pod = try await store.create(Fixture.object("web-1-a", owners: [Fixture.owner(replicaSet, block: block)]), in: Fixture.pods, namespace: "ns")
        return (deployment, replicaSet, pod)
    }

    private func names(_ store: ObjectStore) async throws -> [String] {
        var names: [String] = []
        for resource in [Fixture.deployments, Fixture.replicaSets, Fixture.pods] {
            names += try await store.list(resource, namespace: "ns").items.map { $0.meta("name")?.string ?? "" }
        }
        return names
    }

    @Test func givenBackgroundPropagation_whenTheOwnerIsDeleted_thenEveryDependentIsCollected() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await chain(store)
        _ = try await store.delete(Fixture.deployments, namespace: "ns", name: "web", options: DeleteOptions(propagationPolicy: .background))
        #expect(try await names(store) == [])
    }

    @Test func givenForegroundPropagation_whenTheOwnerIsDeleted_thenDependentsGoFirstAndTheWatchShowsTheOrder() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await chain(store)
        let deployments = try await store.watch(Fixture.deployments, namespace: "ns", options: WatchOptions(resourceVersion: "4"))
        let pods = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: "4"))
        let marked = try await store.delete(Fixture.deployments, namespace: "ns", name: "web", options: DeleteOptions(propagationPolicy: .foreground))
        #expect(marked.meta("finalizers") == ["foregroundDeletion"])
        #expect(marked.meta("deletionTimestamp") != nil)
        #expect(try await names(store) == [])
        let ownerEvents = await take(2, from: deployments)  // marked, then removed with its finalizer
        let podEvents = await take(1, from: pods)
        #expect(ownerEvents.map(\.type) == [.modified, .deleted])
        #expect(podEvents.map(\.type) == [.deleted])
        #expect(Int(podEvents[0].resourceVersion)! < Int(ownerEvents[1].resourceVersion)!)
    }

    @Test func givenAForegroundOwnerWithAnotherFinalizer_whenDependentsAreGone_thenOnlyForegroundDeletionIsRemoved() async throws {
        let store = try await Fixture.storeWithNamespace()
        let owner = try await store.create(Fixture.object("web", finalizers: ["keep.dev/me"]), in: Fixture.deployments, namespace: "ns")
        _ = try await store.create(Fixture.object("web-1", owners: [Fixture.owner(owner, block: true)]), in: Fixture.replicaSets, namespace: "ns")
        _ = try await store.delete(Fixture.deployments, namespace: "ns", name: "web", options: DeleteOptions(propagationPolicy: .foreground))
        let remaining = try await store.get(Fixture.deployments, namespace: "ns", name: "web")
        #expect(remaining.meta("finalizers") == ["keep.dev/me"])
        #expect(try await store.list(Fixture.replicaSets, namespace: "ns").items.isEmpty)
    }

    @Test func givenOrphanPropagation_whenTheOwnerIsDeleted_thenDependentsStayWithoutTheReference() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await chain(store)
        _ = try await store.delete(Fixture.deployments, namespace: "ns", name: "web", options: DeleteOptions(propagationPolicy: .orphan))
        #expect(try await names(store) == ["web-1", "web-1-a"])
        let replicaSet = try await store.get(Fixture.replicaSets, namespace: "ns", name: "web-1")
        #expect(replicaSet.meta("ownerReferences") == nil)
    }

    @Test func givenTwoOwners_whenOneIsDeleted_thenTheDependentStaysAndLosesTheDanglingReference() async throws {
        let store = try await Fixture.storeWithNamespace()
        let a = try await store.create(Fixture.object("a"), in: Fixture.configMaps, namespace: "ns")
        let b = try await store.create(Fixture.object("b"), in: Fixture.configMaps, namespace: "ns")
        _ = try await store.create(Fixture.object("p", owners: [Fixture.owner(a), Fixture.owner(b)]), in: Fixture.pods, namespace: "ns")
        _ = try await store.delete(Fixture.configMaps, namespace: "ns", name: "a")
        let pod = try await store.get(Fixture.pods, namespace: "ns", name: "p")
        #expect(pod.meta("ownerReferences")?.sequence?.map { $0["uid"] } == [b.meta("uid")])
        _ = try await store.delete(Fixture.configMaps, namespace: "ns", name: "b")
        #expect(try await store.list(Fixture.pods, namespace: "ns").items.isEmpty)
    }

    @Test func givenANamespaceWithContent_whenDeleted_thenEverythingInItGoesAndFinalizersAreHonoured() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("p"), in: Fixture.pods, namespace: "ns")
        _ = try await store.create(Fixture.object("held", finalizers: ["x.dev/hold"]), in: Fixture.configMaps, namespace: "ns")
        let namespace = try await store.delete(.namespaces, name: "ns")
        #expect(namespace["status"] == .mapping(["phase": "Terminating"]))
        #expect(try await store.list(Fixture.pods, namespace: "ns").items.isEmpty)
        let creating = await #expect(throws: StatusError.self) {
            _ = try await store.create(Fixture.object("late"), in: Fixture.pods, namespace: "ns")
        }
        #expect(creating?.message == #"pods "late" is forbidden: unable to create new content in namespace ns because it is being terminated"#)
        var held = try await store.get(Fixture.configMaps, namespace: "ns", name: "held")
        held["metadata"]?["finalizers"] = nil
        _ = try await store.update(held, in: Fixture.configMaps, namespace: "ns", name: "held")
        await #expect(throws: StatusError.self) { _ = try await store.get(.namespaces, name: "ns") }
    }
}
