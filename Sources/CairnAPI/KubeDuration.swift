/// A duration written as Go and Kubernetes write them: `300ms`, `1.5h`, `1h30m`, `26h`.
///
/// Parsing accepts what Go's `time.ParseDuration` accepts; `description` prints what Go's
/// `Duration.String()` prints (`1h30m0s`), so values round-trip with Go tools.
public struct KubeDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The length in nanoseconds, as Go stores it.
    public var nanoseconds: Int64

    /// Creates a duration from nanoseconds.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// Creates a duration from whole seconds.
    public static func seconds(_ seconds: Int64) -> KubeDuration { KubeDuration(nanoseconds: seconds * 1_000_000_000) }

    /// Parses a Go duration string, or throws a `KubeDurationError` that says what to write instead.
    public init(parsing text: String) throws {
        var parser = GoDurationParser(text)
        nanoseconds = try parser.parse()
    }

    /// The length in seconds.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// The same length as a Swift `Duration`.
    public var duration: Duration { .nanoseconds(nanoseconds) }

    /// Go's form: `1h30m0s`, `300ms`, `0s`.
    public var description: String { GoDurationFormatter.format(nanoseconds) }

    /// Shorter first.
    public static func < (lhs: KubeDuration, rhs: KubeDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

extension KubeDuration: Codable {
    /// Decodes a Go duration string.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch let error as KubeDurationError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    /// Encodes Go's form of the duration.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A string that is not a Go duration.
public struct KubeDurationError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case invalid = "invalid duration"
            case missingUnit = "missing unit"
            case unknownUnit = "unknown unit"
            case overflow = "duration out of range"
        }
        fileprivate let code: Code

        /// Not a duration at all: empty, or no digits where a number belongs.
        public static let invalid = Kind(code: .invalid)
        /// A number without a unit (`90`).
        public static let missingUnit = Kind(code: .missingUnit)
        /// A unit Go does not know (`5min`, `1d`).
        public static let unknownUnit = Kind(code: .unknownUnit)
        /// Longer than about 292 years.
        public static let overflow = Kind(code: .overflow)

        public var description: String { code.rawValue }
    }

    /// What went wrong.
    public let kind: Kind
    /// The text that failed to parse.
    public let text: String
    /// The offending unit, for `.unknownUnit`.
    public let unit: String?

    fileprivate init(_ kind: Kind, _ text: String, unit: String? = nil) {
        self.kind = kind
        self.text = text
        self.unit = unit
    }

    /// What is wrong and how to write it instead.
    public var description: String {
        let hint = #"use a number and a unit (ns, us, ms, s, m, h), as in "90s", "1.5h" or "1h30m""#
        switch kind.code {
        case .invalid: return "invalid duration \"\(text)\"; \(hint)"
        case .missingUnit: return "invalid duration \"\(text)\": missing unit; \(hint)"
        case .unknownUnit: return "invalid duration \"\(text)\": unknown unit \"\(unit ?? "")\"; \(hint)"
        case .overflow: return "invalid duration \"\(text)\": out of range (at most 2562047h47m16.854775807s)"
        }
    }
}

/// Go's `time.ParseDuration`, over UTF-8 bytes.
private struct GoDurationParser {
    private static let units: [String: UInt64] = [
        "ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]
    private static let limit: UInt64 = 1 << 63

    let text: String
    private let bytes: [UInt8]
    private var position = 0

    init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
    }

