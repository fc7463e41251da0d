import CYAML

/// Reading and writing YAML: libyaml's parser and emitter around the `Node` tree.
public enum YAML {
    /// Limits that keep hostile input from exhausting memory or time.
    public struct Limits: Sendable {
        /// The most nodes that aliases may add to one document ("billion laughs" guard).
        public var aliasExpansion: Int
        /// The deepest nesting of collections.
        public var depth: Int

        /// Creates limits.
        public init(aliasExpansion: Int = 100_000, depth: Int = 1_000) {
            self.aliasExpansion = aliasExpansion
            self.depth = depth
        }
    }

    /// Parses every document of a YAML stream. Empty documents come back as null nodes.
    public static func parseStream(_ text: String, file: String? = nil, limits: Limits = Limits()) throws -> [Node] {
        var text = text
        return try text.withUTF8 { try parseStream(bytes: $0, file: file, limits: limits) }
    }

    /// Parses every document of a YAML stream given as UTF-8 bytes.
    public static func parseStream(_ bytes: [UInt8], file: String? = nil, limits: Limits = Limits()) throws -> [Node] {
        try bytes.withUnsafeBufferPointer { try parseStream(bytes: $0, file: file, limits: limits) }
    }

    /// Parses a stream that must hold at most one document; an empty stream is null.
    public static func parse(_ text: String, file: String? = nil, limits: Limits = Limits()) throws -> Node {
        let documents = try parseStream(text, file: file, limits: limits)
        guard documents.count <= 1 else {
            throw YAMLError(
                .syntax, "expected one YAML document, found \(documents.count); split them or use a stream",
                file: file, mark: documents[1].mark)
        }
        return documents.first ?? .null
    }

    static func parseStream(bytes: UnsafeBufferPointer<UInt8>, file: String?, limits: Limits) throws -> [Node] {
        if let nul = bytes.firstIndex(of: 0) {
            throw YAMLError(
                .notText, "contains a NUL byte at offset \(nul): this looks like a binary file, not YAML",
                file: file, mark: markOfOffset(nul, in: bytes))
        }
        var builder = TreeBuilder(file: file, limits: limits)
        try withParser(bytes, file: file) { try builder.handle(&$0) }
        return builder.documents
    }

    /// The line and column of a byte offset, for errors found before libyaml runs.
    private static func markOfOffset(_ offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Mark {
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return Mark(line: line, column: offset - lineStart + 1)
    }

    /// Runs libyaml's event loop over the bytes, handing each event to `body`.
    private static func withParser(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String?, _ body: (inout yaml_event_t) throws -> Void
    ) throws {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(.syntax, "libyaml could not initialise a parser (out of memory)", file: file)
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!, bytes.count)
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError(parser, file: file) }
            defer { yaml_event_delete(&event) }
            if event.type == YAML_STREAM_END_EVENT { return }
            try body(&event)
        }
    }

    /// libyaml's problem and context, with the position it reported.
    private static func parserError(_ parser: yaml_parser_t, file: String?) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        if parser.error == YAML_READER_ERROR {
            return YAMLError(
                .notText, "\(problem) at byte offset \(parser.problem_offset): the input is not valid UTF-8 text",
                file: file)
        }
        var message = problem
        if let context = parser.context {
            message = "\(String(cString: context)) (line \(parser.context_mark.line + 1)), \(problem)"
        }
        let mark = Mark(line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1)
        return YAMLError(.syntax, message, file: file, mark: mark)
    }
}

/// Turns libyaml events into `Node` trees, resolving anchors, aliases, tags and merge keys.
private struct TreeBuilder {
    /// A collection being built.
    private struct Frame {
        var mark: Mark
        var anchor: String?
        var isMapping: Bool
        var items: [Node] = []
        var pairs: [Node.Pair] = []
        var pendingKey: Node?
        var merges: [Node] = []
        /// Seen keys by their identity, built once a mapping outgrows a linear scan.
        var keyIndex: [KeyIdentity: Mark]?
    }

    private struct KeyIdentity: Hashable {
        let tag: UInt8
        let text: String
    }

    let file: String?
    let limits: Limits
    private(set) var documents: [Node] = []
    private var stack: [Frame] = []
    private var anchors: [String: (node: Node, size: Int)] = [:]
    private var open: Set<String> = []
    private var expanded = 0
    private var root: Node?

