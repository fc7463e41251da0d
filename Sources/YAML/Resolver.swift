// Scalar resolution as Kubernetes does it: kubectl and the API server turn YAML into JSON with
// go-yaml v2 (through sigs.k8s.io/yaml), which follows YAML 1.1. So `yes`, `on`, `y` are booleans,
// `0777` is octal and `1_000` is an integer. Timestamps stay strings, as go-yaml v2 keeps them when
// decoding into untyped values.

extension YAML {
    /// The value a plain (unquoted, untagged) scalar stands for, by Kubernetes' YAML 1.1 rules.
    public static func resolveScalar(_ text: String) -> Node.Value {
        var utf8 = text
        return utf8.withUTF8 { resolvePlain($0) } ?? .string(text)
    }

    /// Resolves UTF-8 bytes; nil means "a string, with exactly these bytes".
    static func resolvePlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Node.Value? {
        guard let first = bytes.first else { return .null }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            return resolveKeyword(bytes) ?? resolveNumber(bytes)
        case UInt8(ascii: "."):
            return resolveKeyword(bytes) ?? resolveFloat(bytes)
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"),
            UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "~"):
            return resolveKeyword(bytes)
        default:
            return nil
        }
    }

    private static let keywords: [String: Node.Value] = {
        var table: [String: Node.Value] = [:]
        for word in ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"] {
            table[word] = .bool(true)
        }
        for word in ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"] {
            table[word] = .bool(false)
        }
        for word in ["~", "null", "Null", "NULL"] { table[word] = .null }
        for word in [".nan", ".NaN", ".NAN"] { table[word] = .double(.nan) }
        for word in [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"] { table[word] = .double(.infinity) }
        for word in ["-.inf", "-.Inf", "-.INF"] { table[word] = .double(-.infinity) }
        return table
    }()

    /// `keywords` with each word packed by `packKeyword`, sorted by that number.
    ///
    /// Every mapping key and most values of a manifest pass through `resolveKeyword`; a binary search
    /// over integers costs neither the String nor the hashing that a dictionary lookup would.
    private static let packedKeywords: [(word: UInt64, value: Node.Value)] = keywords
        .map { word, value in
            var word = word
            return (word.withUTF8 { packKeyword($0) }, value)
        }
        .sorted { $0.word < $1.word }

    /// Up to 6 bytes and their count in one integer: equal numbers mean equal byte strings.
    private static func packKeyword(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var packed = UInt64(bytes.count) << 56
        for (index, byte) in bytes.enumerated() { packed |= UInt64(byte) << (8 * index) }
        return packed
    }

    private static func resolveKeyword(_ bytes: UnsafeBufferPointer<UInt8>) -> Node.Value? {
        guard bytes.count <= 6 else { return nil }
        let word = packKeyword(bytes)
        var low = 0
        var high = packedKeywords.count
        while low < high {
            let middle = (low + high) / 2
            if packedKeywords[middle].word < word { low = middle + 1 } else { high = middle }
        }
        return low < packedKeywords.count && packedKeywords[low].word == word ? packedKeywords[low].value : nil
    }

    /// Integers first (Go's `strconv.ParseInt(s, 0, 64)` after dropping `_`), then YAML-style floats.
    private static func resolveNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> Node.Value? {
        guard bytes.contains(UInt8(ascii: "_")) else { return resolveDigits(bytes) }
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count)
        for byte in bytes where byte != UInt8(ascii: "_") { digits.append(byte) }
        return digits.withUnsafeBufferPointer { resolveDigits($0) }
    }

    /// A number with its `_` separators already dropped.
    private static func resolveDigits(_ plain: UnsafeBufferPointer<UInt8>) -> Node.Value? {
        if let value = parseGoInteger(plain) { return .int(value) }
        if let value = parseUnsignedOverflow(plain) { return .double(value) }
        return resolveFloat(plain)
    }

    /// Go's base-0 integer syntax: optional sign, then `0x`, `0o`, `0b`, a leading-`0` octal, or decimal.
    static func parseGoInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var radix = 10
        if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "0") {
            switch bytes[index + 1] | 0x20 {
            case UInt8(ascii: "x"): radix = 16; index += 2
            case UInt8(ascii: "o"): radix = 8; index += 2
            case UInt8(ascii: "b"): radix = 2; index += 2
            default: radix = 8; index += 1
            }
        }
        guard index < bytes.count else { return nil }
        var magnitude: UInt64 = 0
        while index < bytes.count {
            guard let digit = digitValue(bytes[index]), digit < radix else { return nil }
            let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: UInt64(radix))
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { return nil }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { return nil }
        return Int(magnitude)
    }

    /// Positive decimal integers past Int64 still resolve to a number in go-yaml (as uint64).
    private static func parseUnsignedOverflow(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        guard bytes.count > 1, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            bytes[0] != UInt8(ascii: "0")
        else { return nil }
        guard UInt64(String(decoding: bytes, as: UTF8.self)) != nil else { return nil }
        return Double(String(decoding: bytes, as: UTF8.self))
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    /// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml v2's float syntax.
    private static func resolveFloat(_ bytes: UnsafeBufferPointer<UInt8>) -> Node.Value? {
        var index = 0
        func isDigit(_ i: Int) -> Bool {
            i < bytes.count && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9")
        }
        func skipDigits() -> Int {
            let start = index
            while isDigit(index) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() > 0 else { return nil }
        } else {
            guard skipDigits() > 0 else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                _ = skipDigits()
            }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { return nil }
        }
        guard index == bytes.count else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix(".") { text += "0" }
        if text.hasPrefix(".") || text.hasPrefix("-.") || text.hasPrefix("+.") {
            text = text.replacingFirstDot()
        }
        return Double(text).map(Node.Value.double)
    }
}

extension String {
    /// `.5` → `0.5`, `-.5` → `-0.5`: Swift's Double parser wants a leading digit.
    fileprivate func replacingFirstDot() -> String {
        guard let dot = firstIndex(of: ".") else { return self }
        return self[..<dot] + "0" + self[dot...]
    }
}
