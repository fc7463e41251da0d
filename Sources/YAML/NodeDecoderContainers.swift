// The containers are one or two words each, so the existentials Codable hands around
// (`any Decoder`, `any UnkeyedDecodingContainer`) hold them inline instead of on the heap.

/// The `Decoder` handed to `init(from:)`.
struct NodeDecoding: Decoder {
    let frame: DecodingFrame

    var codingPath: [any CodingKey] { frame.location.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping = frame.node.value else {
            throw NodeDecodingError.mismatch(frame.node, expected: "mapping", at: frame.location)
        }
        frame.state.track(frame)
        return KeyedDecodingContainer(KeyedNodeDecoding<Key>(frame: frame))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let items) = frame.node.value else {
            throw NodeDecodingError.mismatch(frame.node, expected: "sequence", at: frame.location)
        }
        return UnkeyedNodeDecoding(frame: frame, items: items)
    }

    /// Enumerations decode through here, so this is where their value is checked.
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        if let enumeration = frame.type as? any StringEnumeration.Type {
            try DecodingState.check(frame.node, isOneOf: enumeration, at: frame.location)
        }
        return self
    }
}

extension NodeDecoding: SingleValueDecodingContainer {
    func decodeNil() -> Bool { frame.node.isNull }
    func decode(_ type: String.Type) throws -> String { try DecodingState.string(frame.node, at: frame.location) }
    func decode(_ type: Int.Type) throws -> Int { try DecodingState.int(frame.node, at: frame.location) }
    func decode(_ type: Bool.Type) throws -> Bool { try DecodingState.bool(frame.node, at: frame.location) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try frame.state.decodeSingleValue(T.self, from: frame.node, at: frame.location)
    }
}

/// A mapping seen through a type's coding keys; records every key asked for.
struct KeyedNodeDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let frame: DecodingFrame

    var codingPath: [any CodingKey] { frame.location.codingPath }

    var allKeys: [Key] {
        frame.markAllUsed()
        return frame.pairs.compactMap { Key(stringValue: $0.key.scalarText) }
    }

    func contains(_ key: Key) -> Bool { frame.value(for: key.stringValue) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try require(key).isNull }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try frame.state.decode(T.self, from: try require(key), at: frame.child(key))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = present(key) else { return nil }
        return try frame.state.decode(T.self, from: value, at: frame.child(key))
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
        guard let value = frame.value(for: key.stringValue) else {
            throw NodeDecodingError.missing(key.stringValue, in: frame.node, at: frame.location)
        }
        return NodeDecoding(frame: DecodingFrame(node: value, at: frame.child(key), state: frame.state))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(for: key) }

    private func decoder(for key: Key) throws -> NodeDecoding {
        NodeDecoding(frame: DecodingFrame(node: try require(key), at: frame.child(key), state: frame.state))
    }

    /// The value, or a missing-field error naming this mapping.
    private func require(_ key: Key) throws -> Node {
        guard let value = frame.value(for: key.stringValue) else {
            throw NodeDecodingError.missing(key.stringValue, in: frame.node, at: frame.location)
        }
        return value
    }

    /// The value, unless it is absent or null.
    private func present(_ key: Key) -> Node? {
        guard let value = frame.value(for: key.stringValue), !value.isNull else { return nil }
        return value
    }
}

// The scalar overloads skip the generic path's type tests; they are what synthesized
// `init(from:)`s call for `String`, `Int` and `Bool` fields.
extension KeyedNodeDecoding {
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try DecodingState.string(try require(key), at: frame.child(key))
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try DecodingState.int(try require(key), at: frame.child(key))
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try DecodingState.bool(try require(key), at: frame.child(key))
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let value = present(key) else { return nil }
        return try DecodingState.string(value, at: frame.child(key))
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let value = present(key) else { return nil }
        return try DecodingState.int(value, at: frame.child(key))
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let value = present(key) else { return nil }
        return try DecodingState.bool(value, at: frame.child(key))
    }
}

/// A sequence read item by item.
struct UnkeyedNodeDecoding: UnkeyedDecodingContainer {
    let frame: DecodingFrame
    let items: [Node]
    private(set) var currentIndex = 0

    init(frame: DecodingFrame, items: [Node]) {
        self.frame = frame
        self.items = items
    }

    var codingPath: [any CodingKey] { frame.location.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func decodeNil() throws -> Bool {
        guard try next(peek: true).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let item = try next(peek: false)
        return try frame.state.decode(T.self, from: item, at: frame.child(index: currentIndex - 1))
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let item = try next(peek: false)
        return try DecodingState.string(item, at: frame.child(index: currentIndex - 1))
    }

    mutating func decode(_ type: Int.Type) throws -> Int {
        let item = try next(peek: false)
        return try DecodingState.int(item, at: frame.child(index: currentIndex - 1))
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let item = try next(peek: false)
        return try DecodingState.bool(item, at: frame.child(index: currentIndex - 1))
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
        return NodeDecoding(frame: DecodingFrame(node: item, at: frame.child(index: currentIndex - 1), state: frame.state))
    }

    private mutating func next(peek: Bool) throws -> Node {
        guard !isAtEnd else {
            throw NodeDecodingError(.missingField, problems: [
                .init(path: "\(frame.location.path)", mark: nil, message: "expected more than \(items.count) items")
            ])
        }
        defer { if !peek { currentIndex += 1 } }
        return items[currentIndex]
    }
}
