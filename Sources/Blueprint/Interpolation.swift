/// A template string split into literal text and `${name}` / `${name:=default}` references.
///
/// Parsed once per blueprint; rendering only walks the segments.
struct Interpolation: Sendable, Equatable {
    /// One piece of a template string.
    enum Segment: Sendable, Equatable {
        /// Literal text, with `$${` already turned into `${`.
        case text(String)
        /// A reference to a variable, with its inline default when written as `${name:=default}`.
        case reference(name: String, inlineDefault: String?)
    }

    /// The pieces, in order. Adjacent text is merged.
    var segments: [Segment]

    /// Whether the string holds any reference.
    var hasReferences: Bool {
        segments.contains { if case .reference = $0 { true } else { false } }
    }

    /// The reference, when the whole string is exactly one reference and nothing else.
    var singleReference: (name: String, inlineDefault: String?)? {
        guard segments.count == 1, case .reference(let name, let inlineDefault) = segments[0] else { return nil }
        return (name, inlineDefault)
    }

    /// The literal text, when the string holds no reference.
    var literalText: String? {
        switch segments.count {
        case 0: ""
        case 1: if case .text(let text) = segments[0] { text } else { nil }
        default: nil
        }
    }
}

/// Why a template string could not be split into text and references.
struct InterpolationError: Error, Equatable {
    /// What is wrong, naming the offending text.
    var message: String
}

extension Interpolation {
    /// Parses a template string: `${name}`, `${name:=default}`, and `$${` for a literal `${`.
    init(parsing text: String) throws(InterpolationError) {
        var parser = InterpolationParser(bytes: Array(text.utf8))
        try parser.parse()
        self.init(segments: parser.segments)
    }

    /// Whether a variable name uses only letters, digits, `_`, `-`, `.` and `/`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(isNameByte)
    }

    fileprivate static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"):
            true
        default: false
        }
    }
}

/// A byte-level scanner for template strings; `$`, `{`, `}` and `:` are ASCII, so UTF-8 is safe.
private struct InterpolationParser {
    let bytes: [UInt8]
    var position = 0
    var text: [UInt8] = []
    var segments: [Interpolation.Segment] = []

    private static let dollar = UInt8(ascii: "$")
    private static let open = UInt8(ascii: "{")
    private static let close = UInt8(ascii: "}")
    private static let colon = UInt8(ascii: ":")
    private static let equals = UInt8(ascii: "=")

    mutating func parse() throws(InterpolationError) {
        while position < bytes.count {
            if starts(with: [Self.dollar, Self.dollar, Self.open]) {
                text += [Self.dollar, Self.open]
                position += 3
            } else if starts(with: [Self.dollar, Self.open]) {
                try parseReference()
            } else {
                text.append(bytes[position])
                position += 1
            }
        }
        flushText()
    }

    private func starts(with prefix: [UInt8]) -> Bool {
        guard position + prefix.count <= bytes.count else { return false }
        for (offset, byte) in prefix.enumerated() where bytes[position + offset] != byte { return false }
        return true
    }

    private mutating func parseReference() throws(InterpolationError) {
        let start = position
        position += 2
        let nameStart = position
        while position < bytes.count, Interpolation.isNameByte(bytes[position]) { position += 1 }
        let name = string(nameStart..<position)
        guard position < bytes.count else { throw unterminated(from: start) }
        var inlineDefault: String?
        if starts(with: [Self.colon, Self.equals]) {
            position += 2
            let defaultStart = position
            while position < bytes.count, bytes[position] != Self.close { position += 1 }
            guard position < bytes.count else { throw unterminated(from: start) }
            inlineDefault = string(defaultStart..<position)
        } else if bytes[position] != Self.close {
            throw InterpolationError(message: invalidCharacterMessage(from: start))
        }
        position += 1
        guard !name.isEmpty else {
            throw InterpolationError(message: "empty variable name in \(quoted(start..<position))")
        }
        flushText()
        segments.append(.reference(name: name, inlineDefault: inlineDefault))
    }

    private func unterminated(from start: Int) -> InterpolationError {
        InterpolationError(
            message: "unterminated reference \(quoted(start..<bytes.count)): add the closing '}', or write $${ for a literal ${")
    }

    private func invalidCharacterMessage(from start: Int) -> String {
        let character = String(String(decoding: bytes[position...], as: UTF8.self).prefix(1))
        return "invalid character '\(character)' in variable name in \(quoted(start..<bytes.count)): "
            + "names use letters, digits, '_', '-', '.' and '/'; write ${name} or ${name:=default}"
    }

    private func quoted(_ range: Range<Int>) -> String {
        let shown = range.count > 60 ? string(range.lowerBound..<range.lowerBound + 60) + "..." : string(range)
        return "\"\(shown)\""
    }

    private func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    private mutating func flushText() {
        guard !text.isEmpty else { return }
        segments.append(.text(String(decoding: text, as: UTF8.self)))
        text.removeAll(keepingCapacity: true)
    }
}
