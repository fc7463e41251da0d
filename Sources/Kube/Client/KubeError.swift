import YAML

/// A request the API server refused, or answered in a way the client cannot read.
///
/// Carries the server's `Status`, the verb, the URL and the HTTP code. Compare `kind` with the
/// static members: `if error.kind == .notFound { ... }`.
public struct KubeError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case notFound = "not found"
            case alreadyExists = "already exists"
            case conflict = "conflict"
            case gone = "gone"
            case forbidden = "forbidden"
            case unauthorized = "unauthorized"
            case invalid = "invalid"
            case badRequest = "bad request"
            case tooManyRequests = "too many requests"
            case serverTimeout = "server timeout"
            case invalidResponse = "invalid response"
            case other = "failed"
        }
        fileprivate let code: Code

        /// 404: the object, or the resource type, does not exist.
        public static let notFound = Kind(code: .notFound)
        /// 409 `AlreadyExists`: create found an object of that name.
        public static let alreadyExists = Kind(code: .alreadyExists)
        /// 409 `Conflict`: the object changed since it was read (stale resourceVersion).
        public static let conflict = Kind(code: .conflict)
        /// 410 `Expired` or `Gone`: the resourceVersion is too old; list again.
        public static let gone = Kind(code: .gone)
        /// 403: the credentials lack permission.
        public static let forbidden = Kind(code: .forbidden)
        /// 401: no or bad credentials.
        public static let unauthorized = Kind(code: .unauthorized)
        /// 422: the object failed validation; see `status.causes`.
        public static let invalid = Kind(code: .invalid)
        /// 400: the request itself is malformed.
        public static let badRequest = Kind(code: .badRequest)
        /// 429: the server is throttling; retried before this is thrown.
        public static let tooManyRequests = Kind(code: .tooManyRequests)
        /// 504, or `ServerTimeout`/`Timeout`: the server gave up.
        public static let serverTimeout = Kind(code: .serverTimeout)
        /// The server's answer could not be read: not JSON, or a watch event of no known type.
        public static let invalidResponse = Kind(code: .invalidResponse)
        /// Any other error.
        public static let other = Kind(code: .other)

        /// A short name for the kind.
        public var description: String { code.rawValue }
    }

    /// What went wrong.
    public let kind: Kind
    /// The server's `Status`, when its body was one.
    public let status: KubeStatus?
    /// The HTTP method.
    public let verb: String
    /// The URL of the request.
    public let url: String
    /// The HTTP status code; 200 for errors inside a successful response, such as watch events.
    public let httpCode: Int
    /// The server's message, or the start of a body that was not a `Status`.
    public let message: String

    init(kind: Kind, status: KubeStatus?, verb: String, url: String, httpCode: Int, message: String) {
        self.kind = kind
        self.status = status
        self.verb = verb
        self.url = url
        self.httpCode = httpCode
        self.message = message
    }

    /// The error for a non-2xx response: its `Status` when the body is one, else its first bytes.
    init(verb: String, url: String, httpCode: Int, body: [UInt8]) {
        let status: KubeStatus?
        do { status = KubeStatus(try JSON.parse(body)) } catch {
            status = nil  // not JSON (a proxy's HTML page, say): the message below shows its first bytes
        }
        let message = status?.message ?? Self.preview(body)
        self.init(kind: Self.kind(reason: status?.reason, code: httpCode), status: status, verb: verb, url: url,
                  httpCode: httpCode, message: message)
    }

    /// The error for a `Status` that arrived inside a successful response (a watch `ERROR` event).
    init(status: KubeStatus, verb: String, url: String) {
        self.init(kind: Self.kind(reason: status.reason, code: status.code ?? 500), status: status, verb: verb,
                  url: url, httpCode: status.code ?? 200, message: status.message ?? "")
    }

    /// `GET https://...: 404 not found: pods "x" not found`, then the causes of an invalid object.
    public var description: String {
        var text = "\(verb) \(url): \(httpCode) \(kind): \(message)"
        for cause in status?.causes ?? [] {
            text += "\n  \(cause.field ?? "?"): \(cause.message ?? cause.reason ?? "")"
        }
        return text
    }

    /// The kind for a `Status.reason`, falling back to the HTTP code.
    static func kind(reason: String?, code: Int) -> Kind {
        switch reason {
        case "NotFound": return .notFound
        case "AlreadyExists": return .alreadyExists
        case "Conflict": return .conflict
        case "Gone", "Expired": return .gone
        case "Forbidden": return .forbidden
        case "Unauthorized": return .unauthorized
        case "Invalid": return .invalid
        case "BadRequest": return .badRequest
        case "TooManyRequests": return .tooManyRequests
        case "ServerTimeout", "Timeout": return .serverTimeout
        default: return kind(code: code)
        }
    }

    private static func kind(code: Int) -> Kind {
        switch code {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 409: .conflict
        case 410: .gone
        case 422: .invalid
        case 429: .tooManyRequests
        case 504: .serverTimeout
        default: .other
        }
    }

    /// The first 256 bytes of a body as text, for bodies that are not a `Status`.
    static func preview(_ body: [UInt8]) -> String {
        let head = String(decoding: body.prefix(256), as: UTF8.self)
        return body.count > 256 ? head + "… (\(body.count) bytes)" : head
    }
}
