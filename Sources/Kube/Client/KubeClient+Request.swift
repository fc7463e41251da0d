import Foundation
import YAML

extension KubeClient {
    /// Sends a request with rate limiting and retries, and reads the JSON answer.
    func perform(_ method: String, _ url: String, body: Node? = nil,
                 contentType: String = "application/json") async throws -> Node {
        let request = try makeRequest(method, url, body: body, contentType: contentType,
                                      timeouts: .unary(connect: options.connectTimeout, total: options.requestTimeout))
        let response = try await sendWithRetries(request)
        return try Self.decode(response, of: request)
    }

    /// The request with everything but credentials, which are added per attempt.
    func makeRequest(_ method: String, _ url: String, body: Node?, contentType: String = "application/json",
                     timeouts: TransferTimeouts) throws -> HTTPRequest {
        var request = HTTPRequest(method: method, url: url, headers: [("Accept", "application/json")],
                                  timeouts: timeouts, userAgent: options.userAgent)
        if let body {
            request.body = Array(try JSON.emit(body).utf8)
            request.headers.append(("Content-Type", contentType))
        }
        request.tls = TLSSettings(certificateAuthority: connection.certificateAuthority,
                                  identity: try connection.clientIdentity(),
                                  insecureSkipTLSVerify: connection.insecureSkipTLSVerify,
                                  serverName: connection.tlsServerName)
        request.proxy = connection.proxyURL
        return request
    }

    private func sendWithRetries(_ request: HTTPRequest) async throws -> HTTPResponse {
        var attempt = 1
        while true {
            switch try await attemptOnce(request, attempt: attempt) {
            case .done(let response): return response
            case .retry(let wait):
                try await clock.sleep(for: wait)
                attempt += 1
            }
        }
    }

    private enum AttemptOutcome {
        case done(HTTPResponse)
        case retry(after: Duration)
    }

    /// One rate-limited attempt: the response, a wait before the next attempt, or the final error.
    private func attemptOnce(_ request: HTTPRequest, attempt: Int) async throws -> AttemptOutcome {
        try await limiter.acquire()
        let canRetry = attempt < options.retry.maxAttempts
        let response: HTTPResponse
        do {
            response = try await transport.send(try authorized(request))
        } catch let error as TransportError where canRetry && RetryPolicy.isRetryable(error, idempotent: request.isIdempotent) {
            return .retry(after: options.retry.backoff(after: attempt, retryAfter: nil))
        }
        if (200..<300).contains(response.status) { return .done(response) }
        guard canRetry, RetryPolicy.isRetryable(status: response.status) else {
            throw KubeError(verb: request.method, url: request.url, httpCode: response.status, body: response.body)
        }
        return .retry(after: options.retry.backoff(after: attempt, retryAfter: response.headers["retry-after"]))
    }

    /// Adds the credential headers, fetched now so rotated tokens and expired exec credentials are
    /// renewed between attempts.
    func authorized(_ request: HTTPRequest) throws -> HTTPRequest {
        var request = request
        if let token = try connection.bearerToken() {
            request.headers.append(("Authorization", "Bearer \(token)"))
        } else if let user = connection.username, let password = connection.password {
            request.headers.append(("Authorization", "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())"))
        }
        if let impersonation = connection.impersonation {
            if let user = impersonation.user { request.headers.append(("Impersonate-User", user)) }
            if let uid = impersonation.uid { request.headers.append(("Impersonate-Uid", uid)) }
            for group in impersonation.groups { request.headers.append(("Impersonate-Group", group)) }
        }
        return request
    }

    /// The answer's JSON; an empty body reads as null.
    private static func decode(_ response: HTTPResponse, of request: HTTPRequest) throws(KubeError) -> Node {
        guard !response.body.isEmpty else { return .null }
        do { return try JSON.parse(response.body) } catch {
            throw KubeError(kind: .invalidResponse, status: nil, verb: request.method, url: request.url, httpCode: response.status,
                            message: "the answer is not JSON (\(error)): \(KubeError.preview(response.body))")
        }
    }

    /// The server URL joined with a path and a query, each value percent-encoded.
    func url(_ path: String, query: [(String, String)] = []) -> String {
        var server = connection.server
        while server.hasSuffix("/") { server.removeLast() }
        guard !query.isEmpty else { return server + path }
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let encoded = query.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }
        return server + path + "?" + encoded.joined(separator: "&")
    }
}
