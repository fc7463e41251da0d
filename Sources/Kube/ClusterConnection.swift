import Foundation
import Synchronization

/// Everything needed to talk to one API server, resolved from a kubeconfig context or from the
/// pod's service account.
public struct ClusterConnection: Sendable {
    /// The context this came from; `nil` in-cluster.
    public var contextName: String?
    /// The API server URL (`https://10.0.0.1:443`).
    public var server: String
    /// PEM bytes of the certificate authorities to trust; `nil` means the system's.
    public var certificateAuthority: [UInt8]?
    /// Whether to skip verifying the server certificate.
    public var insecureSkipTLSVerify = false
    /// The name to verify the server certificate against, when not the URL's host.
    public var tlsServerName: String?
    /// The proxy to reach the server through.
    public var proxyURL: String?
    /// Basic authentication user name.
    public var username: String?
    /// Basic authentication password.
    public var password: String?
    /// Who to act as.
    public var impersonation: Impersonation?
    /// The context's namespace, `default` when it names none.
    public var namespace = "default"
    /// A client certificate and key from the kubeconfig itself.
    var staticIdentity: ClientIdentity?
    /// Where the bearer token or exec credential comes from.
    var credentials: CredentialSource = .none

    /// The bearer token to send: from the exec plugin (run when its cached one has expired), else
    /// from the token file (re-read when it changed), else the static token.
    public func bearerToken() throws -> String? {
        switch credentials {
        case .none: return nil
        case .token(let token): return token
        case .tokenFile(let file): return try file.token()
        case .exec(let plugin): return try plugin.credential().token
        }
    }

    /// The client certificate and key to present: the exec plugin's, else the kubeconfig's.
    public func clientIdentity() throws -> ClientIdentity? {
        if case .exec(let plugin) = credentials, let identity = try plugin.credential().identity { return identity }
        return staticIdentity
    }
}

/// A client certificate and its private key, both PEM.
public struct ClientIdentity: Sendable, Hashable {
    /// The certificate chain, PEM.
    public var certificate: [UInt8]
    /// The private key, PEM.
    public var key: [UInt8]
}

/// Where `ClusterConnection.bearerToken()` gets its token.
enum CredentialSource: Sendable {
    case none
    case token(String)
    case tokenFile(TokenFile)
    case exec(ExecCredentialPlugin)
}

/// A token file that is re-read whenever it changes, so rotated service-account tokens are used.
///
final class TokenFile: Sendable {
    private struct Version: Equatable {
        var modified: Date?
        var inode: UInt64?
        var size: UInt64?
    }

    let path: String
    /// The kubeconfig and field that named the file, for messages.
    let referencedBy: String
    private let cache = Mutex<(version: Version, token: String)?>(nil)

    init(path: String, referencedBy: String) {
        self.path = path
        self.referencedBy = referencedBy
    }

    /// The file's token, trimmed; read again when its mtime, inode or size changed.
    func token() throws -> String {
        try cache.withLock { cache in
            let version = try currentVersion()
            if let cache, cache.version == version { return cache.token }
            let token = try read()
            cache = (version, token)
            return token
        }
    }

    private func currentVersion() throws -> Version {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return Version(
                modified: attributes[.modificationDate] as? Date,
                inode: (attributes[.systemFileNumber] as? NSNumber)?.uint64Value,
                size: (attributes[.size] as? NSNumber)?.uint64Value)
        } catch {
            throw KubeConfigError(.fileNotFound, "token file \(path) does not exist (named by \(referencedBy)); create it or fix the path")
        }
    }

    private func read() throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw KubeConfigError(.unreadableFile, "cannot read token file \(path) (named by \(referencedBy)): \(error.localizedDescription)")
        }
    }
}
