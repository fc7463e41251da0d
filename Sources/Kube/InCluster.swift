import Foundation

extension ClusterConnection {
    /// Where Kubernetes mounts a pod's service account.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The connection a pod has to its own cluster: `KUBERNETES_SERVICE_HOST`/`_PORT`, the
    /// service account's token (re-read when rotated), CA and namespace.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory
    ) throws -> ClusterConnection {
        let host = try variable("KUBERNETES_SERVICE_HOST", in: environment)
        let port = try variable("KUBERNETES_SERVICE_PORT", in: environment)
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        var connection = ClusterConnection(server: "https://\(bracketed):\(port)")
        connection.certificateAuthority = try serviceAccountFile("ca.crt", in: directory)
        let tokenPath = directory + "/token"
        _ = try serviceAccountFile("token", in: directory)
        connection.credentials = .tokenFile(TokenFile(path: tokenPath, referencedBy: "the in-cluster service account"))
        let namespacePath = directory + "/namespace"
        if FileManager.default.fileExists(atPath: namespacePath) {
            let namespace = String(decoding: try serviceAccountFile("namespace", in: directory), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if !namespace.isEmpty { connection.namespace = namespace }
        }
        return connection
    }

    private static func variable(_ name: String, in environment: [String: String]) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw KubeConfigError(.inClusterUnavailable, "\(name) is not set; in-cluster configuration only works inside a pod (use a kubeconfig outside one)")
        }
        return value
    }

    private static func serviceAccountFile(_ name: String, in directory: String) throws -> [UInt8] {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError(.inClusterUnavailable, "service account file is missing or unreadable; mount the service account token (automountServiceAccountToken: true)", file: path)
        }
        return [UInt8](data)
    }
}
