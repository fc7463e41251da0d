import ArgumentParser
import CairnAPI
import Executor
import Kube

/// The options of the commands that act on one BackupConfiguration (`backup now`, `restore`): its
/// namespace and the cluster, found as `ClusterAccess` finds it.
struct ConfigurationCommandOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "The configuration's namespace (default: the context's).")
    var namespace: String?

    @Option(help: ArgumentHelp("The kubeconfig to use (default: $KUBECONFIG, then in-cluster, then ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: the current one).")
    var context: String?

    /// A client for the cluster, and the namespace: `--namespace`, else the context's.
    func client() throws -> (KubeClient, namespace: String) {
        let connection = try ClusterAccess.connection(kubeconfig: kubeconfig, context: context).0
        return (KubeClient(connection: connection), namespace ?? connection.namespace)
    }

    /// Configuration `name` in `namespace`; a missing one is an error that says how to list them.
    static func configuration(_ name: String, namespace: String, client: KubeClient) async throws -> BackupConfiguration {
        do {
            return try await client.get(BackupConfiguration.self, ExecutorResource.configurations, namespace: namespace, name: name)
        } catch let error as KubeError where error.kind == .notFound {
            throw ConfigurationNotFound(description:
                "backupconfiguration.cairn.dev \"\(name)\" not found in namespace \(namespace); list them with kubectl get backupconfigurations -n \(namespace)")
        }
    }
}

/// A command named a BackupConfiguration that does not exist.
struct ConfigurationNotFound: Error, CustomStringConvertible {
    let description: String
}
