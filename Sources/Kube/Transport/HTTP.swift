/// Response headers in arrival order, looked up without regard to case.
struct HTTPHeaders: Sendable, Equatable {
    /// Name (lowercased) and value pairs.
    private(set) var fields: [(name: String, value: String)] = []

    mutating func append(name: String, value: String) { fields.append((name.lowercased(), value)) }

    /// The first value of a header, by case-insensitive name.
    subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name == lowered }?.value
    }

    static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0 == $1 }
    }
}

/// What the transport needs to know about the server's TLS, taken from a `ClusterConnection`.
struct TLSSettings: Sendable {
    var certificateAuthority: [UInt8]?
    var identity: ClientIdentity?
    var insecureSkipTLSVerify = false
    /// The name to verify the certificate against (and send as SNI), when not the URL's host.
    var serverName: String?
}

/// How long a request may take.
enum TransferTimeouts: Sendable {
    /// A request with an answer: bounded connect and total times.
    case unary(connect: Duration, total: Duration)
    /// A long-lived stream: no total limit, but aborted when it stays silent for `idle`.
    case streaming(connect: Duration, idle: Duration)
}

/// One HTTP request as the transport sends it.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var headers: [(name: String, value: String)] = []
    var body: [UInt8]?
    var timeouts: TransferTimeouts
    var tls = TLSSettings()
    var proxy: String?
    var userAgent: String

    /// Whether repeating the request cannot change the outcome (RFC 9110 §9.2.2).
    var isIdempotent: Bool { ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].contains(method) }
}

/// A complete HTTP response.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// One piece of a streamed response: the head once, then body bytes as they arrive.
enum StreamPart: Sendable {
    case head(status: Int, headers: HTTPHeaders)
    case body([UInt8])
}
