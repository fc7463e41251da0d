/// An `Encoder` that turns `Encodable` values into `Node` trees.
///
/// Keys keep declaration order, `nil` optionals are left out, dictionaries are written with their
/// keys sorted (as Go's JSON does, so output is the same in every process), and `Node` values are
/// embedded as they are.
public struct NodeEncoder {
    /// Creates an encoder.
    public init() {}

    /// Encodes `value` as a tree.
    public func encode<T: Encodable>(_ value: T) throws -> Node {
        let builder = NodeBuilder()
        try builder.encode(value, codingPath: [])
        return builder.build()
    }
}

/// Dictionaries, whose key order changes from process to process and must be sorted.
private protocol UnorderedKeys {}
extension Dictionary: UnorderedKeys {}

/// A node under construction; containers write into it after they are handed out.
/// Not Sendable: one `encode` call, one thread.
final class NodeBuilder {
    private enum Kind { case scalar, mapping, sequence }
    private var kind = Kind.scalar
    private var scalar = Node.null
    private var keys: [String] = []
    private var values: [String: NodeBuilder] = [:]
    private var items: [NodeBuilder] = []
    private var sortsKeys = false

    func encode<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        if let scalar = try Self.scalar(value, codingPath: codingPath) {
            set(scalar)
            return
        }
        try value.encode(to: NodeEncoding(builder: self, codingPath: codingPath))
        if value is any UnorderedKeys { sortsKeys = true }
    }

    func set(_ node: Node) {
        kind = .scalar
        scalar = node
    }

    func makeMapping() { kind = .mapping }

    func makeSequence() { kind = .sequence }

    func child(forKey key: String) -> NodeBuilder {
        makeMapping()
        if let existing = values[key] { return existing }
        let child = NodeBuilder()
        keys.append(key)
        values[key] = child
        return child
    }

    func appendChild() -> NodeBuilder {
        makeSequence()
        let child = NodeBuilder()
        items.append(child)
        return child
    }

    var count: Int { kind == .mapping ? keys.count : items.count }

    func build() -> Node {
        switch kind {
        case .scalar:
            return scalar
        case .sequence:
            return .sequence(items.map { $0.build() })
        case .mapping:
            let ordered = sortsKeys ? keys.sorted() : keys
            return .mapping(ordered.map { Node.Pair(key: .string($0), value: values[$0]!.build()) })
        }
    }

    private static func scalar<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> Node? {
        switch value {
        case let node as Node: return node
        case let s as String: return .string(s)
        case let b as Bool: return .bool(b)
        case let d as Double: return .double(d)
        case let f as Float: return .double(Double(f))
        case let i as any FixedWidthInteger:
            guard let int = Int(exactly: i) else {
                throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(i) does not fit in Int"))
            }
            return .int(int)
        default: return nil
        }
    }
}

/// The `Encoder` handed to `encode(to:)`.
struct NodeEncoding: Encoder {
    let builder: NodeBuilder
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        builder.makeMapping()
        return KeyedEncodingContainer(KeyedNodeEncoding<Key>(builder: builder, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        builder.makeSequence()
        return UnkeyedNodeEncoding(builder: builder, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }
}

extension NodeEncoding: SingleValueEncodingContainer {
    func encodeNil() { builder.set(.null) }
    func encode<T: Encodable>(_ value: T) throws { try builder.encode(value, codingPath: codingPath) }
}

/// Writes a mapping in the order keys are encoded.
struct KeyedNodeEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let builder: NodeBuilder
    let codingPath: [any CodingKey]

    func encodeNil(forKey key: Key) { builder.child(forKey: key.stringValue).set(.null) }

    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try builder.child(forKey: key.stringValue).encode(value, codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoder(for: key).container(keyedBy: keyType)
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder(for: key).unkeyedContainer()
    }

    func superEncoder() -> any Encoder {
        NodeEncoding(builder: builder.child(forKey: "super"), codingPath: codingPath + [AnyCodingKey("super")])
    }

    func superEncoder(forKey key: Key) -> any Encoder { encoder(for: key) }

    private func encoder(for key: Key) -> NodeEncoding {
        NodeEncoding(builder: builder.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

/// Appends to a sequence.
struct UnkeyedNodeEncoding: UnkeyedEncodingContainer {
    let builder: NodeBuilder
    let codingPath: [any CodingKey]
    var count: Int { builder.count }

    mutating func encodeNil() { builder.appendChild().set(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let key = AnyCodingKey(intValue: count)!
        try builder.appendChild().encode(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        nextEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { nextEncoder().unkeyedContainer() }

    mutating func superEncoder() -> any Encoder { nextEncoder() }

    private func nextEncoder() -> NodeEncoding {
        let key = AnyCodingKey(intValue: count)!
        return NodeEncoding(builder: builder.appendChild(), codingPath: codingPath + [key])
    }
}
