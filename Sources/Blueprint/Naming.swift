import Crypto

/// Names and label values for generated objects: deterministic, and shortened with a hash when too long.
public enum Naming {
    /// The longest name or label value Cairn generates.
    public static let maxLength = 63
    /// How many hex digits of SHA-256 a shortened name ends with.
    static let hashLength = 10

    /// `<kind lowercased>-<name>`, such as `deployment-postgres`, shortened past 63 characters.
    public static func configurationName(kind: String, name: String) -> String {
        shortened(kind.lowercased() + "-" + name)
    }

    /// The name itself when it fits; otherwise a prefix, `-`, and 10 hex digits of its SHA-256.
    ///
    /// The result is at most 63 characters, the same for the same input, and distinct inputs
    /// give distinct results (up to a hash collision).
    public static func shortened(_ name: String) -> String {
        guard name.utf8.count > maxLength else { return name }
        return withHash(prefix: name, of: name)
    }

    /// The value itself when it is a valid label value; otherwise a valid, shortened form of it.
    public static func labelValue(_ value: String) -> String {
        guard !isValidLabelValue(value) else { return value }
        let sanitized = String(decoding: value.utf8.map { isLabelByte($0) ? $0 : UInt8(ascii: "-") }, as: UTF8.self)
        return withHash(prefix: sanitized, of: value)
    }

    /// Whether a label value is at most 63 characters of `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
    public static func isValidLabelValue(_ value: String) -> Bool {
        let bytes = value.utf8
        guard bytes.count <= maxLength else { return false }
        guard let first = bytes.first, let last = bytes.last else { return true }
        return isAlphanumeric(first) && isAlphanumeric(last) && bytes.allSatisfy(isLabelByte)
    }

    /// The first hex digits of the SHA-256 of a text.
    static func hashPrefix(_ text: String, length: Int = hashLength) -> String {
        hex(SHA256.hash(data: Array(text.utf8)), length: length)
    }

    /// Lowercase hex of the first bytes of a digest, `length` digits long.
    static func hex<D: Sequence>(_ digest: D, length: Int) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(length + 1)
        for byte in digest {
            guard out.count < length else { break }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out.prefix(length), as: UTF8.self)
    }

    /// A prefix of `prefix` that starts and ends alphanumeric, `-`, and the hash of `original`.
    private static func withHash(prefix: String, of original: String) -> String {
        let hash = hashPrefix(original)
        let room = maxLength - hashLength - 1
        let head = prefix.utf8.prefix(room).drop { !isAlphanumeric($0) }
        let trimmed = head.reversed().drop { !isAlphanumeric($0) }.reversed()
        guard !trimmed.isEmpty else { return hash }
        return String(decoding: trimmed, as: UTF8.self) + "-" + hash
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: false
        }
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }
}
