import CairnTesting
import Kube
import Testing
import YAML

/// The Kube client against the test cluster (the sandbox, or `CAIRN_TEST_KUBECONFIG`'s cluster).
@Suite struct CRUDTests {
    static let configMaps = Resource(group: "", version: "v1", plural: "configmaps", namespaced: true)

    static func configMap(_ name: String, in namespace: String, data: [String: String] = [:]) -> Node {
        .mapping([
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]),
            "data": Node(.mapping(data.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })),
        ])
    }

    @Test func givenAConfigMap_WhenCreatedThenRead_ThenTheServerFilledInItsIdentity() async throws {
        try await TestCluster.with { cluster in
            let created = try await cluster.client.create(Self.configMaps, Self.configMap("settings", in: cluster.namespace, data: ["mode": "fast"]))

            let read = try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: "settings")
            #expect(read[path: "data", "mode"]?.string == "fast")
            #expect(read[path: "metadata", "uid"] == created[path: "metadata", "uid"])
            #expect(read[path: "metadata", "uid"]?.string?.isEmpty == false)
            #expect(read[path: "metadata", "creationTimestamp"]?.string?.isEmpty == false)
        }
    }

    @Test func givenAStaleResourceVersion_WhenUpdated_ThenTheServerAnswersConflict() async throws {
        try await TestCluster.with { cluster in
            let first = try await cluster.client.create(Self.configMaps, Self.configMap("settings", in: cluster.namespace))
            var newer = first
            newer["data"] = .mapping(["mode": "slow"])
            _ = try await cluster.client.update(Self.configMaps, newer)

            var stale = first
            stale["data"] = .mapping(["mode": "stale"])
            let error = await #expect(throws: KubeError.self) { try await cluster.client.update(Self.configMaps, stale) }
            #expect(error?.kind == .conflict)
        }
    }

    @Test func givenAConfigMapAndADeployment_WhenCreatedAndChanged_ThenOnlyTheDeploymentTracksGeneration() async throws {
        try await TestCluster.with { cluster in
            var configMap = try await cluster.client.create(Self.configMaps, Self.configMap("settings", in: cluster.namespace, data: ["a": "1"]))
            var deployment = try await cluster.client.create(Conformance.deployments, Conformance.deployment("web", in: cluster.namespace, containers: ["app": "x:1"]))
            #expect(configMap[path: "metadata", "generation"] == nil)
            #expect(deployment[path: "metadata", "generation"] == 1)

            configMap["data"] = .mapping(["a": "2"])
            configMap = try await cluster.client.update(Self.configMaps, configMap)
            deployment["spec"]?["replicas"] = 0
            deployment["spec"]?["minReadySeconds"] = 5
            deployment = try await cluster.client.update(Conformance.deployments, deployment)

            #expect(configMap[path: "metadata", "generation"] == nil)
            #expect(deployment[path: "metadata", "generation"] == 2)
        }
    }

    @Test func givenAnExistingName_WhenCreatedAgain_ThenTheServerAnswersAlreadyExists() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(Self.configMaps, Self.configMap("settings", in: cluster.namespace))

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.create(Self.configMaps, Self.configMap("settings", in: cluster.namespace))
            }
            #expect(error?.kind == .alreadyExists)
            #expect(error?.httpCode == 409)
            #expect(error?.status?.reason == "AlreadyExists")
            #expect(error?.message == #"configmaps "settings" already exists"#)
        }
    }

    @Test func givenGenerateName_WhenCreated_ThenTheServerAppendsFiveCharacters() async throws {
        try await TestCluster.with { cluster in
            var object = Self.configMap("", in: cluster.namespace)
            object["metadata"]?["name"] = nil
            object["metadata"]?["generateName"] = "cfg-"

            let first = try await cluster.client.create(Self.configMaps, object)
            let second = try await cluster.client.create(Self.configMaps, object)

            let name = try #require(first[path: "metadata", "name"]?.string)
            #expect(name.hasPrefix("cfg-") && name.count == 9, "\(name)")
            #expect(first[path: "metadata", "name"] != second[path: "metadata", "name"])
            #expect(first[path: "metadata", "uid"] != second[path: "metadata", "uid"])
            _ = try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: name)
        }
    }

    @Test func givenACreatedObject_WhenDeleted_ThenReadingItAnswersNotFound() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(Self.configMaps, Self.configMap("settings", in: cluster.namespace))

            try await cluster.client.delete(Self.configMaps, namespace: cluster.namespace, name: "settings")

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: "settings")
            }
            #expect(error?.kind == .notFound)
            #expect(error?.message == #"configmaps "settings" not found"#)
            #expect(error?.status?.name == "settings")
            #expect(error?.status?.kind == "configmaps")
        }
    }

    @Test func givenAResourceTheServerDoesNotServe_WhenRead_ThenNotFoundWithoutDetails() async throws {
        try await TestCluster.with { cluster in
            let widgets = Resource(group: "widgets.example.invalid", version: "v1", plural: "widgets", namespaced: true)

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.list(widgets, namespace: cluster.namespace)
            }
            #expect(error?.kind == .notFound)
            #expect(error?.httpCode == 404)
            #expect(error?.url.contains("/apis/widgets.example.invalid/v1/namespaces/\(cluster.namespace)/widgets") == true)
        }
    }

    @Test func givenAnUpdate_WhenItCarriesTheCurrentResourceVersion_ThenItIsStoredAndTheVersionMoves() async throws {
        try await TestCluster.with { cluster in
            var object = try await cluster.client.create(Self.configMaps, Self.configMap("settings", in: cluster.namespace, data: ["a": "1"]))
            object["data"] = .mapping(["a": "2"])

            let updated = try await cluster.client.update(Self.configMaps, object)

            #expect(updated[path: "data", "a"] == "2")
            #expect(updated[path: "metadata", "resourceVersion"] != object[path: "metadata", "resourceVersion"])
            #expect(updated[path: "metadata", "uid"] == object[path: "metadata", "uid"])
        }
    }
}
