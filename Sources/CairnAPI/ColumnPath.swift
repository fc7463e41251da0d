import YAML

/// The JSONPath subset printer columns use (`.status.phase`, `.spec.sessions[0].name`,
/// `.status.conditions[?(@.type=="Ready")].status`), parsed once and evaluated on objects.
public struct ColumnPath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    public enum Step: Sendable, Hashable {
        /// A mapping key.
        case key(String)
        /// A sequence index; negative counts from the end.
        case index(Int)
        /// Every item of a sequence (`[*]`).
        case all
        /// The items whose field at `path` equals `value` (`[?(@.type=="Ready")]`).
        case filter(path: [String], value: String)
    }

    /// The steps, from the object root.
    public let steps: [Step]
    /// The text it was parsed from.
    public let description: String

    /// Parses a printer-column JSONPath, or throws a `ColumnPathError` pointing at the bad part.
    public init(parsing text: String) throws {
        var parser = ColumnPathParser(text: text)
        steps = try parser.parse()
        description = text
    }

    /// The nodes the path selects in `object`, in order; empty when nothing matches.
    public func evaluate(_ object: Node) -> [Node] {
        steps.reduce([object]) { nodes, step in nodes.flatMap { Self.apply(step, to: $0) } }
    }

    /// The property names the path walks in a schema, with `"[]"` for any step into a list.
    public var schemaKeys: [String] {
        steps.map { step in
            if case .key(let key) = step { return key }
            return "[]"
        }
    }

    private static func apply(_ step: Step, to node: Node) -> [Node] {
        switch step {
        case .key(let key): return node[key].map { [$0] } ?? []
        case .index(let i):
            guard let items = node.sequence else { return [] }
            let index = i < 0 ? items.count + i : i
            return items.indices.contains(index) ? [items[index]] : []
        case .all: return node.sequence ?? []
        case .filter(let path, let value):
            return (node.sequence ?? []).filter { item in
                path.reduce(Optional(item)) { $0?[$1] }.map { $0.scalarText == value && $0.mapping == nil } ?? false
            }
        }
    }
}

/// A printer-column JSONPath that cannot be parsed.
public struct ColumnPathError: Error, Sendable, CustomStringConvertible {
    /// The path as written.
    public let path: String
    /// What is wrong with it.
    public let message: String

    /// `invalid JSONPath "...": message`.
    public var description: String { "invalid JSONPath \"\(path)\": \(message)" }
}

/// A small recursive-descent parser over the path's characters.
private struct ColumnPathParser {
    let text: String
    private var rest: Substring

    init(text: String) {
        self.text = text
        var body = Substring(text)
        if body.hasPrefix("{"), body.hasSuffix("}") { body = body.dropFirst().dropLast() }
        rest = body
    }

    mutating func parse() throws -> [ColumnPath.Step] {
        guard rest.first == "." else { throw fail("must start with \".\"") }
        var steps: [ColumnPath.Step] = []
        while let first = rest.first {
            if first == "." {
                rest.removeFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { throw fail("empty field name") }
                rest.removeFirst(name.count)
                steps.append(.key(String(name)))
            } else if first == "[" {
                steps.append(try bracket())
            } else {
                throw fail("unexpected \"\(first)\"")
            }
        }
        return steps
    }

    private mutating func bracket() throws -> ColumnPath.Step {
        guard let close = closingBracket() else { throw fail("unclosed \"[\"") }
        let inside = rest[rest.index(after: rest.startIndex)..<close]
        rest = rest[rest.index(after: close)...]
        if inside == "*" { return .all }
        if let index = Int(inside) { return .index(index) }
        if let quoted = Self.unquote(inside) { return .key(quoted) }
        if inside.hasPrefix("?(@."), inside.hasSuffix(")") { return try filter(inside.dropFirst(4).dropLast()) }
        throw fail("unsupported bracket \"[\(inside)]\"")
    }

    /// The `]` that closes the bracket at the front, skipping quoted text.
    private func closingBracket() -> Substring.Index? {
        var quote: Character?
        for index in rest.indices.dropFirst() {
            let c = rest[index]
            if let q = quote { if c == q { quote = nil } } else if c == "'" || c == "\"" { quote = c } else if c == "]" { return index }
        }
        return nil
    }

    private func filter(_ condition: Substring) throws -> ColumnPath.Step {
        guard let range = condition.firstRange(of: "==") else { throw fail("filters must compare with ==") }
        let field = condition[..<range.lowerBound].trimmingSpaces
        let value = condition[range.upperBound...].trimmingSpaces
        guard !field.isEmpty, let literal = Self.unquote(value) ?? (Int(value).map { String($0) }) else {
            throw fail("unsupported filter \"\(condition)\"")
        }
        return .filter(path: field.split(separator: ".").map(String.init), value: literal)
    }

    private static func unquote(_ text: Substring) -> String? {
        guard text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first else { return nil }
        return String(text.dropFirst().dropLast())
    }

    private func fail(_ message: String) -> ColumnPathError { ColumnPathError(path: text, message: message) }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