    mutating func parse() throws -> Int64 {
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            position = 1
        }
        if bytes[position...].elementsEqual("0".utf8) { return 0 }
        guard position < bytes.count else { throw KubeDurationError(.invalid, text) }
        var total: UInt64 = 0
        while position < bytes.count {
            total += try component()
            guard total <= Self.limit else { throw KubeDurationError(.overflow, text) }
        }
        if negative { return total == Self.limit ? Int64.min : -Int64(total) }
        guard total < Self.limit else { throw KubeDurationError(.overflow, text) }
        return Int64(total)
    }

    /// One `[0-9]*(\.[0-9]*)?unit` run, in nanoseconds.
    private mutating func component() throws -> UInt64 {
        let start = position
        let whole = try leadingInt()
        let hasWhole = position > start
        var fraction: UInt64 = 0
        var scale = 1.0
        var hasFraction = false
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            let fractionStart = position
            (fraction, scale) = leadingFraction()
            hasFraction = position > fractionStart
        }
        guard hasWhole || hasFraction else { throw KubeDurationError(.invalid, text) }
        let unit = try self.unit()
        guard whole <= Self.limit / unit else { throw KubeDurationError(.overflow, text) }
        var value = whole * unit
        if fraction > 0 {
            value += UInt64(Double(fraction) * (Double(unit) / scale))
            guard value <= Self.limit else { throw KubeDurationError(.overflow, text) }
        }
        return value
    }

    private mutating func unit() throws -> UInt64 {
        let start = position
        while position < bytes.count, !Self.isDigitOrDot(bytes[position]) { position += 1 }
        guard position > start else { throw KubeDurationError(.missingUnit, text) }
        let name = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let unit = Self.units[name] else { throw KubeDurationError(.unknownUnit, text, unit: name) }
        return unit
    }

    private mutating func leadingInt() throws -> UInt64 {
        var value: UInt64 = 0
        while position < bytes.count, let digit = Self.digit(bytes[position]) {
            guard value <= (Self.limit - 1) / 10 else { throw KubeDurationError(.overflow, text) }
            value = value * 10 + digit
            guard value <= Self.limit else { throw KubeDurationError(.overflow, text) }
            position += 1
        }
        return value
    }

    /// Digits after the dot; digits past what fits are consumed but ignored, as in Go.
    private mutating func leadingFraction() -> (UInt64, Double) {
        var value: UInt64 = 0
        var scale = 1.0
        var overflowed = false
        while position < bytes.count, let digit = Self.digit(bytes[position]) {
            position += 1
            if overflowed { continue }
            guard value <= (Self.limit - 1) / 10, value * 10 + digit <= Self.limit else {
                overflowed = true
                continue
            }
            value = value * 10 + digit
            scale *= 10
        }
        return (value, scale)
    }

    private static func digit(_ byte: UInt8) -> UInt64? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? UInt64(byte - UInt8(ascii: "0")) : nil
    }

    private static func isDigitOrDot(_ byte: UInt8) -> Bool { byte == UInt8(ascii: ".") || digit(byte) != nil }
}

/// Go's `Duration.String()`.
private enum GoDurationFormatter {
    static func format(_ nanoseconds: Int64) -> String {
        let negative = nanoseconds < 0
        let magnitude = nanoseconds.magnitude
        let text = magnitude < 1_000_000_000 ? subsecond(magnitude) : long(magnitude)
        return negative ? "-" + text : text
    }

    private static func subsecond(_ value: UInt64) -> String {
        switch value {
        case 0: "0s"
        case ..<1_000: "\(value)ns"
        case ..<1_000_000: decimal(value, precision: 3) + "µs"
        default: decimal(value, precision: 6) + "ms"
        }
    }

    private static func long(_ value: UInt64) -> String {
        let seconds = decimal(value % 60_000_000_000, precision: 9) + "s"
        let minutes = value / 60_000_000_000
        guard minutes > 0 else { return seconds }
        let hours = minutes / 60
        return (hours > 0 ? "\(hours)h" : "") + "\(minutes % 60)m" + seconds
    }

    /// `value / 10^precision` with the fraction's trailing zeros (and a bare dot) left off.
    private static func decimal(_ value: UInt64, precision: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<precision { scale *= 10 }
        var fraction = String(value % scale)
        fraction = String(repeating: "0", count: precision - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return "\(value / scale)" + (fraction.isEmpty ? "" : "." + fraction)
    }
}
