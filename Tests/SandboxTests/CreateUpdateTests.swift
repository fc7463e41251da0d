import Sandbox
import Testing
import YAML

@Suite struct CreateUpdateTests {
    @Test func givenANewPod_whenCreated_thenTheServerStampsUIDTimestampGenerationAndVersion() async throws {
        let store = try await Fixture.storeWithNamespace()
        let pod = try await store.create(Fixture.object("web"), in: Fixture.pods, namespace: "ns")
        #expect(pod["apiVersion"] == "v1")
        #expect(pod["kind"] == "Pod")
        #expect(pod.meta("namespace") == "ns")
        #expect(pod.meta("uid") == "uid-2")
        #expect(pod.meta("creationTimestamp") == "2026-01-01T00:00:00Z")
        #expect(pod.meta("generation") == nil, "kube-apiserver 1.32 sets no generation on pods")
        #expect(pod.rv == "2")
        #expect(try await store.get(Fixture.pods, namespace: "ns", name: "web") == pod)
    }

    @Test func givenWrites_whenEachIsCommitted_thenResourceVersionsStrictlyIncreaseAcrossResources() async throws {
        let store = try await Fixture.storeWithNamespace()
        let a = try await store.create(Fixture.object("a"), in: Fixture.pods, namespace: "ns")
        let b = try await store.create(Fixture.object("b"), in: Fixture.configMaps, namespace: "ns")
        let c = try await store.update(Fixture.object("a", labels: ["x": "y"]), in: Fixture.pods, namespace: "ns", name: "a")
        #expect([a.rv, b.rv, c.rv] == ["2", "3", "4"])
        #expect(await store.resourceVersion == "4")
    }