    typealias Limits = YAML.Limits

    init(file: String?, limits: Limits) {
        self.file = file
        self.limits = limits
    }

    mutating func handle(_ event: inout yaml_event_t) throws {
        let mark = Mark(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            anchors.removeAll(keepingCapacity: true)
            expanded = 0
            root = nil
        case YAML_DOCUMENT_END_EVENT:
            documents.append(root ?? Node(.null, mark: mark))
        case YAML_SCALAR_EVENT:
            let node = try scalar(event.data.scalar, mark: mark)
            try add(node, anchor: anchorName(event.data.scalar.anchor), mark: mark)
        case YAML_ALIAS_EVENT:
            try add(try alias(anchorName(event.data.alias.anchor) ?? "", mark: mark), anchor: nil, mark: mark)
        case YAML_SEQUENCE_START_EVENT:
            try push(Frame(mark: mark, anchor: anchorName(event.data.sequence_start.anchor), isMapping: false))
        case YAML_MAPPING_START_EVENT:
            try push(Frame(mark: mark, anchor: anchorName(event.data.mapping_start.anchor), isMapping: true))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            try pop()
        default:
            break
        }
    }

    private func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private mutating func push(_ frame: Frame) throws {
        guard stack.count < limits.depth else {
            throw YAMLError(.depthLimit, "collections nest deeper than \(limits.depth) levels", file: file, mark: frame.mark)
        }
        if let anchor = frame.anchor { open.insert(anchor) }
        stack.append(frame)
    }

    private mutating func pop() throws {
        let frame = stack.removeLast()
        var node: Node
        if frame.isMapping {
            node = Node(.mapping(try merged(frame)), mark: frame.mark)
        } else {
            node = Node(.sequence(frame.items), mark: frame.mark)
        }
        if let anchor = frame.anchor { open.remove(anchor) }
        node.mark = frame.mark
        try add(node, anchor: frame.anchor, mark: frame.mark)
    }

    /// Places a finished node in its parent, or makes it the document's root.
    private mutating func add(_ node: Node, anchor: String?, mark: Mark) throws {
        if let anchor { anchors[anchor] = (node, node.nodeCount) }
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey.take() {
            try addPair(key: key, value: node, to: top)
        } else {
            stack[top].pendingKey = node
        }
    }

    private mutating func addPair(key: Node, value: Node, to top: Int) throws {
        if key.string == "<<", key.style == .plain {
            stack[top].merges.append(value)
            return
        }
        if let previous = findKey(key, in: top) {
            throw YAMLError(
                .duplicateKey,
                "mapping key \"\(key.scalarText)\" already defined at line \(previous.line), column \(previous.column)",
                file: file, mark: key.mark)
        }
        stack[top].pairs.append(Node.Pair(key: key, value: value))
    }

    /// The position of an equal key already in the mapping, if any.
    private mutating func findKey(_ key: Node, in top: Int) -> Mark? {
        let pairs = stack[top].pairs
        if pairs.count < 16 {
            return indexOfKey(key, in: pairs).map { pairs[$0].key.mark ?? stack[top].mark }
        }
        if stack[top].keyIndex == nil {
            var index: [KeyIdentity: Mark] = [:]
            for pair in pairs { index[identity(pair.key)] = pair.key.mark ?? stack[top].mark }
            stack[top].keyIndex = index
        }
        let id = identity(key)
        if let mark = stack[top].keyIndex?[id] { return mark }
        let keyMark = key.mark ?? stack[top].mark
        stack[top].keyIndex?[id] = keyMark
        return nil
    }

    /// A linear scan for an equal key. String keys, nearly all of them, compare as strings directly:
    /// the same answer as `==` on nodes, without copying each node's value to compare it.
    private func indexOfKey(_ key: Node, in pairs: [Node.Pair]) -> Int? {
        guard case .string(let text) = key.value else { return pairs.firstIndex { $0.key == key } }
        for index in pairs.indices {
            if case .string(let other) = pairs[index].key.value, other == text { return index }
        }
        return nil
    }

