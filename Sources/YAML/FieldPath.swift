/// A path to a field inside a document, printed the way Kubernetes prints field paths:
/// `spec.sessions[0].retention.keepLast`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    /// One step of a path.
    public enum Component: Hashable, Sendable {
        /// A mapping key.
        case key(String)
        /// A sequence index.
        case index(Int)
    }

    /// The steps from the document root.
    public var components: [Component]

    /// Creates a path; the empty path is the document root.
    public init(_ components: [Component] = []) { self.components = components }

    /// This path extended by a mapping key.
    public func appending(_ key: String) -> FieldPath { FieldPath(components + [.key(key)]) }

    /// This path extended by a sequence index.
    public func appending(index: Int) -> FieldPath { FieldPath(components + [.index(index)]) }

    /// Whether this is the document root.
    public var isRoot: Bool { components.isEmpty }

    /// `spec.sessions[0].name`; keys that are not plain identifiers print in brackets
    /// (`metadata.labels[app.kubernetes.io/name]`), as Kubernetes prints map keys.
    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .index(let i): text += "[\(i)]"
            case .key(let key): text = Self.appending(key: key, to: text)
            }
        }
        return text
    }

    /// A path's text with one more key: `path.key`, `key` at the root, or `path[key]` for a key
    /// that is not an identifier. For callers that build path text without a `FieldPath`.
    public static func appending(key: String, to text: String) -> String {
        guard isIdentifier(key) else { return text + "[\(key)]" }
        return text.isEmpty ? key : text + "." + key
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "$"):
                true
            default: false
            }
        }
    }
}

extension Node {
    /// A short description of the node for error messages: `string "seven"`, `integer 7`, `mapping`.
    public var valueSummary: String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "boolean \(b)"
        case .int(let i): return "integer \(i)"
        case .double(let d): return "number \(d)"
        case .string(let s):
            let shown = s.count > 40 ? String(s.prefix(37)) + "..." : s
            return "string \"\(shown)\""
        case .sequence: return "sequence"
        case .mapping: return "mapping"
        }
    }
}
