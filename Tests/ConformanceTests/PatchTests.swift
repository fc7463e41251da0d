import CairnTesting
import Kube
import Testing
import YAML

/// Merge, JSON and strategic merge patches through the client.
@Suite struct PatchTests {
    static let configMaps = Conformance.configMaps

    @Test func givenAConfigMap_WhenMergePatched_ThenKeysAreSetAndNullRemovesOne() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("settings", in: cluster.namespace, data: ["a": "1", "b": "2"]))

            let patched = try await cluster.client.patch(Self.configMaps, namespace: cluster.namespace, name: "settings",
                                                         try node(#"{"data": {"a": null, "c": "3"}, "metadata": {"labels": {"tier": "gold"}}}"#))

            #expect(patched["data"] == (try node(#"{"b": "2", "c": "3"}"#)))
            #expect(patched[path: "metadata", "labels", "tier"] == "gold")
        }
    }

    @Test func givenAConfigMap_WhenJSONPatched_ThenTheOperationsApplyInOrder() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("settings", in: cluster.namespace, data: ["a": "1"]))

            let patched = try await cluster.client.patch(Self.configMaps, namespace: cluster.namespace, name: "settings", try node("""
                [{"op": "test", "path": "/data/a", "value": "1"},
                 {"op": "add", "path": "/data/b", "value": "2"},
                 {"op": "replace", "path": "/data/a", "value": "one"}]
                """), type: .json)

            #expect(patched[path: "data", "a"] == "one")
            #expect(patched[path: "data", "b"] == "2")
            #expect(patched["data"]?.mapping?.count == 2)
        }
    }

    @Test func givenAFailingTestOperation_WhenJSONPatched_ThenTheServerRefusesAndNothingChanges() async throws {
        try await TestCluster.with { cluster in
            let created = try await cluster.client.create(Self.configMaps, Conformance.configMap("settings", in: cluster.namespace, data: ["a": "1"]))

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.patch(Self.configMaps, namespace: cluster.namespace, name: "settings", try node(#"[{"op": "test", "path": "/data/a", "value": "2"}, {"op": "replace", "path": "/data/a", "value": "x"}]"#), type: .json)
            }
            #expect(error?.kind == .invalid)
            let read = try await cluster.client.get(Self.configMaps, namespace: cluster.namespace, name: "settings")
            #expect(read.resourceVersion == created.resourceVersion)
        }
    }

    @Test func givenADeploymentWithTwoContainers_WhenStrategicMergePatchedByName_ThenTheOtherContainerIsKept() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(Conformance.deployments, Conformance.deployment("web", in: cluster.namespace, containers: ["app": "x:1", "sidecar": "y:1"]))

            let patched = try await cluster.client.patch(Conformance.deployments, namespace: cluster.namespace, name: "web",
                                                         try node(#"{"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x:2"}]}}}}"#),
                                                         type: .strategicMerge)

            let containers = patched[path: "spec", "template", "spec", "containers"]?.sequence ?? []
            #expect(containers.map { $0["name"]?.string } == ["app", "sidecar"])
            #expect(containers.map { $0["image"]?.string } == ["x:2", "y:1"])
            #expect(patched[path: "metadata", "generation"] == 2)
        }
    }

    @Test func givenADeployment_WhenAContainerIsDeletedByDirective_ThenOnlyItGoes() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(Conformance.deployments, Conformance.deployment("web", in: cluster.namespace, containers: ["app": "x:1", "sidecar": "y:1"]))

            let patched = try await cluster.client.patch(Conformance.deployments, namespace: cluster.namespace, name: "web",
                                                         try node(#"{"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}"#),
                                                         type: .strategicMerge)

            #expect(patched[path: "spec", "template", "spec", "containers"]?.sequence?.map { $0["name"]?.string } == ["app"])
        }
    }

    @Test func givenACustomResource_WhenStrategicMergePatched_ThenUnsupportedMediaType() async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            _ = try await cluster.client.create(Conformance.backupConfigurations, Conformance.backupConfiguration("db", in: cluster.namespace))

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.patch(Conformance.backupConfigurations, namespace: cluster.namespace, name: "db",
                                               try node(#"{"metadata": {"labels": {"a": "b"}}}"#), type: .strategicMerge)
            }
            #expect(error?.httpCode == 415)
            #expect(error?.status?.reason == "UnsupportedMediaType")
            #expect(error?.message.hasPrefix("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml") == true,
                    "\(error?.message ?? "")")
            // A merge patch is what works on custom resources.
            let patched = try await cluster.client.patch(Conformance.backupConfigurations, namespace: cluster.namespace, name: "db",
                                                         try node(#"{"metadata": {"labels": {"a": "b"}}}"#))
            #expect(patched[path: "metadata", "labels", "a"] == "b")
        }
    }
}
