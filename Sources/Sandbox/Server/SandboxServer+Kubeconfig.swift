import Foundation
import YAML

extension SandboxServer {
    /// The kubeconfig context that `writeKubeconfig(to:)` writes and selects.
    public static let contextName = "cairn-sandbox"

    /// Writes a kubeconfig (as JSON, which kubectl reads as YAML) with the server's URL, its
    /// certificate as the CA, its token and a current context named `cairn-sandbox`. The server must
    /// be listening.
    public func writeKubeconfig(to file: URL) throws(SandboxServerError) {
        guard let url else { throw SandboxServerError(description: "the sandbox server is not listening yet; write the kubeconfig from withRunning or after run reported its port") }
        let text: String
        do {
            text = try JSON.emit(Self.kubeconfig(server: url.absoluteString, certificatePEM: certificatePEM, token: token), pretty: true)
        } catch {
            throw SandboxServerError(description: "the kubeconfig cannot be written as JSON: \(error)")
        }
        do {
            try Data(text.utf8).write(to: file, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        } catch {
            throw SandboxServerError(description: "cannot write the kubeconfig to \(file.path): \(error.localizedDescription)")
        }
    }

    /// The kubeconfig document for a server URL, its CA and a token.
    static func kubeconfig(server: String, certificatePEM: String, token: String) -> Node {
        let name = Node.string(contextName)
        let authority = Node.string(Data(certificatePEM.utf8).base64EncodedString())
        return .mapping([
            "apiVersion": "v1", "kind": "Config", "current-context": name, "preferences": .mapping([]),
            "clusters": [.mapping(["name": name, "cluster": .mapping(["server": .string(server), "certificate-authority-data": authority])])],
            "users": [.mapping(["name": name, "user": .mapping(["token": .string(token)])])],
            "contexts": [.mapping(["name": name, "context": .mapping(["cluster": name, "user": name, "namespace": "default"])])],
        ])
    }
}
