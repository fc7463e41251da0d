import YAML

/// A kubeconfig (`apiVersion: v1`, `kind: Config`), one file or several merged.
///
/// Relative paths are already made absolute against the directory of the file that defined them.
public struct KubeConfig: Sendable {
    /// Clusters by name.
    public var clusters: [String: Cluster] = [:]
    /// Users (`AuthInfo` in client-go) by name.
    public var users: [String: AuthInfo] = [:]
    /// Contexts by name.
    public var contexts: [String: Context] = [:]
    /// The context used when none is passed.
    public var currentContext: String?
    /// `preferences`, kept for completeness; Cairn does not act on them.
    public var preferences: Node?
    /// Top-level `extensions` by name.
    public var extensions: [String: Node] = [:]
    /// The files this configuration was read from, in merge order.
    public var files: [String] = []

    /// An empty configuration.
    public init() {}
}

/// Where an entry of a kubeconfig was defined, for messages and relative paths.
public struct Origin: Sendable, Hashable {
    /// The kubeconfig file.
    public var file: String
    /// The entry's position in it.
    public var mark: Mark?
    /// The entry's field path (`clusters[1]`).
    public var path: String
}

/// A `clusters[].cluster` entry.
public struct Cluster: Sendable {
    /// `server`: the API server URL.
    public var server: String?
    /// `certificate-authority`: an absolute path to a PEM file.
    public var certificateAuthority: String?
    /// `certificate-authority-data`, decoded.
    public var certificateAuthorityData: [UInt8]?
    /// `insecure-skip-tls-verify`.
    public var insecureSkipTLSVerify = false
    /// `tls-server-name`: the name to verify the server certificate against.
    public var tlsServerName: String?
    /// `proxy-url`.
    public var proxyURL: String?
    /// `disable-compression`.
    public var disableCompression = false
    /// Where it was defined.
    public var origin: Origin
}

/// A `users[].user` entry.
public struct AuthInfo: Sendable {
    /// `client-certificate`: an absolute path to a PEM file.
    public var clientCertificate: String?
    /// `client-certificate-data`, decoded.
    public var clientCertificateData: [UInt8]?
    /// `client-key`: an absolute path to a PEM file.
    public var clientKey: String?
    /// `client-key-data`, decoded.
    public var clientKeyData: [UInt8]?
    /// `token`.
    public var token: String?
    /// `tokenFile`: an absolute path, re-read when it changes.
    public var tokenFile: String?
    /// `username` for basic authentication.
    public var username: String?
    /// `password` for basic authentication.
    public var password: String?
    /// `as`, `as-uid`, `as-groups`, `as-user-extra`.
    public var impersonation: Impersonation?
    /// `exec`: a credential plugin.
    public var exec: ExecConfig?
    /// Where it was defined.
    public var origin: Origin
}

/// Who to act as (`kubectl --as`).
public struct Impersonation: Sendable, Hashable {
    /// `as`: the user name.
    public var user: String?
    /// `as-uid`.
    public var uid: String?
    /// `as-groups`.
    public var groups: [String] = []
    /// `as-user-extra`.
    public var extra: [String: [String]] = [:]
}

/// A `users[].user.exec` entry: a command that prints an `ExecCredential`.
public struct ExecConfig: Sendable, Hashable {
    /// When the plugin may talk to the user.
    public enum InteractiveMode: String, Sendable, Hashable {
        /// Never: stdin is not connected.
        case never = "Never"
        /// If a terminal is available; Cairn never has one, so it behaves like `never`.
        case ifAvailable = "IfAvailable"
        /// Always: the plugin needs a terminal, which Cairn cannot give it.
        case always = "Always"
    }

    /// `command`: absolute when it contained a `/`, else looked up on `PATH` when run.
    public var command: String
    /// `args`.
    public var args: [String] = []
    /// `env`, in order; added to Cairn's own environment.
    public var env: [EnvVar] = []
    /// `apiVersion`: `client.authentication.k8s.io/v1` or `.../v1beta1`.
    public var apiVersion: String
    /// `installHint`, shown when the command is not found.
    public var installHint: String?
    /// `provideClusterInfo`.
    public var provideClusterInfo = false
    /// `interactiveMode`.
    public var interactiveMode: InteractiveMode = .ifAvailable
}

/// One `exec.env` entry.
public struct EnvVar: Sendable, Hashable {
    /// The variable's name.
    public var name: String
    /// Its value.
    public var value: String
}

/// A `contexts[].context` entry.
public struct Context: Sendable {
    /// `cluster`: a cluster name.
    public var cluster: String?
    /// `user`: a user name.
    public var user: String?
    /// `namespace`.
    public var namespace: String?
    /// Where it was defined.
    public var origin: Origin
}
