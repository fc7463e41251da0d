import Crypto
import YAML

/// A stable hash of a rendered spec and its labels, for `cairn.dev/rendered-hash`.
///
/// The bytes hashed are a small canonical form of the tree: mapping keys sorted, every value
/// tagged with its type and length, so `7` and `"7"` differ and key order does not matter.
enum CanonicalHash {
    /// 16 hex digits of the SHA-256 of the canonical form of the spec, then the labels.
    static func rendered(spec: Node, labels: [String: String]) -> String {
        var writer = CanonicalWriter()
        writer.write(spec)
        writer.write(labels: labels)
        return Naming.hex(SHA256.hash(data: writer.bytes), length: 16)
    }
}

/// Writes a node tree as canonical bytes.
struct CanonicalWriter {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(2048) }

    /// Appends one node, recursively.
    mutating func write(_ node: Node) {
        switch node.value {
        case .null: tag("n")
        case .bool(let b): tag(b ? "t" : "f")
        case .int(let i): tag("i"); number(i)
        case .double(let d): tag("d"); number(Int(bitPattern: UInt(d.bitPattern)))
        case .string(let s): write(string: s)
        case .sequence(let items):
            tag("["); number(items.count)
            for item in items { write(item) }
        case .mapping(let pairs):
            tag("{"); number(pairs.count)
            for pair in pairs.sorted(by: { $0.key.scalarText < $1.key.scalarText }) {
                write(pair.key)
                write(pair.value)
            }
        }
    }

    /// Appends a string map as a mapping with sorted keys.
    mutating func write(labels: [String: String]) {
        tag("{"); number(labels.count)
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            write(string: key)
            write(string: value)
        }
    }

    private mutating func write(string: String) {
        tag("s"); number(string.utf8.count)
        bytes.append(contentsOf: string.utf8)
    }

    private mutating func tag(_ scalar: Unicode.Scalar) { bytes.append(UInt8(ascii: scalar)) }

    private mutating func number(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
        bytes.append(UInt8(ascii: ";"))
    }
}
