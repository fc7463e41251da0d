import Sandbox
import Testing
import YAML

/// Strategic merge patch at the store: lists merged by their Kubernetes merge keys.
@Suite struct StrategicMergePatchTests {
    static let deployment = """
        {"metadata": {"name": "web", "finalizers": ["a"]},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
          "template": {"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [
             {"name": "app", "image": "x:1", "args": ["--a", "--b"],
              "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
              "volumeMounts": [{"name": "data", "mountPath": "/data"}],
              "ports": [{"containerPort": 80, "name": "http"}]},
             {"name": "sidecar", "image": "y:1"}],
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}]}}}}
        """

    private func patched(_ patch: String) async throws -> Node {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(try JSON.parse(Self.deployment), in: Fixture.deployments, namespace: "ns")
        return try await store.patch(try JSON.parse(patch), type: .strategicMerge, in: Fixture.deployments, namespace: "ns", name: "web")
    }

    private func containers(_ object: Node) -> [Node] { object[path: "spec", "template", "spec", "containers"]?.sequence ?? [] }

    @Test func givenTwoContainers_WhenOneIsPatchedByName_ThenTheOtherIsKept() async throws {
        let result = try await patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"x:2"}]}}}}"#)
        let containers = containers(result)
        #expect(containers.map { $0["name"]?.string } == ["app", "sidecar"])
        #expect(containers[0]["image"] == "x:2")
        #expect(containers[0]["args"] == ["--a", "--b"])
        #expect(containers[1]["image"] == "y:1")
    }

    @Test func givenANewContainer_WhenPatched_ThenItIsAppended() async throws {
        let result = try await patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"z:1"}]}}}}"#)
        #expect(containers(result).map { $0["name"]?.string } == ["app", "sidecar", "extra"])
    }

    @Test func givenEnvMountsAndPorts_WhenPatched_ThenEachMergesByItsKey() async throws {
        let result = try await patched("""
            {"spec":{"template":{"spec":{"containers":[{"name":"app",
              "env":[{"name":"B","value":"two"},{"name":"C","value":"3"}],
              "volumeMounts":[{"mountPath":"/data","readOnly":true}],
              "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":9090}]}]}}}}
            """)
        let app = containers(result)[0]
        #expect(app["env"] == (try JSON.parse(#"[{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}]"#)))
        #expect(app["volumeMounts"] == (try JSON.parse(#"[{"name": "data", "mountPath": "/data", "readOnly": true}]"#)))
        #expect(app["ports"] == (try JSON.parse(#"[{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 9090}]"#)))
    }

    @Test func givenAnUnkeyedList_WhenPatched_ThenItIsReplaced() async throws {
        let result = try await patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"app","args":["--c"]}]}}}}"#)
        #expect(containers(result)[0]["args"] == ["--c"])
    }

    @Test func givenDeleteDirectives_WhenPatched_ThenTheElementAndTheFieldGo() async throws {
        let result = try await patched("""
            {"spec":{"template":{"spec":{
              "containers":[{"name":"sidecar","$patch":"delete"}],
              "volumes":[{"name":"cache","$patch":"delete"}]}},
             "selector":{"$patch":"delete"}}}
            """)
        #expect(containers(result).map { $0["name"]?.string } == ["app"])
        #expect(result[path: "spec", "template", "spec", "volumes"] == (try JSON.parse(#"[{"name": "data", "emptyDir": {}}]"#)))
        #expect(result[path: "spec", "selector"] == nil)
    }

    @Test func givenReplaceDirectives_WhenPatched_ThenTheListAndTheMapAreReplaced() async throws {
        let result = try await patched("""
            {"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"o:1"}]},
                                  "metadata":{"$patch":"replace","labels":{"app":"web","v":"2"}}}}}
            """)
        #expect(containers(result) == [try JSON.parse(#"{"name": "only", "image": "o:1"}"#)])
        #expect(result[path: "spec", "template", "metadata"] == (try JSON.parse(#"{"labels": {"app": "web", "v": "2"}}"#)))
    }

    @Test func givenFinalizers_WhenPatched_ThenTheyMergeAsASet() async throws {
        let result = try await patched(#"{"metadata":{"finalizers":["b","a"]}}"#)
        #expect(result[path: "metadata", "finalizers"] == ["a", "b"])
    }

    @Test func givenSetElementOrder_WhenPatched_ThenTheListFollowsIt() async throws {
        let result = try await patched("""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}],
              "containers":[{"name":"app","image":"x:3"}]}}}}
            """)
        #expect(containers(result).map { $0["name"]?.string } == ["sidecar", "app"])
        #expect(containers(result)[1]["image"] == "x:3")
    }

    @Test func givenAContainerWithoutAName_WhenPatched_ThenTheServerNamesTheMissingMergeKey() async throws {
        let error = await #expect(throws: StatusError.self) {
            _ = try await patched(#"{"spec":{"template":{"spec":{"containers":[{"image":"x:2"}]}}}}"#)
        }
        #expect(error?.code == 500)
        #expect(error?.message.contains("does not contain declared merge key: name") == true)
    }

    @Test func givenACustomResource_WhenStrategicMergePatched_ThenUnsupportedMediaTypeAsKubeAPIServerSays() async throws {
        let store = try await Fixture.storeWithNamespace()
        let crd = try YAML.parse(try String(contentsOf: KubectlHarness.repository.appendingPathComponent("crds/cairn.dev_backupconfigurations.yaml"), encoding: .utf8))
        _ = try await store.create(crd, in: .customResourceDefinitions)
        var configuration = try YAML.parse(KubectlHarness.backupConfiguration("db"))
        configuration["metadata"]?["namespace"] = "ns"
        _ = try await store.create(configuration, in: KubectlHarness.backupConfigurations, namespace: "ns")

        let error = await #expect(throws: StatusError.self) {
            _ = try await store.patch(try JSON.parse(#"{"metadata": {"labels": {"a": "b"}}}"#), type: .strategicMerge, in: KubectlHarness.backupConfigurations, namespace: "ns", name: "db")
        }
        #expect(error?.code == 415)
        #expect(error?.reason == "UnsupportedMediaType")
        #expect(error?.message == "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
        #expect(error?.details == nil)
    }
}
