/// Reading and writing JSON text (RFC 8259) as `Node` trees.
public enum JSON {
    /// How deeply arrays and objects may nest before reading stops with `.depthLimit`.
    ///
    /// The same as YAML's default: equality, decoding and template substitution walk trees
    /// recursively, and real Kubernetes objects nest a few dozen levels at most.
    public static let maxDepth = YAML.Limits().depth

    /// Reads one JSON value from UTF-8 bytes, with a mark on every node; `file` names the source
    /// in errors.
    public static func parse(_ bytes: [UInt8], file: String? = nil) throws(YAMLError) -> Node {
        try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) -> Node in
            var reader = JSONReader(buffer, file: file)
            return try reader.document()
        }
    }

    /// Reads one JSON value from text, with a mark on every node; `file` names the source in errors.
    public static func parse(_ text: String, file: String? = nil) throws(YAMLError) -> Node {
        var text = text
        // `withUTF8` is not generic over its error type, so the typed error travels in a Result.
        let result = text.withUTF8 { buffer in
            Result { () throws(YAMLError) -> Node in
                var reader = JSONReader(buffer, file: file)
                return try reader.document()
            }
        }
        return try result.get()
    }

    /// Writes a node as JSON: compact, or `pretty` as `kubectl -o json` prints it (4-space
    /// indent), without a trailing newline.
    ///
    /// Throws `.unrepresentable` for NaN, infinities, collection keys, and non-string keys that
    /// collide once written as text; the message names the path, e.g. `spec.x[2]`.
    public static func emit(_ node: Node, pretty: Bool = false) throws(YAMLError) -> String {
        var writer = JSONWriter(pretty: pretty)
        try writer.value(node)
        return String(decoding: writer.output, as: UTF8.self)
    }
}

// MARK: - Reading

