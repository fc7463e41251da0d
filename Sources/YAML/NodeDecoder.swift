/// A strict `Decoder` over `Node` trees, with kube-apiserver's strict field validation.
///
/// - Every key of every mapping decoded into a type must be one the type asked for; all the
///   others are reported together as unknown fields.
/// - No coercion: `"7"` is not an integer and `7` is not a string. Integers accept integral
///   numbers (`7.0`); numbers accept integers.
/// - Values of `StringEnumeration` types must be one of their raw values.
/// - Decoding `Node` hands over the subtree as is, with its positions.
public struct NodeDecoder {
    /// The file name errors report.
    public var file: String?

    /// Creates a decoder whose errors name `file`.
    public init(file: String? = nil) { self.file = file }

    /// Decodes a value of `type` from `node`, or throws a `NodeDecodingError`.
    public func decode<T: Decodable>(_ type: T.Type, from node: Node) throws -> T {
        let state = DecodingState()
        do {
            let value = try state.decode(T.self, from: node, at: Location())
            let unknown = state.unknownFields()
            if !unknown.isEmpty { throw NodeDecodingError(.unknownField, problems: unknown) }
            return value
        } catch var error as NodeDecodingError {
            error.file = file
            throw error
        }
    }
}

/// Where a decoder stands: the field path for messages and the coding path for `Decoder`.
struct Location {
    var path = FieldPath()
    var codingPath: [any CodingKey] = []

    func appending(_ key: any CodingKey) -> Location {
        Location(path: path.appending(key.stringValue), codingPath: codingPath + [key])
    }

    func appending(index: Int) -> Location {
        Location(path: path.appending(index: index), codingPath: codingPath + [AnyCodingKey(intValue: index)!])
    }
}

/// The keys one keyed container was asked for, to find unknown fields afterwards.
final class KeyUsage {
    let path: FieldPath
    let pairs: [Node.Pair]
    var used: Set<String> = []
    private let index: [String: Int]

