import Blueprint
import CairnAPI
import Kube

extension CairnResource {
    /// `apiextensions.k8s.io/v1 customresourcedefinitions`.
    public static let customResourceDefinitions = Resource(
        group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false)

    /// The BackupConfiguration schema the cluster serves, which types lone `${...}` references in
    /// live blueprints (see ``LiveBlueprint``); nil when the CRD's version declares none.
    public static func servedConfigurationSchema(_ client: KubeClient) async throws -> StructuralSchema? {
        let crd = try CRDDocument(try await client.get(customResourceDefinitions, name: "backupconfigurations.\(CairnGroup.group)"))
        return crd.version(CairnGroup.version)?.schema
    }
}