/// A reader over UTF-8 bytes.
///
/// It is iterative, with an explicit stack of open containers, so that the depth limit and not
/// the thread's stack size bounds nesting. Columns count Unicode scalars, as libyaml's do: the
/// reader counts UTF-8 continuation bytes on the current line, which can only occur inside
/// strings, since raw line breaks cannot.
private struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let file: String?
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var continuationBytesOnLine = 0
    /// Reused for strings with escapes, so that they cost one allocation like any other string.
    private var scratch: [UInt8] = []
    /// The elements and members of every open container, innermost last. A container takes its
    /// own slice when it closes: one exact-size allocation instead of regrowing as it fills.
    private var items: [Node] = []
    private var pairs: [Node.Pair] = []

    /// An array or object still being read.
    private struct Open {
        var mark: Mark
        var isObject: Bool
        /// Where its elements or members start in `items` or `pairs`.
        var start: Int
        /// The key whose value is being read.
        var key: Node? = nil
        /// Key positions by exact bytes, built once an object outgrows a linear scan.
        var keyIndex: [ExactKey: Int]? = nil
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>, file: String?) {
        self.bytes = bytes
        self.file = file
    }

    /// Reads the single value the input must hold.
    mutating func document() throws(YAMLError) -> Node {
        try checkEncoding()
        skipWhitespace()
        guard index < bytes.count else {
            throw error(.syntax, "empty input: expected a JSON value")
        }
        let root = try value()
        skipWhitespace()
        guard index == bytes.count else {
            throw error(.syntax, "expected the end of input after the JSON value, found \(found())")
        }
        return root
    }

    /// Skips a UTF-8 byte order mark, which editors on Windows add; rejects UTF-16 with a hint.
    private mutating func checkEncoding() throws(YAMLError) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            index = 3
            lineStart = 3
        } else if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw error(.notText, "the input is UTF-16 (it starts with a byte order mark); convert it to UTF-8")
        }
    }

    // MARK: Values and containers

    private mutating func value() throws(YAMLError) -> Node {
        var stack: [Open] = []
        while true {
            // nil: a container opened, and its first value comes next.
            guard var node = try begin(&stack) else { continue }
            while !stack.isEmpty {
                // nil: the container goes on, with another value next.
                guard let closed = try add(node, to: &stack) else { break }
                node = closed
            }
            if stack.isEmpty { return node }
        }
    }

    /// Reads a scalar, or opens an array or object; an empty one comes back whole.
    private mutating func begin(_ stack: inout [Open]) throws(YAMLError) -> Node? {
        let mark = self.mark
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return Node(.string(try string()), mark: mark, style: .quoted)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = bytes[index] == UInt8(ascii: "{")
            guard stack.count < JSON.maxDepth else {
                throw error(.depthLimit, "arrays and objects nest more than \(JSON.maxDepth) deep, Cairn's limit")
            }
            index += 1
            stack.append(Open(mark: mark, isObject: isObject, start: isObject ? pairs.count : items.count))
            skipWhitespace()
            if index < bytes.count, bytes[index] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                index += 1
                return finish(stack.removeLast())
            }
            if isObject { try key(into: &stack[stack.count - 1]) }
            try expectValue()
            return nil
        default:
            return try scalar(mark)
        }
    }

    /// Adds a value to the innermost container, then reads past the `,` that continues it or
    /// the bracket that closes it; a closed container comes back as a node.
    private mutating func add(_ node: Node, to stack: inout [Open]) throws(YAMLError) -> Node? {
        let top = stack.count - 1
        let isObject = stack[top].isObject
        if isObject {
            pairs.append(Node.Pair(key: stack[top].key.take()!, value: node))
        } else {
            items.append(node)
        }
        skipWhitespace()
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        guard index < bytes.count, bytes[index] == UInt8(ascii: ",") || bytes[index] == close else {
            let what = isObject ? "object member" : "array element"
            throw error(.syntax, "expected ',' or '\(Character(Unicode.Scalar(close)))' after \(what), found \(found())")
        }
        index += 1
        if bytes[index - 1] == close { return finish(stack.removeLast()) }
        skipWhitespace()
        if isObject { try key(into: &stack[top]) }
        try expectValue()
        return nil
    }

    /// The node of a container that just closed, taking its slice of `items` or `pairs`.
    private mutating func finish(_ open: Open) -> Node {
        if open.isObject {
            let members = Array(pairs[open.start...])
            pairs.removeSubrange(open.start...)
            return Node(.mapping(members), mark: open.mark)
        }
        let elements = Array(items[open.start...])
        items.removeSubrange(open.start...)
        return Node(.sequence(elements), mark: open.mark)
    }

    /// Reads `"key" :` and checks the key against the object's earlier ones.
    private mutating func key(into open: inout Open) throws(YAMLError) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw error(.syntax, "expected a string key in double quotes, found \(found())")
        }
        let mark = self.mark
        let key = try string()
        try checkDuplicate(key, at: mark, in: &open)
        open.key = Node(.string(key), mark: mark, style: .quoted)
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
            throw error(.syntax, "expected ':' after object key \"\(key)\", found \(found())")
        }
        index += 1
    }

    /// Compares keys by their exact bytes, as RFC 8259 does: Swift's `==` would call "é" and
    /// "e\u{301}" equal.
    private func checkDuplicate(_ key: String, at mark: Mark, in open: inout Open) throws(YAMLError) {
        let members = pairs[open.start...]
        var first: Int?
        if open.keyIndex == nil, members.count < 16 {
            first = members.firstIndex { ExactKey.same($0.key.string ?? "", key) }
        } else {
            if open.keyIndex == nil {
                var keyIndex: [ExactKey: Int] = [:]
                for i in members.indices { keyIndex[ExactKey(members[i].key.string ?? "")] = i }
                open.keyIndex = keyIndex
            }
            first = open.keyIndex?.updateValue(pairs.count, forKey: ExactKey(key))
        }
        guard let first else { return }
        let earlier = pairs[first].key.mark.map { " at \($0)" } ?? ""
        throw YAMLError(
            .duplicateKey, "duplicate key \"\(key)\" (first defined\(earlier)); remove one of them",
            file: file, mark: mark)
    }

    private mutating func expectValue() throws(YAMLError) {
        skipWhitespace()
        guard index < bytes.count else {
            throw error(.syntax, "unexpected end of input: expected a JSON value")
        }
    }

    /// Reads `true`, `false`, `null` or a number.
    private mutating func scalar(_ mark: Mark) throws(YAMLError) -> Node {
        let value: Node.Value
        switch bytes[index] {
        case UInt8(ascii: "t"): try literal("true"); value = .bool(true)
        case UInt8(ascii: "f"): try literal("false"); value = .bool(false)
        case UInt8(ascii: "n"): try literal("null"); value = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): value = try number()
        default: throw error(.syntax, "expected a JSON value, found \(found())")
        }
        return Node(value, mark: mark)
    }

    private mutating func literal(_ word: StaticString) throws(YAMLError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - index >= expected.count,
            UnsafeBufferPointer(rebasing: bytes[index..<index + expected.count]).elementsEqual(expected)
        else {
            throw error(.syntax, "expected a JSON value (true, false or null?), found \(found())")
        }
        index += expected.count
    }

    // MARK: Numbers

    private mutating func number() throws(YAMLError) -> Node.Value {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.count, bytes[index].isASCIIDigit else {
            throw error(.syntax, "expected a digit after '-', found \(found())")
        }
        // Accumulated negated, so that Int.min fits.
        var negated = 0
        var fitsInt = true
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, bytes[index].isASCIIDigit {
                throw error(.syntax, "a JSON number cannot start with 0 followed by digits (octal is not JSON)")
            }
        } else {
            while index < bytes.count, bytes[index].isASCIIDigit {
                let digit = Int(bytes[index] &- UInt8(ascii: "0"))
                if fitsInt {
                    let (times10, o1) = negated.multipliedReportingOverflow(by: 10)
                    let (next, o2) = times10.subtractingReportingOverflow(digit)
                    if o1 || o2 { fitsInt = false } else { negated = next }
                }
                index += 1
            }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try digits(after: "'.'")
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            try digits(after: "the exponent")
        }
        if isInteger, fitsInt {
            if negative { return .int(negated) }
            if negated != .min { return .int(-negated) }
        }
        // ASCII text of up to 15 bytes is a small string, so the usual number costs no allocation.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        // Swift parses every text of JSON's number grammar; nil would be a bug in the scan above.
        guard let double = Double(text) else { preconditionFailure("Double rejected JSON number \(text)") }
        guard double.isFinite else {
            // As Go's encoding/json, which the API server uses, rejects it; a silent infinity
            // could not be written back as JSON.
            throw error(.syntax, "the number \(text) is too large for a 64-bit float", at: start)
        }
        return .double(double)
    }

    private mutating func digits(after what: String) throws(YAMLError) {
        guard index < bytes.count, bytes[index].isASCIIDigit else {
            throw error(.syntax, "expected a digit after \(what), found \(found())")
        }
        while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
    }

    // MARK: Strings

    /// Reads a string at its opening quote; strings without escapes are decoded straight from
    /// the input.
    private mutating func string() throws(YAMLError) -> String {
        let opening = mark
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                return try escapedString(opening)
            }
            try stringByte(byte)
        }
        throw unterminated(opening)
    }

    /// The rest of a string once it has an escape, decoded into `scratch`.
    private mutating func escapedString(_ opening: Mark) throws(YAMLError) -> String {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                try escape(opening)
                continue
            }
            let start = index
            try stringByte(byte)
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        }
        throw unterminated(opening)
    }

    private func unterminated(_ opening: Mark) -> YAMLError {
        error(.syntax, "unterminated string: the string that starts at \(opening) has no closing '\"'")
    }

    /// Steps over one unescaped character of a string, checking it.
    private mutating func stringByte(_ byte: UInt8) throws(YAMLError) {
        if byte >= 0x80 {
            try utf8Sequence()
        } else if byte < 0x20 {
            if byte == 0 { throw error(.notText, "NUL byte: the input is binary or UTF-16, not UTF-8 JSON text") }
            let name = byte == 0x0A ? "a line break" : "control character \(scalarName(UInt32(byte)))"
            throw error(.syntax, "\(name) inside a string; write it as an escape such as \\n or \\u00XX")
        } else {
            index += 1
        }
    }

    private mutating func escape(_ opening: Mark) throws(YAMLError) {
        index += 1
        guard index < bytes.count else { throw unterminated(opening) }
        let simple: UInt8
        switch bytes[index] {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            index += 1
            try unicodeEscape(opening)
            return
        default:
            index -= 1
            throw error(.syntax, "invalid escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX after '\\', found \(found(after: 1))")
        }
        scratch.append(simple)
        index += 1
    }

    /// Reads the hex digits of `\uXXXX`, and a second `\uXXXX` when the first is a high surrogate.
    private mutating func unicodeEscape(_ opening: Mark) throws(YAMLError) {
        let escapeStart = index - 2
        var value = try hex4(opening)
        if (0xD800...0xDBFF).contains(value) {
            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error(.syntax, "lone surrogate \\u\(hex(value)) needs a low surrogate \\uDC00-\\uDFFF after it", at: escapeStart)
            }
            index += 2
            let low = try hex4(opening)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw error(.syntax, "high surrogate \\u\(hex(value)) is followed by \\u\(hex(low)), not a low surrogate", at: escapeStart)
            }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw error(.syntax, "lone low surrogate \\u\(hex(value)) without a high surrogate before it", at: escapeStart)
        }
        if value == 0 {
            // Allowed by RFC 8259; kept, since it is valid in a Swift String.
            scratch.append(0)
            return
        }
        scratch.append(contentsOf: String(Character(Unicode.Scalar(value)!)).utf8)
    }

    private mutating func hex4(_ opening: Mark) throws(YAMLError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw unterminated(opening) }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(.syntax, "expected 4 hex digits after \\u, found \(found())")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Steps over one multi-byte UTF-8 sequence, rejecting overlong forms, surrogates and values
    /// past U+10FFFF as the Unicode standard's table 3-7 does.
    private mutating func utf8Sequence() throws(YAMLError) {
        let length = utf8Length(at: index)
        guard length > 0 else { throw error(.notText, "invalid UTF-8 byte 0x\(hex(UInt32(bytes[index]), width: 2)): the input is not UTF-8 text") }
        index += length
        continuationBytesOnLine += length - 1
    }

    /// The length of a valid UTF-8 sequence starting at `i`, or 0.
    private func utf8Length(at i: Int) -> Int {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard bytes.count - i >= length, (low...high).contains(bytes[i + 1]) else { return 0 }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return 0 }
        return length
    }

    // MARK: Positions and messages

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): index += 1
            case UInt8(ascii: "\n"): newLine(after: index)
            case UInt8(ascii: "\r"):
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { index += 1 }
                newLine(after: index)
            default: return
            }
        }
    }

    private mutating func newLine(after i: Int) {
        index = i + 1
        line += 1
        lineStart = index
        continuationBytesOnLine = 0
    }

    private var mark: Mark { mark(at: index) }

    /// The mark of byte `i`, which is `index` or a few ASCII bytes before it on the same line.
    private func mark(at i: Int) -> Mark {
        Mark(line: line, column: i - lineStart - continuationBytesOnLine + 1)
    }

    /// The mark of any byte, counted from the start; for error messages only.
    private func markFromStart(of target: Int) -> Mark {
        var line = 1
        var column = 1
        var i = 0
        while i < target {
            let byte = bytes[i]
            if byte == 0x0A || (byte == 0x0D && (i + 1 == bytes.count || bytes[i + 1] != 0x0A)) {
                line += 1
                column = 0
            }
            if byte & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return Mark(line: line, column: column)
    }

    /// The first NUL byte or invalid UTF-8 sequence, if any.
    private func firstNonText() -> (index: Int, message: String)? {
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0 { return (i, "NUL byte: the input is binary or UTF-16, not UTF-8 JSON text") }
            if byte < 0x80 {
                i += 1
                continue
            }
            let length = utf8Length(at: i)
            guard length > 0 else {
                return (i, "invalid UTF-8 byte 0x\(hex(UInt32(byte), width: 2)): the input is not UTF-8 text")
            }
            i += length
        }
        return nil
    }

    /// What is at `index + offset`, for messages: `'x'`, `U+0007`, `end of input`.
    private func found(after offset: Int = 0) -> String {
        let i = index + offset
        guard i < bytes.count else { return "end of input" }
        let byte = bytes[i]
        if byte < 0x80 {
            return (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : scalarName(UInt32(byte))
        }
        let length = utf8Length(at: i)
        guard length > 0 else { return "invalid UTF-8 byte 0x\(hex(UInt32(byte), width: 2))" }
        return "'\(String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<i + length]), as: UTF8.self))'"
    }

    private func scalarName(_ value: UInt32) -> String { "U+\(hex(value))" }

    private func hex(_ value: UInt32, width: Int = 4) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private func error(_ kind: YAMLError.Kind, _ message: String, at i: Int? = nil) -> YAMLError {
        // Binary input fails somewhere as a syntax error; say what it really is. Scanning the
        // whole input costs nothing on the success path.
        if kind == .syntax, let (at, message) = firstNonText() {
            return YAMLError(.notText, message, file: file, mark: markFromStart(of: at))
        }
        return YAMLError(kind, message, file: file, mark: mark(at: i ?? index))
    }
}