    @Test func givenAnExistingPod_whenCreatedAgain_thenAlreadyExistsWithTheServersBody() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("web"), in: Fixture.pods, namespace: "ns")
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.create(Fixture.object("web"), in: Fixture.pods, namespace: "ns")
        }
        #expect(try json(#require(error).node) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" already exists","reason":"AlreadyExists","details":{"name":"web","kind":"pods"},"code":409}"#)
    }

    @Test func givenGenerateName_whenTheFirstSuffixCollides_thenTheNextOneIsUsed() async throws {
        let store = try await Fixture.storeWithNamespace(suffixes: ["abcde", "abcde", "fghij"])
        var body = Fixture.object("")
        body["metadata"] = .mapping(["generateName": "job-"])
        let first = try await store.create(body, in: Fixture.pods, namespace: "ns")
        let second = try await store.create(body, in: Fixture.pods, namespace: "ns")
        #expect(first.meta("name") == "job-abcde")
        #expect(second.meta("name") == "job-fghij")
    }

    @Test func givenNoNameAndNoGenerateName_whenCreated_thenInvalidWithACause() async throws {
        let store = try await Fixture.storeWithNamespace()
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.create(.mapping(["metadata": .mapping([])]), in: Fixture.deployments, namespace: "ns")
        }
        #expect(try json(#require(error).node) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Deployment.apps \"\" is invalid: metadata.name: Required value: name or generateName is required","reason":"Invalid","details":{"group":"apps","kind":"Deployment","causes":[{"reason":"FieldValueRequired","message":"Required value: name or generateName is required","field":"metadata.name"}]},"code":422}"#)
    }

    @Test func givenAMissingNamespace_whenCreatingInIt_thenNotFoundNamesTheNamespace() async throws {
        let store = Fixture.store()
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.create(Fixture.object("web"), in: Fixture.pods, namespace: "nope")
        }
        #expect(try json(#require(error).node) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"namespaces"},"code":404}"#)
    }

    @Test func givenAStaleResourceVersion_whenUpdating_thenConflictWithTheServersMessage() async throws {
        let store = try await Fixture.storeWithNamespace()
        let created = try await store.create(Fixture.object("web"), in: Fixture.deployments, namespace: "ns")
        _ = try await store.update(Fixture.object("web", spec: .mapping(["replicas": 2])), in: Fixture.deployments, namespace: "ns", name: "web")
        var stale = created
        stale["spec"] = .mapping(["replicas": 3])
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.update(stale, in: Fixture.deployments, namespace: "ns", name: "web")
        }
        #expect(try json(#require(error).node) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again","reason":"Conflict","details":{"name":"web","group":"apps","kind":"deployments"},"code":409}"#)
    }

    @Test func givenNoResourceVersion_whenUpdating_thenTheUpdateIsUnconditional() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("web"), in: Fixture.deployments, namespace: "ns")
        _ = try await store.update(Fixture.object("web", spec: .mapping(["replicas": 2])), in: Fixture.deployments, namespace: "ns", name: "web")
        let updated = try await store.update(Fixture.object("web", spec: .mapping(["replicas": 5])), in: Fixture.deployments, namespace: "ns", name: "web")
        #expect(updated["spec"] == .mapping(["replicas": 5]))
        #expect(updated.meta("generation") == 3)
        #expect(updated.meta("uid") == "uid-2")
    }

    @Test func givenAMissingObject_whenUpdating_thenNotFound() async throws {
        let store = try await Fixture.storeWithNamespace()
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.update(Fixture.object("ghost"), in: Fixture.pods, namespace: "ns", name: "ghost")
        }
        #expect(error?.reason == "NotFound")
        #expect(error?.message == #"pods "ghost" not found"#)
    }

    @Test func givenOnlyLabelsChange_whenUpdating_thenGenerationStaysAndAnIdenticalUpdateIsANoOp() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("web"), in: Fixture.deployments, namespace: "ns")
        let labelled = try await store.update(Fixture.object("web", labels: ["a": "b"]), in: Fixture.deployments, namespace: "ns", name: "web")
        #expect(labelled.meta("generation") == 1)
        let again = try await store.update(labelled, in: Fixture.deployments, namespace: "ns", name: "web")
        #expect(again.rv == labelled.rv)
    }

    @Test func givenAStatusSubresource_whenTheMainEndpointChangesStatus_thenStatusIsIgnored() async throws {
        let store = try await Fixture.storeWithNamespace()
        var body = Fixture.object("web")
        body["status"] = .mapping(["replicas": 9])
        let created = try await store.create(body, in: Fixture.deployments, namespace: "ns")
        #expect(created["status"] == nil)
        let updated = try await store.update(body, in: Fixture.deployments, namespace: "ns", name: "web")
        #expect(updated["status"] == nil)
        #expect(updated.rv == created.rv)
    }

    @Test func givenAStatusSubresource_whenUpdateStatus_thenOnlyStatusChangesAndGenerationStays() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("web", spec: .mapping(["replicas": 1])), in: Fixture.deployments, namespace: "ns")
        var body = Fixture.object("web", labels: ["ignored": "yes"], spec: .mapping(["replicas": 7]))
        body["status"] = .mapping(["readyReplicas": 1])
        let updated = try await store.updateStatus(body, in: Fixture.deployments, namespace: "ns", name: "web")
        #expect(updated["status"] == .mapping(["readyReplicas": 1]))
        #expect(updated["spec"] == .mapping(["replicas": 1]))
        #expect(updated.meta("labels") == nil)
        #expect(updated.meta("generation") == 1)
    }

    @Test func givenNoStatusSubresource_whenUpdateStatus_thenNotFound() async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("cfg"), in: Fixture.configMaps, namespace: "ns")
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.updateStatus(Fixture.object("cfg"), in: Fixture.configMaps, namespace: "ns", name: "cfg")
        }
        #expect(error?.message == "the server could not find the requested resource")
    }

    @Test func givenAnUnknownResource_whenRead_thenNotFoundWithoutDetails() async throws {
        let error = await #expect(throws: StatusError.self) {
            _ = try await Fixture.store().get(ResourceID(group: "x.dev", version: "v1", plural: "things"), name: "a")
        }
        #expect(try json(#require(error).node) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#)
    }
}
