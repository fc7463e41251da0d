import Foundation
import Hummingbird
import YAML

/// Answers every request of the sandbox API server: authentication, routing, and errors as
/// `Status` bodies with their HTTP codes.
struct SandboxResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: ObjectStore
    /// The bearer token every request must present, read per request so it can be rotated.
    let token: @Sendable () -> String
    let faults: SandboxFaults
    /// The open watches, ended at graceful shutdown.
    let watches: WatchRegistry
    /// The CRDs decoded so far, shared by every request.
    let crdDocuments = CRDDocumentCache()
    /// The largest request body accepted, as kube-apiserver's 3 MiB object limit rounded up.
    static let maxBodySize = 4 << 20

    func respond(to request: Request, context: Context) async throws -> Response {
        do throws(StatusError) {
            try authorize(request)
            if let failure = faults.nextFailure() { throw failure }
            return try await dispatch(request)
        } catch {
            return Self.response(error)
        }
    }

    private func authorize(_ request: Request) throws(StatusError) {
        try Self.authorize(header: request.headers[.authorization], token: token())
    }

    /// Accepts an `Authorization` header that carries `Bearer <token>`; 401 otherwise.
    static func authorize(header: String?, token: String) throws(StatusError) {
        let header = header ?? ""
        let presented = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        guard constantTimeEqual(presented, token) else { throw .unauthorized() }
    }

    private func dispatch(_ request: Request) async throws(StatusError) -> Response {
        guard let route = APIRoute.parse(request.uri.path) else { throw .noSuchResource() }
        if let exec = ExecEndpoint.isExec(route) {
            guard [HTTPRequest.Method.get, .post].contains(request.method) else { throw .methodNotAllowed(request.method.rawValue) }
            try await ExecEndpoint(store: store, token: token).refusePlainRequest(exec, query: request.uri.query)
        }
        if case .resource(let path) = route { return try await handle(path, request) }
        guard request.method == .get else { throw .methodNotAllowed(request.method.rawValue) }
        switch route {
        case .version: return try Self.json(Discovery.version)
        case .coreVersions: return try Self.json(Discovery.coreVersions(serverAddress: request.head.authority ?? ""))
        case .groups: return try Self.json(Discovery.groups(try await Catalog.load(from: store, cache: crdDocuments)))
        case .resourceList(let group, let version):
            return try Self.json(Discovery.resourceList(try await Catalog.load(from: store, cache: crdDocuments), group: group, version: version))
        case .openAPIIndex: return try Self.json(try OpenAPI.index(try await Catalog.load(from: store, cache: crdDocuments)))
        case .openAPIGroupVersion(let group, let version):
            return try Self.json(OpenAPI.groupVersion(try await Catalog.load(from: store, cache: crdDocuments), group: group, version: version))
        case .openAPI, .resource: throw .noSuchResource()
        }
    }

    // MARK: - Responses

    /// A JSON response.
    static func json(_ node: Node, status: HTTPResponse.Status = .ok) throws(StatusError) -> Response {
        let text: String
        do {
            text = try JSON.emit(node)
        } catch {
            throw .internalError("the response cannot be written as JSON: \(error)")
        }
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The error's `Status` body with its code.
    static func response(_ error: StatusError) -> Response {
        let status = HTTPResponse.Status(code: error.code)
        do {
            var response = try json(error.node, status: status)
            if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
            return response
        } catch {
            // Only a Status too deep to emit gets here, which the constructors never build.
            return Response(status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: error.message)))
        }
    }

    private static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension StatusError {
    /// A request without the right bearer token (401), as kube-apiserver words it.
    static func unauthorized() -> StatusError {
        StatusError(reason: "Unauthorized", message: "Unauthorized", code: 401, details: nil)
    }

    /// A method the path does not support (405).
    static func methodNotAllowed(_ method: String) -> StatusError {
        StatusError(reason: "MethodNotAllowed", message: "the server does not allow this method (\(method)) on the requested resource", code: 405, details: nil)
    }

    /// A body in a format the sandbox does not accept (415).
    static func unsupportedMediaType(_ message: String) -> StatusError {
        StatusError(reason: "UnsupportedMediaType", message: message, code: 415, details: nil)
    }

    /// A patch type the resource does not accept (415), in the words of apiserver's
    /// `negotiation.NewUnsupportedMediaTypeError`.
    static func unsupportedMediaType(_ accepted: [String]) -> StatusError {
        unsupportedMediaType("the body of the request was in an unknown format - accepted media types include: \(accepted.joined(separator: ", "))")
    }
}
