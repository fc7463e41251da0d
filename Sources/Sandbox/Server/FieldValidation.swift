import CairnAPI
import Hummingbird
import YAML

/// The `fieldValidation` query parameter of create, update and patch: what the server does with
/// fields the schema does not declare. The store prunes them in every case; this decides whether
/// the client hears about it.
enum FieldValidation: String, Sendable {
    /// Drop unknown fields silently.
    case ignore = "Ignore"
    /// Drop them and say so in `Warning` headers (kube-apiserver's default).
    case warn = "Warn"
    /// Refuse the request with 400 BadRequest naming every unknown field.
    case strict = "Strict"

    /// The parameter's value; 400 for anything else, worded as kube-apiserver words it.
    init(query: Query) throws(StatusError) {
        guard let text = query["fieldValidation"], !text.isEmpty else {
            self = .warn
            return
        }
        guard let value = FieldValidation(rawValue: text) else {
            throw .badRequest("fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got \"\(text)\"")
        }
        self = value
    }

    /// Checks a create or update body, or an object-shaped (merge or strategic) patch, against the
    /// resource's schema; the `Warning` header values to send. Kinds without a schema (the
    /// built-in ones, in the sandbox) are not checked.
    func check(_ body: Node, of call: ResourceRequest) throws(StatusError) -> [String] {
        guard self != .ignore, body.mapping != nil, let schema = call.type.schemas[call.resource.version] else { return [] }
        let unknown = schema.pruned(body).removed
        guard !unknown.isEmpty else { return [] }
        let named = unknown.map { "unknown field \"\($0)\"" }
        if self == .strict {
            let kind = call.type.kind
            throw .badRequest("\(kind) in version \"\(call.resource.version)\" cannot be handled as a \(kind): strict decoding error: \(named.joined(separator: ", "))")
        }
        return named
    }
}

extension Response {
    /// Adds one `Warning: 299 - "<text>"` header per warning, as kube-apiserver sends them.
    func warning(_ warnings: [String]) -> Response {
        guard !warnings.isEmpty else { return self }
        var response = self
        for text in warnings {
            let quoted = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            response.headers.append(.init(name: .init("Warning")!, value: "299 - \"\(quoted)\""))
        }
        return response
    }
}
