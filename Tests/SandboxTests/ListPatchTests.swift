import Sandbox
import Testing
import YAML

@Suite struct ListTests {
    private func seeded() async throws -> ObjectStore {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.namespace("other"), in: .namespaces)
        for (name, tier) in [("a", "db"), ("b", "web"), ("c", "db"), ("d", "cache")] {
            _ = try await store.create(Fixture.object(name, labels: ["tier": tier]), in: Fixture.pods, namespace: "ns")
        }
        _ = try await store.create(Fixture.object("z", labels: ["tier": "db"]), in: Fixture.pods, namespace: "other")
        return store
    }

    struct SelectorCase: Sendable, CustomStringConvertible {
        var namespace: String?
        var labels: String
        var fields: String
        var names: [String]
        var description: String { "\(namespace ?? "*") \(labels) \(fields)" }
    }

    static let selectorCases: [SelectorCase] = [
        .init(namespace: "ns", labels: "", fields: "", names: ["a", "b", "c", "d"]),
        .init(namespace: nil, labels: "tier=db", fields: "", names: ["a", "c", "z"]),
        .init(namespace: "ns", labels: "tier in (web,cache)", fields: "", names: ["b", "d"]),
        .init(namespace: nil, labels: "tier=db", fields: "metadata.namespace!=ns", names: ["z"]),
        .init(namespace: "ns", labels: "", fields: "metadata.name=c", names: ["c"]),
        .init(namespace: "ns", labels: "!tier", fields: "", names: []),
    ]

    @Test(arguments: selectorCases)
    func givenSelectors_whenListing_thenOnlyMatchingObjectsComeBackInKeyOrder(_ c: SelectorCase) async throws {
        let store = try await seeded()
        let list = try await store.list(Fixture.pods, namespace: c.namespace, options: ListOptions(labelSelector: c.labels, fieldSelector: c.fields))
        #expect(list.items.map { $0.meta("name")?.string ?? "" } == c.names)
        #expect(list.resourceVersion == "7")
    }

    @Test(arguments: [("tier in (", "unable to parse requirement at column 10: expected ')' to close the set of values"),
                      ("spec.x=1", "field label not supported: spec.x")])
    func givenABadSelector_whenListing_thenBadRequest(selector: String, message: String) async throws {
        let store = try await seeded()
        let isField = selector.hasPrefix("spec")
        let options = isField ? ListOptions(fieldSelector: selector) : ListOptions(labelSelector: selector)
        let error = await #expect(throws: StatusError.self) { _ = try await store.list(Fixture.pods, namespace: "ns", options: options) }
        #expect(error?.code == 400)
        #expect(error?.reason == "BadRequest")
        #expect(error?.message == message)
    }

    @Test func givenPages_whenObjectsChangeBetweenThem_thenLaterPagesShowTheFirstPagesSnapshot() async throws {
        let store = try await seeded()
        let first = try await store.list(Fixture.pods, namespace: "ns", options: ListOptions(limit: 2))
        #expect(first.items.map { $0.meta("name") } == ["a", "b"])
        let token = try #require(first.continueToken)
        _ = try await store.create(Fixture.object("bb"), in: Fixture.pods, namespace: "ns")
        _ = try await store.delete(Fixture.pods, namespace: "ns", name: "c")
        _ = try await store.update(Fixture.object("d", labels: ["tier": "changed"]), in: Fixture.pods, namespace: "ns", name: "d")
        let second = try await store.list(Fixture.pods, namespace: "ns", options: ListOptions(limit: 2, continueToken: token))
        #expect(second.items.map { $0.meta("name") } == ["c", "d"])
        #expect(second.items.last?.meta("labels") == .mapping(["tier": "cache"]))
        #expect(second.resourceVersion == first.resourceVersion)
        #expect(second.continueToken == nil)
        let fresh = try await store.list(Fixture.pods, namespace: "ns")
        #expect(fresh.items.map { $0.meta("name") } == ["a", "b", "bb", "d"])
    }

    @Test func givenAContinueTokenOlderThanTheHistory_whenListing_thenExpired410() async throws {
        let store = try await Fixture.storeWithNamespace(historyLimit: 2)
        for name in ["a", "b", "c"] { _ = try await store.create(Fixture.object(name), in: Fixture.pods, namespace: "ns") }
        let first = try await store.list(Fixture.pods, namespace: "ns", options: ListOptions(limit: 1))
        for name in ["d", "e", "f"] { _ = try await store.create(Fixture.object(name), in: Fixture.pods, namespace: "ns") }
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.list(Fixture.pods, namespace: "ns", options: ListOptions(limit: 1, continueToken: first.continueToken))
        }
        let status = try #require(error).node
        #expect(status["code"] == 410)
        #expect(status["reason"] == "Expired")
        #expect(status["message"]?.string?.hasPrefix("The provided continue parameter is too old to display a consistent list result.") == true)
    }

    @Test func givenAList_whenRendered_thenItIsAKindListWithMetadata() async throws {
        let store = try await seeded()
        let list = try await store.list(Fixture.pods, namespace: "ns", options: ListOptions(limit: 1))
        let node = list.node(kind: "Pod", apiVersion: "v1")
        #expect(node["kind"] == "PodList")
        #expect(node["metadata"]?["resourceVersion"] == "7")
        #expect(node["metadata"]?["continue"]?.string == list.continueToken)
    }
}