    private func identity(_ key: Node) -> KeyIdentity {
        switch key.value {
        case .null: KeyIdentity(tag: 0, text: "")
        case .bool(let b): KeyIdentity(tag: 1, text: b ? "t" : "f")
        case .int(let i): KeyIdentity(tag: 2, text: String(i))
        case .double(let d): KeyIdentity(tag: 3, text: String(d))
        case .string(let s): KeyIdentity(tag: 4, text: s)
        case .sequence, .mapping: KeyIdentity(tag: 5, text: "\(key.value)")
        }
    }

    /// Applies `<<` merge keys: explicit keys win, then earlier merged mappings over later ones.
    private func merged(_ frame: Frame) throws -> [Node.Pair] {
        guard !frame.merges.isEmpty else { return frame.pairs }
        var result = frame.pairs
        for source in frame.merges {
            let mappings = source.sequence ?? [source]
            for mapping in mappings {
                guard let pairs = mapping.mapping else {
                    throw YAMLError(
                        .invalidMerge, "a << merge key needs a mapping or a sequence of mappings, got a \(mapping.typeName)",
                        file: file, mark: mapping.mark)
                }
                for pair in pairs where !result.contains(where: { $0.key == pair.key }) { result.append(pair) }
            }
        }
        return result
    }

    private mutating func alias(_ name: String, mark: Mark) throws -> Node {
        if open.contains(name) {
            throw YAMLError(.cyclicAlias, "alias *\(name) refers to the node that contains it", file: file, mark: mark)
        }
        guard let anchor = anchors[name] else {
            throw YAMLError(.undefinedAlias, "alias *\(name) has no anchor &\(name) before it", file: file, mark: mark)
        }
        expanded += anchor.size
        guard expanded <= limits.aliasExpansion else {
            throw YAMLError(
                .aliasLimit,
                "aliases expand to more than \(limits.aliasExpansion) nodes in this document; refusing a possible YAML bomb",
                file: file, mark: mark)
        }
        var node = anchor.node
        node.mark = mark
        return node
    }

    private func scalar(_ data: yaml_event_t.__Unnamed_union_data.__Unnamed_struct_scalar, mark: Mark) throws -> Node {
        let bytes = UnsafeBufferPointer(start: data.value, count: data.length)
        let style: ScalarStyle
        switch data.style {
        case YAML_PLAIN_SCALAR_STYLE: style = .plain
        case YAML_LITERAL_SCALAR_STYLE, YAML_FOLDED_SCALAR_STYLE: style = .block
        default: style = .quoted
        }
        if let tag = data.tag {
            return try tagged(String(cString: tag), bytes: bytes, style: style, mark: mark)
        }
        if style == .plain, let value = YAML.resolvePlain(bytes) {
            return Node(value, mark: mark, style: style)
        }
        return Node(.string(String(decoding: bytes, as: UTF8.self)), mark: mark, style: style)
    }

    /// Explicit tags: the core schema ones are honoured; others leave the scalar a string.
    private func tagged(_ tag: String, bytes: UnsafeBufferPointer<UInt8>, style: ScalarStyle, mark: Mark) throws -> Node {
        let text = String(decoding: bytes, as: UTF8.self)
        let resolved = YAML.resolvePlain(bytes)
        func expect(_ name: String, _ ok: (Node.Value) -> Bool) throws -> Node {
            guard let resolved, ok(resolved) else {
                throw YAMLError(.invalidTag, "cannot read \"\(text)\" as !!\(name)", file: file, mark: mark)
            }
            return Node(resolved, mark: mark, style: .plain)
        }
        switch tag {
        case "tag:yaml.org,2002:int":
            return try expect("int") { if case .int = $0 { true } else { false } }
        case "tag:yaml.org,2002:float":
            let node = try expect("float") {
                switch $0 {
                case .int, .double: true
                default: false
                }
            }
            if case .int(let i) = node.value { return Node(.double(Double(i)), mark: mark) }
            return node
        case "tag:yaml.org,2002:bool":
            return try expect("bool") { if case .bool = $0 { true } else { false } }
        case "tag:yaml.org,2002:null":
            return try expect("null") { if case .null = $0 { true } else { false } }
        default:
            return Node(.string(text), mark: mark, style: .quoted)
        }
    }
}
