/// An HTTP exchange that failed below HTTP: no connection, TLS refused, timeout, cut-off body.
///
/// Carries the URL and libcurl's own explanation, so the message says what failed and where.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case connect = "cannot connect"
            case tls = "TLS failure"
            case timeout = "timed out"
            case truncated = "response cut off"
            case closed = "transport closed"
            case other = "transfer failed"
        }
        fileprivate let code: Code

        /// The host could not be resolved or did not accept the connection; nothing was sent.
        public static let connect = Kind(code: .connect)
        /// The TLS handshake failed: unknown CA, bad client certificate, name mismatch.
        public static let tls = Kind(code: .tls)
        /// The connect or total timeout, or the idle limit of a stream, was reached.
        public static let timeout = Kind(code: .timeout)
        /// The connection ended before the whole response arrived.
        public static let truncated = Kind(code: .truncated)
        /// The client was shut down while the request was pending.
        public static let closed = Kind(code: .closed)
        /// Any other libcurl failure.
        public static let other = Kind(code: .other)

        /// A short name for the kind.
        public var description: String { code.rawValue }
    }

    /// What went wrong.
    public let kind: Kind
    /// The HTTP method.
    public let method: String
    /// The URL the request went to.
    public let url: String
    /// libcurl's result code (`CURLcode`), 0 when the failure did not come from libcurl.
    public let curlCode: Int
    /// libcurl's explanation (its error buffer), or ours.
    public let message: String

    init(_ kind: Kind, method: String, url: String, curlCode: Int = 0, message: String) {
        self.kind = kind
        self.method = method
        self.url = url
        self.curlCode = curlCode
        self.message = message
    }

    /// `GET https://...: timed out: Operation timed out after 1000 milliseconds ...`.
    public var description: String { "\(method) \(url): \(kind): \(message)" }

    /// The kind for a libcurl result code.
    static func kind(curlCode: Int) -> Kind {
        switch curlCode {
        case 5, 6, 7: .connect  // COULDNT_RESOLVE_PROXY, COULDNT_RESOLVE_HOST, COULDNT_CONNECT
        case 28: .timeout  // OPERATION_TIMEDOUT
        case 18, 52, 56, 92: .truncated  // PARTIAL_FILE, GOT_NOTHING, RECV_ERROR, HTTP2_STREAM
        case 35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98: .tls
        default: .other
        }
    }
}
