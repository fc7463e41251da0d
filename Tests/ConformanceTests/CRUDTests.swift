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
}
