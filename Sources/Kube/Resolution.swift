import Foundation

extension KubeConfig {
    /// The connection for `context`, or for `current-context` when `context` is `nil`.
    public func connection(context: String? = nil, runner: ExecCredentialRunner = ExecCredentialRunner()) throws -> ClusterConnection {
        let (name, selected) = try selectContext(context)
        let cluster = try lookupCluster(for: selected, named: name)
        let user = try lookupUser(for: selected, named: name)
        var connection = try Self.connection(to: cluster, name: selected.cluster ?? "")
        connection.contextName = name
        connection.namespace = selected.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        if let user { try Self.apply(user, to: &connection, cluster: cluster, runner: runner) }
        return connection
    }

    private var fileList: String { files.isEmpty ? "kubeconfig" : files.joined(separator: ":") }

    private func selectContext(_ override: String?) throws -> (String, Context) {
        let available = contexts.keys.sorted().joined(separator: ", ")
        guard let name = override ?? currentContext else {
            throw KubeConfigError(.contextNotFound, "no context selected; available contexts: \(available.isEmpty ? "none" : available); pass --context or set current-context", file: fileList)
        }
        guard let context = contexts[name] else {
            throw KubeConfigError(.contextNotFound, "context \"\(name)\" not found; available contexts: \(available.isEmpty ? "none" : available); pass --context or set current-context", file: fileList)
        }
        return (name, context)
    }

    private func lookupCluster(for context: Context, named name: String) throws -> Cluster {
        guard let clusterName = context.cluster, !clusterName.isEmpty else {
            throw KubeConfigError(.missingField, "context \"\(name)\" names no cluster; set its \"cluster\" field", file: context.origin.file, mark: context.origin.mark, path: context.origin.path)
        }
        guard let cluster = clusters[clusterName] else {
            let available = clusters.keys.sorted().joined(separator: ", ")
            throw KubeConfigError(.clusterNotFound, "context \"\(name)\" refers to cluster \"\(clusterName)\", which is not defined; available clusters: \(available.isEmpty ? "none" : available)", file: context.origin.file, mark: context.origin.mark, path: context.origin.path + ".context.cluster")
        }
        return cluster
    }

    private func lookupUser(for context: Context, named name: String) throws -> AuthInfo? {
        guard let userName = context.user, !userName.isEmpty else { return nil }
        guard let user = users[userName] else {
            let available = users.keys.sorted().joined(separator: ", ")
            throw KubeConfigError(.userNotFound, "context \"\(name)\" refers to user \"\(userName)\", which is not defined; available users: \(available.isEmpty ? "none" : available)", file: context.origin.file, mark: context.origin.mark, path: context.origin.path + ".context.user")
        }
        return user
    }

    private static func connection(to cluster: Cluster, name: String) throws -> ClusterConnection {
        guard let server = cluster.server, !server.isEmpty else {
            throw KubeConfigError(.missingField, "cluster \"\(name)\" has no server; set its \"server\" field to the API server URL", file: cluster.origin.file, mark: cluster.origin.mark, path: cluster.origin.path + ".cluster")
        }
        var connection = ClusterConnection(server: server)
        connection.certificateAuthority = try cluster.certificateAuthorityData
            ?? cluster.certificateAuthority.map { try readReferenced($0, field: "cluster.certificate-authority", origin: cluster.origin) }
        connection.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify
        connection.tlsServerName = cluster.tlsServerName
        connection.proxyURL = cluster.proxyURL
        return connection
    }

    private static func apply(_ user: AuthInfo, to connection: inout ClusterConnection, cluster: Cluster, runner: ExecCredentialRunner) throws {
        connection.username = user.username
        connection.password = user.password
        connection.impersonation = user.impersonation
        connection.staticIdentity = try identity(of: user)
        if let exec = user.exec {
            connection.credentials = .exec(ExecCredentialPlugin(config: exec, cluster: cluster, runner: runner))
        } else if let tokenFile = user.tokenFile {
            connection.credentials = .tokenFile(TokenFile(path: tokenFile, referencedBy: "\(user.origin.file): \(user.origin.path).user.tokenFile"))
        } else if let token = user.token {
            connection.credentials = .token(token)
        }
    }

    private static func identity(of user: AuthInfo) throws -> ClientIdentity? {
        let certificate = try user.clientCertificateData
            ?? user.clientCertificate.map { try readReferenced($0, field: "user.client-certificate", origin: user.origin) }
        let key = try user.clientKeyData
            ?? user.clientKey.map { try readReferenced($0, field: "user.client-key", origin: user.origin) }
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return ClientIdentity(certificate: certificate, key: key)
        default:
            let missing = certificate == nil ? "client-certificate" : "client-key"
            throw KubeConfigError(.missingField, "a client certificate needs both certificate and key; set \(missing) or \(missing)-data", file: user.origin.file, mark: user.origin.mark, path: user.origin.path + ".user")
        }
    }

    /// The bytes of a file a kubeconfig names, with an error that names the kubeconfig and field.
    static func readReferenced(_ path: String, field: String, origin: Origin) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let fix = FileManager.default.fileExists(atPath: path) ? "make it readable" : "create it or fix the path (relative paths are relative to the kubeconfig's directory)"
            throw KubeConfigError(.fileNotFound, "file \(path) cannot be read; \(fix)", file: origin.file, mark: origin.mark, path: "\(origin.path).\(field)")
        }
        return [UInt8](data)
    }
}
