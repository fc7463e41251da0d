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
        defer { state.finish() }
        do {
            let value = try state.decode(T.self, from: node, at: .root)
            let unknown = state.unknownFields()
            if !unknown.isEmpty { throw NodeDecodingError(.unknownField, problems: unknown) }
            return value
        } catch var error as NodeDecodingError {
            error.file = file
            throw error
        }
    }
}

/// State shared by every container of one `decode` call. Not Sendable: one call, one thread.
final class DecodingState {
    /// Frames that made a keyed container, in the order they made it.
    private var frames: [DecodingFrame]

    init() {
        frames = []
        frames.reserveCapacity(16)
    }

    /// Lists `frame` for the unknown-field check, once.
    func track(_ frame: DecodingFrame) {
        guard !frame.isTracked else { return }
        frame.isTracked = true
        frames.append(frame)
    }

    /// Lets go of the frames, which hold this state: the cycle ends with the call.
    func finish() { frames.removeAll() }

    /// Keys no container of their mapping asked for, in document order when positions are known.
    func unknownFields() -> [NodeDecodingError.Problem] {
        // The common case, every key read, needs no paths at all.
        guard frames.contains(where: { !$0.allUsed }) else { return [] }
        return Self.unknownFields(in: frames)
    }

    /// Two frames can share a path (`decode` and `nestedContainer` for one key); a key read
    /// through either counts as used.
    private static func unknownFields(in frames: [DecodingFrame]) -> [NodeDecodingError.Problem] {
        let paths = frames.map(\.location.path)
        var usedByPath: [FieldPath: Set<String>] = [:]
        for (frame, path) in zip(frames, paths) { usedByPath[path, default: []].formUnion(usedKeys(frame)) }
        var reported: Set<FieldPath> = []
        var problems: [NodeDecodingError.Problem] = []
        for (frame, path) in zip(frames, paths) where reported.insert(path).inserted {
            let used = usedByPath[path] ?? []
            for pair in frame.pairs where !used.contains(pair.key.scalarText) {
                let field = path.appending(pair.key.scalarText)
                problems.append(.init(path: "\(field)", mark: pair.key.mark ?? pair.value.mark, message: "unknown field \"\(field)\""))
            }
        }
        return inDocumentOrder(problems)
    }

    private static func usedKeys(_ frame: DecodingFrame) -> Set<String> {
        Set(frame.pairs.indices.lazy.filter(frame.isUsed).map { frame.pairs[$0].key.scalarText })
    }

    private static func inDocumentOrder(_ problems: [NodeDecodingError.Problem]) -> [NodeDecodingError.Problem] {
        let unplaced = Mark(line: .max, column: .max)
        return problems.sorted { a, b in
            let (x, y) = (a.mark ?? unplaced, b.mark ?? unplaced)
            return (x.line, x.column) < (y.line, y.column)
        }
    }

    /// Decodes one value; scalar types are told apart by comparison alone.
    ///
    /// Looking up conformances for every struct would cost two look-ups each. Other integer types
    /// and enumerations need none here: their `init(from:)` asks for a single-value container and
    /// decodes through ``decodeSingleValue(_:from:at:)``, which looks up both, and the container
    /// checks enumerations when it is made.
    func decode<T: Decodable>(_ type: T.Type, from node: Node, at location: Location) throws -> T {
        try decode(T.self, from: node, at: location, as: Reading(comparing: T.self))
    }

    /// Decodes the value of a single-value container, looking up integer and enumeration types.
    func decodeSingleValue<T: Decodable>(_ type: T.Type, from node: Node, at location: Location) throws -> T {
        try decode(T.self, from: node, at: location, as: Reading(T.self))
    }

    private func decode<T: Decodable>(_ type: T.Type, from node: Node, at location: Location, as reading: Reading) throws -> T {
        switch reading {
        case .node: return node as! T
        case .string: return try Self.string(node, at: location) as! T
        case .int: return try Self.int(node, at: location) as! T
        case .bool: return try Self.bool(node, at: location) as! T
        case .double: return try Self.number(node, at: location) as! T
        case .float: return Float(try Self.number(node, at: location)) as! T
        case .integer(let integer): return try Self.integer(integer, node, at: location) as! T
        case .strings: return try strings(node, at: location) as! T
        case .enumeration(let enumeration):
            try Self.check(node, isOneOf: enumeration, at: location)
            return try decodeComposite(T.self, from: node, at: location)
        case .composite: return try decodeComposite(T.self, from: node, at: location)
        }
    }

