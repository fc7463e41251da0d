import CairnTesting
import Kube
import Testing
import YAML

/// Discovery documents and the REST mapper built on them.
@Suite struct DiscoveryTests {
    @Test func givenTheServer_WhenVersionAndGroupsAreRead_ThenTheCoreAndAppsGroupsAreThere() async throws {
        try await TestCluster.with { cluster in
            let version = try await cluster.client.serverVersion()
            let groups = try await cluster.client.serverGroups()

            #expect(version.major == "1")
            #expect(version.gitVersion.hasPrefix("v1."))
            #expect(groups.first?.name == "")
            #expect(groups.first?.versions == ["v1"])
            #expect(groups.first?.preferredVersion == "v1")
            #expect(groups.contains { $0.name == "apps" && $0.versions.contains("v1") })
            #expect(groups.contains { $0.name == "apiextensions.k8s.io" })
        }
    }

    @Test func givenAppsV1_WhenItsResourcesAreRead_ThenDeploymentsAreDescribedAsKubeAPIServerDoes() async throws {
        try await TestCluster.with { cluster in
            let resources = try await cluster.client.serverResources(forGroupVersion: "apps/v1")

            let deployments = try #require(resources.first { $0.name == "deployments" })
            #expect(deployments.kind == "Deployment")
            #expect(deployments.singularName == "deployment")
            #expect(deployments.namespaced)
            #expect(Set(["create", "delete", "get", "list", "patch", "update", "watch"]).isSubset(of: deployments.verbs))
            #expect(deployments.shortNames == ["deploy"])
            #expect(deployments.categories == ["all"])
            let status = try #require(resources.first { $0.name == "deployments/status" })
            #expect(status.kind == "Deployment")
            #expect(status.singularName == "")
            #expect(Set(status.verbs) == ["get", "patch", "update"])
        }
    }

    @Test func givenTheCairnCRDs_WhenTheirGroupIsRead_ThenNamesComeFromTheCRD() async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()

            let resources = try await cluster.client.serverResources(forGroupVersion: "cairn.dev/v1alpha1")

            let configurations = try #require(resources.first { $0.name == "backupconfigurations" })
            #expect(configurations.kind == "BackupConfiguration")
            #expect(configurations.singularName == "backupconfiguration")
            #expect(configurations.shortNames == ["bc"])
            #expect(resources.contains { $0.name == "backupconfigurations/status" })
        }
    }

    @Test(arguments: [
        ("apps/v1", "Deployment", "deployments", true), ("v1", "ConfigMap", "configmaps", true), ("v1", "Namespace", "namespaces", false),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false),
    ])
    func givenABuiltInKind_WhenMapped_ThenItsResourceComesBack(apiVersion: String, kind: String, plural: String, namespaced: Bool) async throws {
        try await TestCluster.with { cluster in
            let mapper = RESTMapper(client: cluster.client)

            let resource = try await mapper.resource(apiVersion: apiVersion, kind: kind)

            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            #expect(resource == Resource(group: group, version: "v1", plural: plural, namespaced: namespaced))
        }
    }

    @Test func givenACachedGroupVersion_WhenACRDAddsAKindToIt_ThenTheMapperRefreshesOnceAndFindsIt() async throws {
        try await TestCluster.with { cluster in
            let text = try String(contentsOf: TestCluster.repository.appendingPathComponent("crds/cairn.dev_backupconfigurations.yaml"), encoding: .utf8)
            _ = try await cluster.client.create(TestCluster.customResourceDefinitions, try YAML.parse(text))
            try await cluster.eventually("backupconfigurations to be served") {
                do {
                    return try await cluster.client.serverResources(forGroupVersion: "cairn.dev/v1alpha1").contains { $0.name == "backupconfigurations" }
                } catch let error as KubeError where error.kind == .notFound {
                    return false
                }
            }
            let mapper = RESTMapper(client: cluster.client)
            let configurations = try await mapper.resource(apiVersion: "cairn.dev/v1alpha1", kind: "BackupConfiguration")
            #expect(configurations == Conformance.backupConfigurations)

            try await cluster.installCRDs()
            let blueprints = try await mapper.resource(apiVersion: "cairn.dev/v1alpha1", kind: "BackupBlueprint")

            #expect(blueprints == Resource(group: "cairn.dev", version: "v1alpha1", plural: "backupblueprints", namespaced: true))
        }
    }

    @Test func givenAMisspelledKind_WhenMapped_ThenTheErrorNamesItAndWhatIsServed() async throws {
        try await TestCluster.with { cluster in
            let mapper = RESTMapper(client: cluster.client)

            let error = await #expect(throws: RESTMappingError.self) { try await mapper.resource(apiVersion: "apps/v1", kind: "Deploymnet") }

            #expect(error?.kind == "Deploymnet")
            #expect(error?.apiVersion == "apps/v1")
            #expect(error?.served?.contains("Deployment") == true)
            #expect(error?.description.contains(#"no kind "Deploymnet" is registered for version "apps/v1""#) == true)
        }
    }

    @Test func givenAGroupNobodyServes_WhenMapped_ThenTheErrorSaysToInstallTheCRD() async throws {
        try await TestCluster.with { cluster in
            let mapper = RESTMapper(client: cluster.client)

            let error = await #expect(throws: RESTMappingError.self) { try await mapper.resource(apiVersion: "widgets.example.invalid/v1", kind: "Widget") }

            #expect(error?.served == nil)
            #expect(error?.description.contains("the server does not serve widgets.example.invalid/v1") == true)
            #expect(error?.description.contains("install the CRD") == true)
        }
    }
}
