/// A position in a YAML or JSON source, 1-based, as editors and kubectl print it.
public struct Mark: Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line.
    public var line: Int
    /// The 1-based column.
    public var column: Int

    /// Creates a mark at a 1-based line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// How a scalar was written in its source.
///
/// The template engine needs this: a plain `${replicas}` takes the type of its value, while a
/// quoted `"${replicas}"` stays a string.
public enum ScalarStyle: UInt8, Sendable {
    /// Unquoted, or not from YAML text at all (built in code, or from JSON non-strings).
    case plain
    /// `'single'` or `"double"` quoted, or a JSON string.
    case quoted
    /// A `|` or `>` block scalar.
    case block
}

/// One node of a parsed YAML or JSON document: an ordered value tree that remembers positions.
///
/// Equality compares values only; positions and scalar styles are ignored, so
/// `parse(emit(x)) == x` holds for any tree.
public struct Node: Sendable {
    /// The value a node holds. Mappings keep their keys in source order.
    public enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case sequence([Node])
        case mapping([Pair])
    }

    /// One entry of a mapping.
    public struct Pair: Sendable, Equatable {
        /// The key; usually a string scalar.
        public var key: Node
        /// The value.
        public var value: Node

        /// Creates a mapping entry.
        public init(key: Node, value: Node) {
            self.key = key
            self.value = value
        }
    }

    // The mark is stored as one word (line << 32 | column, 0 for none) and first, so that a Node
    // is 32 bytes rather than the 48 that `Mark?` after the 17-byte `Value` takes: informers keep
    // every watched object as a tree of these, and a third less per node is a third less cache.
    private var packedMark: UInt64
    /// The value.
    public var value: Value
    /// How a scalar was written; `.plain` for everything built in code.
    public var style: ScalarStyle

    /// Where the node starts in its source, when it came from one.
    public var mark: Mark? {
        get {
            guard packedMark != 0 else { return nil }
            return Mark(line: Int(packedMark >> 32), column: Int(packedMark & 0xFFFF_FFFF))
        }
        set { packedMark = Self.pack(newValue) }
    }

    /// Creates a node.
    public init(_ value: Value, mark: Mark? = nil, style: ScalarStyle = .plain) {
        self.packedMark = Self.pack(mark)
        self.value = value
        self.style = style
    }

    /// A mark as one word; lines and columns past 2³²−1 are held at that, which no real source reaches.
    private static func pack(_ mark: Mark?) -> UInt64 {
        guard let mark else { return 0 }
        let clamp = { (value: Int) in UInt64(min(max(value, 0), Int(UInt32.max))) }
        return clamp(mark.line) << 32 | clamp(mark.column)
    }
}

extension Node.Value: Equatable {
    public static func == (lhs: Node.Value, rhs: Node.Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.double(a), .double(b)): a == b || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): a == b
        case let (.sequence(a), .sequence(b)): a == b
        case let (.mapping(a), .mapping(b)): a == b
        default: false
        }
    }
}

extension Node: Equatable {
    /// Compares values only, ignoring positions and styles.
    public static func == (lhs: Node, rhs: Node) -> Bool { lhs.value == rhs.value }
}

// MARK: - Building nodes in code

extension Node {
    /// The null node.
    public static let null = Node(.null)

    /// A string node.
    public static func string(_ s: String, style: ScalarStyle = .plain) -> Node { Node(.string(s), style: style) }
    /// An integer node.
    public static func int(_ i: Int) -> Node { Node(.int(i)) }
    /// A floating-point node.
    public static func double(_ d: Double) -> Node { Node(.double(d)) }
    /// A boolean node.
    public static func bool(_ b: Bool) -> Node { Node(.bool(b)) }
    /// A sequence node.
    public static func sequence(_ items: [Node]) -> Node { Node(.sequence(items)) }
    /// A mapping node with string keys, in the order given.
    public static func mapping(_ pairs: KeyValuePairs<String, Node>) -> Node {
        Node(.mapping(pairs.map { Pair(key: .string($0.key), value: $0.value) }))
    }
    /// A mapping node from ordered pairs.
    public static func mapping(_ pairs: [Pair]) -> Node { Node(.mapping(pairs)) }
}

extension Node: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral
{
    public init(stringLiteral value: String) { self.init(.string(value)) }
    public init(integerLiteral value: Int) { self.init(.int(value)) }
    public init(booleanLiteral value: Bool) { self.init(.bool(value)) }
    public init(floatLiteral value: Double) { self.init(.double(value)) }
    public init(nilLiteral: ()) { self.init(.null) }
    public init(arrayLiteral elements: Node...) { self.init(.sequence(elements)) }
}

// MARK: - Reading nodes

extension Node {
    /// The string, when this is a string scalar.
    public var string: String? { if case .string(let s) = value { s } else { nil } }
    /// The integer, when this is an integer scalar.
    public var int: Int? { if case .int(let i) = value { i } else { nil } }
    /// The boolean, when this is a boolean scalar.
    public var bool: Bool? { if case .bool(let b) = value { b } else { nil } }
    /// The items, when this is a sequence.
    public var sequence: [Node]? { if case .sequence(let items) = value { items } else { nil } }
    /// The entries, when this is a mapping.
    public var mapping: [Pair]? { if case .mapping(let pairs) = value { pairs } else { nil } }
    /// Whether this is the null node.
    public var isNull: Bool { if case .null = value { true } else { false } }

    /// The value under a string key, when this is a mapping that has it.
    ///
    /// Setting `nil` removes the key; setting a value replaces it in place or appends it.
    public subscript(key: String) -> Node? {
        get {
            guard case .mapping(let pairs) = value else { return nil }
            for pair in pairs where pair.key.string == key { return pair.value }
            return nil
        }
        set {
            var pairs: [Pair]
            if case .mapping(let existing) = value { pairs = existing } else { pairs = [] }
            if let index = pairs.firstIndex(where: { $0.key.string == key }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append(Pair(key: .string(key), value: newValue))
            }
            value = .mapping(pairs)
        }
    }

    /// The value along a path of string keys, when every step exists.
    public subscript(path keys: String...) -> Node? {
        var node: Node? = self
        for key in keys { node = node?[key] }
        return node
    }

    /// A short human name for the node's type, for error messages: "string", "integer", ...
    public var typeName: String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .sequence: "sequence"
        case .mapping: "mapping"
        }
    }

    /// How many nodes this tree holds, itself included.
    public var nodeCount: Int {
        switch value {
        case .sequence(let items): items.reduce(1) { $0 + $1.nodeCount }
        case .mapping(let pairs): pairs.reduce(1) { $0 + $1.key.nodeCount + $1.value.nodeCount }
        default: 1
        }
    }
}
