// Node is Codable so that API types can embed free-form trees (a pod template, a blueprint's
// template). Through a generic Decoder this loses mapping order; NodeDecoder hands the node over
// whole instead, with its positions.

extension Node: Codable {
    /// Decodes any JSON-compatible value.
    ///
    /// A generic `Decoder` cannot say what type a value has, so the `try?`s below probe for it;
    /// they drop no error a user needs, and a value that fits nothing fails in the last step.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() { self = .null; return }
            if let b = try? container.decode(Bool.self) { self = .bool(b); return }
            if let i = try? container.decode(Int.self) { self = .int(i); return }
            if let d = try? container.decode(Double.self) { self = .double(d); return }
            if let s = try? container.decode(String.self) { self = .string(s); return }
        }
        if var items = try? decoder.unkeyedContainer() {
            var nodes: [Node] = []
            while !items.isAtEnd { nodes.append(try items.decode(Node.self)) }
            self = .sequence(nodes)
            return
        }
        let keyed = try decoder.container(keyedBy: AnyCodingKey.self)
        let keys = keyed.allKeys.sorted { $0.stringValue < $1.stringValue }
        self = .mapping(try keys.map { Pair(key: .string($0.stringValue), value: try keyed.decode(Node.self, forKey: $0)) })
    }

    /// Encodes the tree as the matching JSON-compatible value.
    public func encode(to encoder: any Encoder) throws {
        switch value {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .int(let i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case .double(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .sequence(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .mapping(let pairs):
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            for pair in pairs {
                try c.encode(pair.value, forKey: AnyCodingKey(pair.key.scalarText))
            }
        }
    }
}

/// A coding key made from any string.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int?

    /// Creates a key from a string.
    public init(_ string: String) { stringValue = string }
    /// Creates a key from a string; never fails.
    public init?(stringValue: String) { self.stringValue = stringValue }
    /// Creates a key for a sequence index; never fails.
    public init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Node {
    /// The text of a scalar as JSON object keys need it (`true`, `1`, `x`); collections give "".
    public var scalarText: String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s
        case .sequence, .mapping: ""
        }
    }
}
