import Foundation
import CCurl

/// Sets libcurl options on one easy handle, remembering the first one libcurl refused.
struct CurlOptionSetter {
    let easy: UnsafeMutableRawPointer
    private(set) var failure: String?
    /// The string lists handed to libcurl, which must outlive the transfer; the owner frees them.
    private(set) var lists: [UnsafeMutablePointer<curl_slist>] = []

    init(easy: UnsafeMutableRawPointer) { self.easy = easy }

    /// Every option a request needs: method, body, headers, timeouts, TLS, HTTP version.
    mutating func configure(_ request: HTTPRequest) {
        if let serverName = request.tls.serverName, let route = ServerNameRoute(url: request.url, serverName: serverName) {
            string(CURLOPT_URL, route.url, "URL")
            list(CURLOPT_CONNECT_TO, [route.connectTo], "CONNECT_TO")
            headers(request.headers + [("Host", route.hostHeader)])
        } else {
            string(CURLOPT_URL, request.url, "URL")
            headers(request.headers)
        }
        string(CURLOPT_USERAGENT, request.userAgent, "USERAGENT")
        long(CURLOPT_NOSIGNAL, 1, "NOSIGNAL")
        long(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS), "HTTP_VERSION")
        long(CURLOPT_TCP_KEEPALIVE, 1, "TCP_KEEPALIVE")
        method(request)
        timeouts(request.timeouts)
        tls(request.tls)
        if let proxy = request.proxy { string(CURLOPT_PROXY, proxy, "PROXY") }
    }

    private mutating func method(_ request: HTTPRequest) {
        if let body = request.body {
            off(CURLOPT_POSTFIELDSIZE_LARGE, Int64(body.count), "POSTFIELDSIZE_LARGE")
            // COPYPOSTFIELDS copies, so the bytes need not outlive this call.
            // The trailing NUL keeps the buffer non-empty; POSTFIELDSIZE says how much of it is sent.
            var terminated = body + [0]
            let code = terminated.withUnsafeMutableBytes { cairn_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            check(code, "COPYPOSTFIELDS")
            if request.method != "POST" { string(CURLOPT_CUSTOMREQUEST, request.method, "CUSTOMREQUEST") }
        } else if request.method == "GET" {
            long(CURLOPT_HTTPGET, 1, "HTTPGET")
        } else {
            string(CURLOPT_CUSTOMREQUEST, request.method, "CUSTOMREQUEST")
        }
    }

    private mutating func headers(_ fields: [(name: String, value: String)]) {
        // An empty `Expect:` stops libcurl from waiting for 100 Continue before sending a body.
        list(CURLOPT_HTTPHEADER, fields.map { "\($0.name): \($0.value)" } + ["Expect:"], "HTTPHEADER")
    }

    private mutating func list(_ option: CURLoption, _ lines: [String], _ name: String) {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines { list = curl_slist_append(list, line) }
        if let list { lists.append(list) }
        pointer(option, UnsafeMutableRawPointer(list), name)
    }

    private mutating func timeouts(_ timeouts: TransferTimeouts) {
        switch timeouts {
        case .unary(let connect, let total):
            // Every encoding libcurl can decode; the API server gzips large lists. Watches stay
            // plain so each event is readable as soon as it arrives.
            string(CURLOPT_ACCEPT_ENCODING, "", "ACCEPT_ENCODING")
            long(CURLOPT_CONNECTTIMEOUT_MS, connect.milliseconds, "CONNECTTIMEOUT_MS")
            long(CURLOPT_TIMEOUT_MS, total.milliseconds, "TIMEOUT_MS")
        case .streaming(let connect, let idle):
            long(CURLOPT_CONNECTTIMEOUT_MS, connect.milliseconds, "CONNECTTIMEOUT_MS")
            long(CURLOPT_TIMEOUT_MS, 0, "TIMEOUT_MS")
            long(CURLOPT_LOW_SPEED_LIMIT, 1, "LOW_SPEED_LIMIT")
            long(CURLOPT_LOW_SPEED_TIME, max(1, idle.milliseconds / 1000), "LOW_SPEED_TIME")
        }
    }

    private mutating func tls(_ tls: TLSSettings) {
        long(CURLOPT_SSL_VERIFYPEER, tls.insecureSkipTLSVerify ? 0 : 1, "SSL_VERIFYPEER")
        long(CURLOPT_SSL_VERIFYHOST, tls.insecureSkipTLSVerify ? 0 : 2, "SSL_VERIFYHOST")
        if let ca = tls.certificateAuthority { blob(CURLOPT_CAINFO_BLOB, ca, "CAINFO_BLOB") }
        if let identity = tls.identity {
            blob(CURLOPT_SSLCERT_BLOB, identity.certificate, "SSLCERT_BLOB")
            string(CURLOPT_SSLCERTTYPE, "PEM", "SSLCERTTYPE")
            blob(CURLOPT_SSLKEY_BLOB, identity.key, "SSLKEY_BLOB")
            string(CURLOPT_SSLKEYTYPE, "PEM", "SSLKEYTYPE")
        }
    }

    // MARK: typed setters

    mutating func long(_ option: CURLoption, _ value: Int, _ name: String) {
        check(cairn_curl_setopt_long(easy, option, value), name)
    }

    mutating func off(_ option: CURLoption, _ value: Int64, _ name: String) {
        check(cairn_curl_setopt_off(easy, option, curl_off_t(value)), name)
    }

    mutating func string(_ option: CURLoption, _ value: String, _ name: String) {
        // libcurl copies string options (curl_easy_setopt docs), so a temporary C string is enough.
        check(cairn_curl_setopt_string(easy, option, value), name)
    }

    mutating func pointer(_ option: CURLoption, _ value: UnsafeMutableRawPointer?, _ name: String) {
        check(cairn_curl_setopt_pointer(easy, option, value), name)
    }

    mutating func callback(_ option: CURLoption, _ value: cairn_curl_data_callback, _ name: String) {
        check(cairn_curl_setopt_callback(easy, option, value), name)
    }

    mutating func blob(_ option: CURLoption, _ bytes: [UInt8], _ name: String) {
        check(bytes.withUnsafeBytes { cairn_curl_setopt_blob(easy, option, $0.baseAddress, $0.count) }, name)
    }

    private mutating func check(_ code: CURLcode, _ name: String) {
        guard code != CURLE_OK, failure == nil else { return }
        failure = "libcurl refused CURLOPT_\(name): \(String(cString: curl_easy_strerror(code)))"
    }
}

/// How to verify the server certificate against `tls-server-name` instead of the URL's host:
/// libcurl takes the SNI and verification name from the URL, so the URL names the server name and
/// CURLOPT_CONNECT_TO sends the connection to the real host, whose name stays in the Host header.
struct ServerNameRoute {
    let url: String
    let connectTo: String
    let hostHeader: String

    init?(url original: String, serverName: String) {
        guard var components = URLComponents(string: original), let host = components.host, host != serverName else { return nil }
        let port = components.port ?? (components.scheme == "http" ? 80 : 443)
        let connectHost = host.contains(":") ? "[\(host)]" : host
        components.host = serverName
        guard let url = components.string else { return nil }
        self.url = url
        connectTo = "\(serverName):\(port):\(connectHost):\(port)"
        hostHeader = components.port.map { "\(connectHost):\($0)" } ?? connectHost
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