    init(path: FieldPath, pairs: [Node.Pair]) {
        self.path = path
        self.pairs = pairs
        index = Dictionary(pairs.indices.map { (pairs[$0].key.scalarText, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func value(for key: String) -> Node? { index[key].map { pairs[$0].value } }
}

/// State shared by every container of one `decode` call. Not Sendable: one call, one thread.
final class DecodingState {
    private var usages: [KeyUsage] = []

    func track(_ usage: KeyUsage) { usages.append(usage) }

    /// Keys no container of their mapping asked for, in document order when positions are known.
    func unknownFields() -> [NodeDecodingError.Problem] {
        var usedByPath: [FieldPath: Set<String>] = [:]
        for usage in usages { usedByPath[usage.path, default: []].formUnion(usage.used) }
        var reported: Set<FieldPath> = []
        var problems: [NodeDecodingError.Problem] = []
        for usage in usages where reported.insert(usage.path).inserted {
            let used = usedByPath[usage.path] ?? []
            for pair in usage.pairs where !used.contains(pair.key.scalarText) {
                let path = usage.path.appending(pair.key.scalarText)
                problems.append(.init(path: "\(path)", mark: pair.key.mark ?? pair.value.mark, message: "unknown field \"\(path)\""))
            }
        }
        let unplaced = Mark(line: .max, column: .max)
        return problems.sorted { a, b in
            let (x, y) = (a.mark ?? unplaced, b.mark ?? unplaced)
            return (x.line, x.column) < (y.line, y.column)
        }
    }

    /// Decodes one value, checking scalars and enumerations here rather than in `init(from:)`.
    func decode<T: Decodable>(_ type: T.Type, from node: Node, at location: Location) throws -> T {
        if T.self == Node.self { return node as! T }
        if let scalar = try decodeScalar(T.self, from: node, at: location) { return scalar }
        if let enumeration = T.self as? any StringEnumeration.Type {
            try check(node, isOneOf: enumeration.allRawValues, at: location)
        }
        do {
            return try T(from: NodeDecoding(node: node, location: location, state: self))
        } catch let error as NodeDecodingError {
            throw error
        } catch {
            throw NodeDecodingError.invalid(node, at: location, Self.message(for: error))
        }
    }

    private static func message(for error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)"
    }

    private func check(_ node: Node, isOneOf values: [String], at location: Location) throws {
        guard let string = node.string else { throw NodeDecodingError.mismatch(node, expected: "string", at: location) }
        guard values.contains(string) else {
            let list = values.map { "\"\($0)\"" }.joined(separator: ", ")
            throw NodeDecodingError.invalid(node, at: location, "unsupported value \"\(string)\"; supported values: \(list)")
        }
    }

    /// The scalar, when `T` is a scalar type; `nil` when it is not.
    private func decodeScalar<T>(_ type: T.Type, from node: Node, at location: Location) throws -> T? {
        switch T.self {
        case is String.Type:
            guard let s = node.string else { throw NodeDecodingError.mismatch(node, expected: "string", at: location) }
            return s as? T
        case is Bool.Type:
            guard let b = node.bool else { throw NodeDecodingError.mismatch(node, expected: "boolean", at: location) }
            return b as? T
        case is Double.Type: return try number(node, at: location) as? T
        case is Float.Type: return Float(try number(node, at: location)) as? T
        case let integer as any FixedWidthInteger.Type: return try self.integer(integer, node, at: location) as? T
        default: return nil
        }
    }

    private func number(_ node: Node, at location: Location) throws -> Double {
        switch node.value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw NodeDecodingError.mismatch(node, expected: "number", at: location)
        }
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type, _ node: Node, at location: Location) throws -> I {
        let result: I?
        switch node.value {
        case .int(let i): result = I(exactly: i)
        case .double(let d) where d.rounded() == d: result = I(exactly: d)
        default: throw NodeDecodingError.mismatch(node, expected: "integer", at: location)
        }
        guard let result else { throw NodeDecodingError.invalid(node, at: location, "\(node.scalarText) is out of range for \(I.self)") }
        return result
    }
}

extension NodeDecodingError {
    static func mismatch(_ node: Node, expected: String, at location: Location) -> NodeDecodingError {
        NodeDecodingError(.typeMismatch, problems: [
            .init(path: "\(location.path)", mark: node.mark, message: "expected \(expected), got \(node.valueSummary)")
        ])
    }

    static func invalid(_ node: Node, at location: Location, _ message: String) -> NodeDecodingError {
        NodeDecodingError(.invalidValue, problems: [.init(path: "\(location.path)", mark: node.mark, message: message)])
    }

    static func missing(_ key: String, in node: Node, at location: Location) -> NodeDecodingError {
        NodeDecodingError(.missingField, problems: [
            .init(path: "\(location.path)", mark: node.mark, message: "required field \"\(key)\" is missing")
        ])
    }
}

/// The `Decoder` handed to `init(from:)`.
struct NodeDecoding: Decoder {
    let node: Node
    let location: Location
    let state: DecodingState

    var codingPath: [any CodingKey] { location.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let pairs = node.mapping else { throw NodeDecodingError.mismatch(node, expected: "mapping", at: location) }
        let usage = KeyUsage(path: location.path, pairs: pairs)
        state.track(usage)
        return KeyedDecodingContainer(KeyedNodeDecoding<Key>(node: node, usage: usage, location: location, state: state))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let items = node.sequence else { throw NodeDecodingError.mismatch(node, expected: "sequence", at: location) }
        return UnkeyedNodeDecoding(items: items, location: location, state: state)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

extension NodeDecoding: SingleValueDecodingContainer {
    func decodeNil() -> Bool { node.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try state.decode(T.self, from: node, at: location) }
}

/// A mapping seen through a type's coding keys; records every key asked for.
struct KeyedNodeDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let node: Node
    let usage: KeyUsage
    let location: Location
    let state: DecodingState

    var codingPath: [any CodingKey] { location.codingPath }

    var allKeys: [Key] {
        usage.pairs.compactMap { pair in
            let key = pair.key.scalarText
            usage.used.insert(key)
            return Key(stringValue: key)
        }
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    private func lookup(_ key: Key) -> Node? {
        usage.used.insert(key.stringValue)
        return usage.value(for: key.stringValue)
    }

    private func require(_ key: Key) throws -> Node {
        guard let value = lookup(key) else { throw NodeDecodingError.missing(key.stringValue, in: node, at: location) }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try require(key).isNull }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try state.decode(T.self, from: try require(key), at: location.appending(key))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = lookup(key), !value.isNull else { return nil }
        return try state.decode(T.self, from: value, at: location.appending(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = AnyCodingKey("super")
        usage.used.insert(key.stringValue)
        guard let value = usage.value(for: key.stringValue) else {
            throw NodeDecodingError.missing(key.stringValue, in: node, at: location)
        }
        return NodeDecoding(node: value, location: location.appending(key), state: state)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(for: key) }

    private func decoder(for key: Key) throws -> NodeDecoding {
        NodeDecoding(node: try require(key), location: location.appending(key), state: state)
    }
}

/// A sequence read item by item.
struct UnkeyedNodeDecoding: UnkeyedDecodingContainer {
    let items: [Node]
    let location: Location
    let state: DecodingState
    private(set) var currentIndex = 0

    init(items: [Node], location: Location, state: DecodingState) {
        self.items = items
        self.location = location
        self.state = state
    }

    var codingPath: [any CodingKey] { location.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func decodeNil() throws -> Bool {
        guard try next(peek: true).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let item = try next(peek: false)
        return try state.decode(T.self, from: item, at: location.appending(index: currentIndex - 1))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try nextDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try nextDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try nextDecoder() }

    private mutating func nextDecoder() throws -> NodeDecoding {
        let item = try next(peek: false)
        return NodeDecoding(node: item, location: location.appending(index: currentIndex - 1), state: state)
    }

    private mutating func next(peek: Bool) throws -> Node {
        guard !isAtEnd else {
            throw NodeDecodingError(.missingField, problems: [
                .init(path: "\(location.path)", mark: nil, message: "expected more than \(items.count) items")
            ])
        }
        defer { if !peek { currentIndex += 1 } }
        return items[currentIndex]
    }
}