    private func decodeComposite<T: Decodable>(_ type: T.Type, from node: Node, at location: Location) throws -> T {
        do {
            return try T(from: NodeDecoding(frame: DecodingFrame(node: node, at: location, state: self, type: T.self)))
        } catch let error as NodeDecodingError {
            throw error
        } catch {
            throw NodeDecodingError.invalid(node, at: location, Self.message(for: error))
        }
    }

    /// A list of strings, read as `Array.init(from:)` would through an unkeyed container.
    private func strings(_ node: Node, at location: Location) throws -> [String] {
        guard case .sequence(let items) = node.value else { throw NodeDecodingError.mismatch(node, expected: "sequence", at: location) }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for index in items.indices {
            // The list's frame, for the item's path, is built only when the item is wrong.
            strings.append(try Self.string(items[index], at: Location(parent: DecodingFrame(node: node, at: location, state: self), step: .index(index))))
        }
        return strings
    }

    private static func message(for error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)"
    }

    /// Checks that `node` is one of the raw values of `enumeration`.
    static func check(_ node: Node, isOneOf enumeration: any StringEnumeration.Type, at location: Location) throws {
        let string = try string(node, at: location)
        let values = enumeration.allRawValues
        guard values.contains(string) else {
            let list = values.map { "\"\($0)\"" }.joined(separator: ", ")
            throw NodeDecodingError.invalid(node, at: location, "unsupported value \"\(string)\"; supported values: \(list)")
        }
    }
}

// MARK: - Scalars

/// How `decode` reads a type.
private enum Reading {
    case node, string, int, bool, double, float, strings
    case integer(any FixedWidthInteger.Type)
    case enumeration(any StringEnumeration.Type)
    case composite

    /// By type comparison alone; every other type is `.composite`.
    init<T>(comparing type: T.Type) {
        if T.self == Node.self { self = .node }
        else if T.self == String.self { self = .string }
        else if T.self == Int.self { self = .int }
        else if T.self == Bool.self { self = .bool }
        else if T.self == Double.self { self = .double }
        else if T.self == Float.self { self = .float }
        else if T.self == [String].self { self = .strings }
        else { self = .composite }
    }

    /// By comparison, then by conformance to `FixedWidthInteger` or `StringEnumeration`.
    init<T>(_ type: T.Type) {
        self.init(comparing: T.self)
        guard case .composite = self else { return }
        if let integer = T.self as? any FixedWidthInteger.Type { self = .integer(integer) }
        else if let enumeration = T.self as? any StringEnumeration.Type { self = .enumeration(enumeration) }
    }
}

extension DecodingState {
    /// The string; no coercion from other scalars.
    static func string(_ node: Node, at location: @autoclosure () -> Location) throws -> String {
        guard case .string(let s) = node.value else { throw NodeDecodingError.mismatch(node, expected: "string", at: location()) }
        return s
    }

    /// The boolean; no coercion from other scalars.
    static func bool(_ node: Node, at location: @autoclosure () -> Location) throws -> Bool {
        guard case .bool(let b) = node.value else { throw NodeDecodingError.mismatch(node, expected: "boolean", at: location()) }
        return b
    }

    /// The integer; integral numbers (`7.0`) are accepted.
    static func int(_ node: Node, at location: @autoclosure () -> Location) throws -> Int {
        if case .int(let i) = node.value { return i }
        return try integer(Int.self, node, at: location())
    }

    private static func number(_ node: Node, at location: @autoclosure () -> Location) throws -> Double {
        switch node.value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw NodeDecodingError.mismatch(node, expected: "number", at: location())
        }
    }

    private static func integer<I: FixedWidthInteger>(_ type: I.Type, _ node: Node, at location: @autoclosure () -> Location) throws -> I {
        let result: I?
        switch node.value {
        case .int(let i): result = I(exactly: i)
        case .double(let d) where d.rounded() == d: result = I(exactly: d)
        default: throw NodeDecodingError.mismatch(node, expected: "integer", at: location())
        }
        guard let result else { throw NodeDecodingError.invalid(node, at: location(), "\(node.scalarText) is out of range for \(I.self)") }
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
