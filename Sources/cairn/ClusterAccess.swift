import AutoBackup
import Foundation
import Kube

/// How Cairn's cluster commands (`controller`, `explain`) find their cluster, and how
/// `cairn controller` checks it before it starts anything.
enum ClusterAccess {
    /// client-go's order: `--kubeconfig`, else `KUBECONFIG`, else the pod's service account, else
    /// `~/.kube/config`. Returns whether the connection is the in-cluster one. Throws the loader's
    /// own error; each command says it in its own words.
    static func connection(kubeconfig: String?, context: String?,
                           environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (ClusterConnection, inCluster: Bool) {
        let named = kubeconfig.map { !$0.isEmpty } ?? false || !(environment["KUBECONFIG"] ?? "").isEmpty
        if !named, context == nil, !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty {
            return (try ClusterConnection.inCluster(environment: environment), true)
        }
        return (try KubeConfigLoader(explicitPath: kubeconfig, environment: environment).connection(context: context), false)
    }

    /// Asks the server for `/version`, so a wrong address or credentials fail at start, clearly.
    static func checkReachable(_ client: KubeClient, server: String) async throws {
        do {
            _ = try await client.serverVersion()
        } catch {
            throw ControllerCommandError("cannot reach the API server at \(server): \(error)")
        }
    }

    /// The Lease lives in an existing namespace; the controller does not create namespaces.
    static func checkLeaseNamespace(_ namespace: String, client: KubeClient) async throws {
        do {
            _ = try await client.get(CairnResource.namespaces, name: namespace)
        } catch let error as KubeError where error.kind == .notFound {
            throw ControllerCommandError(
                "the leader election namespace \"\(namespace)\" does not exist: create it (kubectl create namespace \(namespace)) or pass --leader-election-namespace")
        } catch {
            throw ControllerCommandError("cannot read the leader election namespace \"\(namespace)\": \(error)")
        }
    }

    /// This replica's name in the Lease: the host (the pod's name in a cluster) and a random
    /// suffix, so a restarted process never mistakes its predecessor's lease for its own.
    static func identity() -> String {
        "\(ProcessInfo.processInfo.hostName)_\(UUID().uuidString.prefix(8).lowercased())"
    }
}