@Suite struct PatchTests {
    private func storeWithPod() async throws -> ObjectStore {
        let store = try await Fixture.storeWithNamespace()
        let body = try JSON.parse(#"{"metadata":{"name":"p","labels":{"a":"1","b":"2"}},"spec":{"containers":[{"name":"c","image":"x"}],"nodeName":"n"}}"#)
        _ = try await store.create(body, in: Fixture.pods, namespace: "ns")
        return store
    }

    @Test func givenAMergePatch_whenApplied_thenMappingsMergeAndNullDeletes() async throws {
        let store = try await storeWithPod()
        let patch = try JSON.parse(#"{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"nodeName":null,"containers":[{"name":"d"}]}}"#)
        let patched = try await store.patch(patch, type: .merge, in: Fixture.pods, namespace: "ns", name: "p")
        #expect(try json(patched["metadata"]!["labels"]!) == #"{"b":"2","c":"3"}"#)
        #expect(try json(patched["spec"]!) == #"{"containers":[{"name":"d"}]}"#)
        #expect(patched.meta("generation") == nil, "pods have no generation before Kubernetes 1.33")
    }

    struct JSONPatchCase: Sendable, CustomStringConvertible {
        var patch: String
        var path: [String]
        var expected: String
        var description: String { patch }
    }

    static let jsonCases: [JSONPatchCase] = [
        .init(patch: #"[{"op":"add","path":"/metadata/labels/c","value":"3"}]"#, path: ["metadata", "labels"], expected: #"{"a":"1","b":"2","c":"3"}"#),
        .init(patch: #"[{"op":"remove","path":"/metadata/labels/a"}]"#, path: ["metadata", "labels"], expected: #"{"b":"2"}"#),
        .init(patch: #"[{"op":"replace","path":"/spec/containers/0/image","value":"y"}]"#, path: ["spec", "containers"], expected: #"[{"name":"c","image":"y"}]"#),
        .init(patch: #"[{"op":"add","path":"/spec/containers/-","value":{"name":"e"}}]"#, path: ["spec", "containers"], expected: #"[{"name":"c","image":"x"},{"name":"e"}]"#),
        .init(patch: #"[{"op":"move","from":"/metadata/labels/a","path":"/metadata/labels/z"}]"#, path: ["metadata", "labels"], expected: #"{"b":"2","z":"1"}"#),
        .init(patch: #"[{"op":"copy","from":"/metadata/labels/a","path":"/metadata/labels/a~1copy"}]"#, path: ["metadata", "labels"], expected: #"{"a":"1","b":"2","a/copy":"1"}"#),
        .init(patch: #"[{"op":"test","path":"/spec/nodeName","value":"n"},{"op":"remove","path":"/spec/nodeName"}]"#, path: ["spec"], expected: #"{"containers":[{"name":"c","image":"x"}]}"#),
    ]

    @Test(arguments: jsonCases)
    func givenAJSONPatch_whenApplied_thenTheDocumentChangesAsRFC6902Says(_ c: JSONPatchCase) async throws {
        let store = try await storeWithPod()
        let patched = try await store.patch(try JSON.parse(c.patch), type: .json, in: Fixture.pods, namespace: "ns", name: "p")
        var node: Node? = patched
        for key in c.path { node = node?[key] }
        #expect(try json(#require(node)) == c.expected)
    }

    @Test(arguments: [#"[{"op":"test","path":"/spec/nodeName","value":"other"}]"#, #"[{"op":"remove","path":"/spec/missing"}]"#,
                      #"[{"op":"add","path":"/spec/containers/9","value":1}]"#, #"[{"op":"frobnicate","path":"/spec"}]"#])
    func givenAFailingJSONPatch_whenApplied_then422AndNothingChanges(patch: String) async throws {
        let store = try await storeWithPod()
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.patch(try JSON.parse(patch), type: .json, in: Fixture.pods, namespace: "ns", name: "p")
        }
        #expect(try json(#require(error).node) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{},"code":422}"#)
        #expect(try await store.get(Fixture.pods, namespace: "ns", name: "p").rv == "2")
    }

    @Test func givenAStatusPatch_whenApplied_thenOnlyStatusChanges() async throws {
        let store = try await storeWithPod()
        let patch = try JSON.parse(#"{"status":{"phase":"Running"},"spec":{"nodeName":"ignored"}}"#)
        let patched = try await store.patch(patch, type: .merge, in: Fixture.pods, namespace: "ns", name: "p", status: true)
        #expect(patched["status"] == .mapping(["phase": "Running"]))
        #expect(patched["spec"]?["nodeName"] == "n")
    }
}