/// A string hashed and compared by its exact UTF-8 bytes.
private struct ExactKey: Hashable {
    let string: String
    init(_ string: String) { self.string = string }

    static func == (a: ExactKey, b: ExactKey) -> Bool { same(a.string, b.string) }

    /// Byte equality, checking the lengths first since most distinct keys differ there.
    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
    }
    func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

// MARK: - Writing

/// Writes JSON into a byte buffer.
///
/// Like the reader it keeps its own stack of open containers rather than recursing: test and
/// task threads have small stacks, and trees as deep as the reader allows must still be written.
private struct JSONWriter {
    let pretty: Bool
    var output: [UInt8] = []
    private var indent = 0
    /// Where the writer is, for error messages: one step per open container.
    private var path = FieldPath()

    init(pretty: Bool) { self.pretty = pretty }

    /// A non-empty array or object being written.
    private struct Open {
        var items: [Node] = []
        var pairs: [Node.Pair] = []
        /// The keys as written, when some were not strings.
        var keys: [String]? = nil
        var isObject: Bool
        var next = 0
        var count: Int { isObject ? pairs.count : items.count }
    }

    mutating func value(_ root: Node) throws(YAMLError) {
        var stack: [Open] = []
        var node = root
        while true {
            if let open = try begin(node) { stack.append(open) }
            // Move to the next value to write, closing the containers that are done.
            while true {
                guard let top = stack.indices.last else { return }
                let i = stack[top].next
                if i == stack[top].count {
                    let open = stack.removeLast()
                    path.components.removeLast()
                    indent -= 1
                    newLine()
                    output.append(open.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                    continue
                }
                stack[top].next += 1
                if i > 0 {
                    output.append(UInt8(ascii: ","))
                    path.components.removeLast()
                }
                newLine()
                if stack[top].isObject {
                    let key = stack[top].keys?[i] ?? stack[top].pairs[i].key.string!
                    string(key)
                    output.append(UInt8(ascii: ":"))
                    if pretty { output.append(UInt8(ascii: " ")) }
                    path.components.append(.key(key))
                    node = stack[top].pairs[i].value
                } else {
                    path.components.append(.index(i))
                    node = stack[top].items[i]
                }
                break
            }
        }
    }

    /// Writes a scalar or an empty container whole, or opens a container and returns it.
    private mutating func begin(_ node: Node) throws(YAMLError) -> Open? {
        switch node.value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): integer(i)
        case .double(let d):
            guard d.isFinite else {
                let name = d.isNaN ? "NaN" : d < 0 ? "-Infinity" : "Infinity"
                throw YAMLError(
                    .unrepresentable,
                    "\(name) at \(Self.describe(path)) has no JSON form; use a string or a finite number",
                    mark: node.mark)
            }
            append(d.roundTripText)
        case .string(let s): string(s)
        case .sequence(let items):
            guard !items.isEmpty else { append("[]"); return nil }
            output.append(UInt8(ascii: "["))
            indent += 1
            return Open(items: items, isObject: false)
        case .mapping(let pairs):
            guard !pairs.isEmpty else { append("{}"); return nil }
            let keys = pairs.contains { $0.key.string == nil } ? try Self.convertedKeys(pairs, path: path) : nil
            output.append(UInt8(ascii: "{"))
            indent += 1
            return Open(pairs: pairs, keys: keys, isObject: true)
        }
        return nil
    }

    /// The keys of a mapping that has non-string ones, as JSON text: scalars as their text, as
    /// sigs.k8s.io/yaml writes them.
    private static func convertedKeys(_ pairs: [Node.Pair], path: FieldPath) throws(YAMLError) -> [String] {
        var keys: [String] = []
        keys.reserveCapacity(pairs.count)
        for pair in pairs {
            switch pair.key.value {
            case .string(let s): keys.append(s)
            case .sequence, .mapping:
                throw YAMLError(
                    .unrepresentable, "a \(pair.key.typeName) key at \(describe(path)) has no JSON form; JSON keys are strings",
                    mark: pair.key.mark)
            default:
                keys.append(pair.key.scalarText)
            }
        }
        // Converted keys can collide where the tree had none: 1 and "1".
        var seen: Set<ExactKey> = []
        for (key, pair) in zip(keys, pairs) where !seen.insert(ExactKey(key)).inserted {
            throw YAMLError(
                .unrepresentable, "two keys at \(describe(path)) both become \"\(key)\" in JSON; rename one",
                mark: pair.key.mark)
        }
        return keys
    }

    private mutating func newLine() {
        guard pretty else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 4))
    }

    private mutating func append(_ text: String) { output.append(contentsOf: text.utf8) }

    /// Writes decimal digits straight into the buffer; `String(i)` would allocate for 16+ digits.
    private mutating func integer(_ i: Int) {
        if i < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = i.magnitude
        let start = output.count
        repeat {
            output.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        output[start...].reverse()
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes a quoted string, copying runs that need no escape in one go.
    ///
    /// Beyond what RFC 8259 requires, DEL, the C1 controls, U+2028, U+2029, U+FFFE and U+FFFF are
    /// escaped too: YAML readers reject or fold them when raw, and the output must stay readable as
    /// YAML, which is how kubectl users feed it back. C1 controls also drive terminals.
    private mutating func string(_ s: String) {
        output.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            var i = 0
            while i < bytes.count {
                let (length, escaped) = Self.escape(bytes, at: i)
                guard let escaped else {
                    i += length
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                output.append(UInt8(ascii: "\\"))
                switch escaped {
                case 0x22, 0x5C: output.append(UInt8(escaped))  // " and \
                case 0x0A: output.append(UInt8(ascii: "n"))
                case 0x0D: output.append(UInt8(ascii: "r"))
                case 0x09: output.append(UInt8(ascii: "t"))
                case 0x08: output.append(UInt8(ascii: "b"))
                case 0x0C: output.append(UInt8(ascii: "f"))
                default:
                    output.append(UInt8(ascii: "u"))
                    for shift in stride(from: 12, through: 0, by: -4) {
                        output.append(Self.hexDigits[Int(escaped >> UInt32(shift) & 0xF)])
                    }
                }
                i += length
                runStart = i
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// The length of the UTF-8 sequence at `i` and, when it must be escaped, its scalar value.
    private static func escape(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (Int, UInt32?) {
        let byte = bytes[i]
        switch byte {
        case 0..<0x20, UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x7F: return (1, UInt32(byte))
        case 0x20..<0x80: return (1, nil)
        case 0xC2:  // U+0080 to U+00BF
            return bytes[i + 1] < 0xA0 ? (2, UInt32(bytes[i + 1])) : (2, nil)
        case 0xE2:  // U+2028, U+2029
            let isSeparator = bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)
            return (3, isSeparator ? 0x2000 | UInt32(bytes[i + 2] & 0x3F) : nil)
        case 0xEF:  // U+FFFE, U+FFFF
            let isNonCharacter = bytes[i + 1] == 0xBF && bytes[i + 2] >= 0xBE
            return (3, isNonCharacter ? 0xFFC0 | UInt32(bytes[i + 2] & 0x3F) : nil)
        default:
            return (byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4, nil)
        }
    }

    /// `spec.x[2]`, as Kubernetes prints field paths, or `the document root`.
    private static func describe(_ path: FieldPath) -> String {
        path.isRoot ? "the document root" : path.description
    }
}
