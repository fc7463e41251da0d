import Sandbox
import Testing
import YAML

@Suite struct CRDTests {
    static let widgets = ResourceID(group: "example.com", version: "v1", plural: "widgets")

    static let definition = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          names: {kind: Widget, plural: widgets}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {type: object, required: [size], properties: {size: {type: integer, minimum: 1}}}
                  status: {type: object, properties: {ready: {type: boolean}}}
        """

    private func storeWithCRD() async throws -> ObjectStore {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(try YAML.parse(Self.definition), in: .customResourceDefinitions)
        return store
    }

    @Test func givenACRD_whenCreated_thenItsResourceIsServedAndTheCRDIsEstablished() async throws {
        let store = try await storeWithCRD()
        let crd = try await store.get(.customResourceDefinitions, name: "widgets.example.com")
        let conditions = crd["status"]?["conditions"]?.sequence?.map { $0["type"]?.string ?? "" }
        #expect(conditions == ["NamesAccepted", "Established"])
        let widget = try await store.create(Fixture.object("w", spec: .mapping(["size": 2])), in: Self.widgets, namespace: "ns")
        #expect(widget["kind"] == "Widget")
        #expect(widget["apiVersion"] == "example.com/v1")
        #expect(await store.resourceTypes.contains { $0.plural == "widgets" && $0.hasStatusSubresource })
    }

    @Test func givenASchema_whenAnObjectBreaksIt_thenInvalidWithCauses() async throws {
        let store = try await storeWithCRD()
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.create(Fixture.object("w", spec: .mapping(["size": 0])), in: Self.widgets, namespace: "ns")
        }
        let status = try #require(error)
        #expect(status.code == 422)
        #expect(status.message == #"Widget.example.com "w" is invalid: spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"#)
        #expect(status.details?.causes.map(\.field) == ["spec.size"])
        #expect(status.details?.kind == "Widget")
        #expect(status.details?.group == "example.com")
    }

    @Test func givenUnknownFields_whenCreatedAndUpdated_thenTheyArePrunedAndDoNotBumpTheGeneration() async throws {
        let store = try await storeWithCRD()
        let created = try await store.create(Fixture.object("w", spec: .mapping(["size": 2, "colour": "red"])), in: Self.widgets, namespace: "ns")
        #expect(created[path: "spec", "colour"] == nil)
        #expect(created[path: "spec", "size"]?.int == 2)

        var renamed = created
        renamed["spec"] = .mapping(["size": 2, "shade": "blue"])
        let updated = try await store.update(renamed, in: Self.widgets, namespace: "ns", name: "w")

        #expect(updated[path: "spec", "shade"] == nil)
        #expect(updated[path: "metadata", "generation"]?.int == 1, "only an unknown field changed, so the spec did not")
        #expect(updated[path: "metadata", "resourceVersion"] == created[path: "metadata", "resourceVersion"], "nothing changed, nothing written")
    }

    @Test func givenACRDWithObjects_whenTheCRDIsDeleted_thenItsObjectsGoAndTheResourceIsNoLongerServed() async throws {
        let store = try await storeWithCRD()
        _ = try await store.create(Fixture.object("w", spec: .mapping(["size": 2])), in: Self.widgets, namespace: "ns")
        let watch = try await store.watch(Self.widgets, namespace: "ns", options: WatchOptions(resourceVersion: "3"))
        _ = try await store.delete(.customResourceDefinitions, name: "widgets.example.com")
        #expect(await take(1, from: watch).map(\.type) == [.deleted])
        let error = await #expect(throws: StatusError.self) { _ = try await store.list(Self.widgets, namespace: "ns") }
        #expect(error?.message == "the server could not find the requested resource")
    }

    @Test func givenACRDWhoseNameDoesNotMatch_whenCreated_thenInvalid() async throws {
        let store = Fixture.store()
        var crd = try YAML.parse(Self.definition)
        crd["metadata"] = .mapping(["name": "gadgets.example.com"])
        let error = await #expect(throws: StatusError.self) { _ = try await store.create(crd, in: .customResourceDefinitions) }
        #expect(error?.code == 422)
        #expect(error?.message.contains("gadgets.example.com") == true, "\(error?.message ?? "")")
    }
}

@Suite struct SnapshotTests {
    @Test func givenAStoreWithACRD_whenSnapshottedAndRestored_thenObjectsTypesAndVersionsCarryOver() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(try YAML.parse(CRDTests.definition), in: .customResourceDefinitions)
        let widget = try await store.create(Fixture.object("w", spec: .mapping(["size": 2])), in: CRDTests.widgets, namespace: "ns")
        let snapshot = await store.snapshot()

        let restored = Fixture.store()
        try await restored.restore(from: try JSON.parse(try JSON.emit(snapshot)))
        #expect(try await restored.get(CRDTests.widgets, namespace: "ns", name: "w") == widget)
        #expect(await restored.resourceVersion == "3")
        let next = try await restored.create(Fixture.object("x", spec: .mapping(["size": 1])), in: CRDTests.widgets, namespace: "ns")
        #expect(next.rv == "4")
        await #expect(throws: StatusError.self) {
            _ = try await restored.watch(CRDTests.widgets, namespace: "ns", options: WatchOptions(resourceVersion: "2"))
        }
    }
}

@Suite struct GarbageCollectionTests {
    @Test func givenADependentOfAMissingOwner_whenCreated_thenTheCollectorRemovesItAndKeepsOwnedOnes() async throws {
        let store = try await Fixture.storeWithNamespace()
        let ghost: Node = .mapping(["apiVersion": "v1", "kind": "ConfigMap", "metadata": .mapping(["name": "gone", "uid": "no-such-uid"])])
        let live = try await store.create(Fixture.object("live"), in: Fixture.configMaps, namespace: "ns")
        _ = try await store.create(Fixture.object("orphan", owners: [Fixture.owner(ghost)]), in: Fixture.pods, namespace: "ns")
        _ = try await store.create(Fixture.object("kept", owners: [Fixture.owner(live)]), in: Fixture.pods, namespace: "ns")
        // Creating a dependent of a missing owner is allowed; the collector removes it right after.
        #expect(try await store.list(Fixture.pods, namespace: "ns").items.map { $0.meta("name") } == ["kept"])
    }
}
