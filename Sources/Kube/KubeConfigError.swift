import YAML

/// A kubeconfig, exec plugin or in-cluster setup that cannot produce a connection, with the file,
/// the field and what to do about it.
///
/// Compare with the static members to learn what went wrong: `error.kind == .contextNotFound`.
public struct KubeConfigError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case syntax = "syntax error"
            case typeMismatch = "type mismatch"
            case missingField = "missing field"
            case invalidValue = "invalid value"
            case fileNotFound = "file not found"
            case unreadableFile = "unreadable file"
            case noConfiguration = "no configuration"
            case contextNotFound = "context not found"
            case clusterNotFound = "cluster not found"
            case userNotFound = "user not found"
            case execNotFound = "exec plugin not found"
            case execFailed = "exec plugin failed"
            case execInvalidOutput = "exec plugin output invalid"
            case inClusterUnavailable = "in-cluster configuration unavailable"
        }
        fileprivate let code: Code

        /// The file is not YAML.
        public static let syntax = Kind(code: .syntax)
        /// A field has the wrong type: a string where a mapping belongs, ...
        public static let typeMismatch = Kind(code: .typeMismatch)
        /// A required field is absent.
        public static let missingField = Kind(code: .missingField)
        /// A field has the right type but an unusable value: bad base64, unknown apiVersion, ...
        public static let invalidValue = Kind(code: .invalidValue)
        /// An explicitly named kubeconfig, or a file a kubeconfig refers to, does not exist.
        public static let fileNotFound = Kind(code: .fileNotFound)
        /// A file exists but cannot be read.
        public static let unreadableFile = Kind(code: .unreadableFile)
        /// No kubeconfig file was found anywhere the loading rules look.
        public static let noConfiguration = Kind(code: .noConfiguration)
        /// The selected context is not defined.
        public static let contextNotFound = Kind(code: .contextNotFound)
        /// The context names a cluster that is not defined.
        public static let clusterNotFound = Kind(code: .clusterNotFound)
        /// The context names a user that is not defined.
        public static let userNotFound = Kind(code: .userNotFound)
        /// The exec plugin's command is not on disk or on `PATH`.
        public static let execNotFound = Kind(code: .execNotFound)
        /// The exec plugin exited with a non-zero status or could not start.
        public static let execFailed = Kind(code: .execFailed)
        /// The exec plugin printed something that is not a usable `ExecCredential`.
        public static let execInvalidOutput = Kind(code: .execInvalidOutput)
        /// The process does not run in a pod, or the service account files are missing.
        public static let inClusterUnavailable = Kind(code: .inClusterUnavailable)

        public var description: String { code.rawValue }
    }

    /// What went wrong.
    public let kind: Kind
    /// The file the problem is in, when there is one.
    public var file: String?
    /// Where in `file`, when known.
    public var mark: Mark?
    /// The field the problem is about (`users[0].user.exec.command`), when there is one.
    public var path: String?
    /// What is wrong and what to do about it.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, file: String? = nil, mark: Mark? = nil, path: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.mark = mark
        self.path = path
    }

    /// `file:line:column: path: message`, leaving out the parts that are unknown.
    public var description: String {
        var location = file ?? ""
        if let mark { location += "\(location.isEmpty ? "<input>" : ""):\(mark)" }
        var text = message
        if let path, !path.isEmpty { text = "\(path): \(text)" }
        return location.isEmpty ? text : "\(location): \(text)"
    }
}
