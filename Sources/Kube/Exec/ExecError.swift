/// An exec session that failed outside the API server's answers: the WebSocket could not be
/// negotiated, or the stream ended without the command's status.
public struct ExecError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case badURL = "bad URL"
            case noSubprotocol = "no sub-protocol"
            case noStatus = "no status"
            case badStatus = "unreadable status"
            case stdinCloseUnsupported = "cannot close stdin"
            case proxyUnsupported = "proxy unsupported"
        }
        fileprivate let code: Code

        /// The server URL cannot be dialled.
        public static let badURL = Kind(code: .badURL)
        /// The server upgraded without choosing one of the offered channel.k8s.io protocols.
        public static let noSubprotocol = Kind(code: .noSubprotocol)
        /// The connection ended before the status on the error channel.
        public static let noStatus = Kind(code: .noStatus)
        /// The error channel carried something other than a `Status`.
        public static let badStatus = Kind(code: .badStatus)
        /// The server speaks v4.channel.k8s.io, which cannot end stdin alone.
        public static let stdinCloseUnsupported = Kind(code: .stdinCloseUnsupported)
        /// The kubeconfig names a proxy, which the exec WebSocket does not go through yet.
        public static let proxyUnsupported = Kind(code: .proxyUnsupported)

        /// A short name for the kind.
        public var description: String { code.rawValue }
    }

    /// What went wrong.
    public let kind: Kind
    /// What happened and what to do about it.
    public let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// `exec <kind>: <message>`.
    public var description: String { "exec \(kind): \(message)" }
}
