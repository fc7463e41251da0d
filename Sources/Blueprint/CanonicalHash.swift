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
        return digest(writer)
    }

    /// The same hash, faster: the template's literal parts are written from bytes made once.
    ///
    /// `labels` must be sorted by key. Tests hold both forms equal.
    static func rendered(spec: Node, template: CompiledTemplate, sortedLabels labels: [(key: String, value: String)]) -> String {
        var writer = CanonicalWriter()
        writer.write(spec: spec, template: template)
        writer.write(sortedLabels: labels)
        return digest(writer)
    }

    private static func digest(_ writer: CanonicalWriter) -> String {
        Naming.hex(SHA256.hash(data: writer.bytes), length: 16)
    }
}

/// How to write one template subtree canonically, prepared when the blueprint is compiled.
indirect enum CanonicalPlan: Sendable {
    /// A subtree without references: its bytes, ready.
    case bytes([UInt8])
    /// A scalar with references: write what was rendered.
    case rendered
    /// A sequence with references somewhere inside.
    case sequence([CanonicalPlan])
    /// A mapping with references inside; `order` sorts its keys, nil when a key has a reference.
    case mapping(order: [Int]?, values: [CanonicalPlan])

    /// The plan for a compiled subtree.
    init(_ node: CompiledNode) {
        switch node {
        case .literal(let literal):
            var writer = CanonicalWriter()
            writer.write(literal)
            self = .bytes(writer.bytes)
        case .scalar:
            self = .rendered
        case .sequence(let items, _):
            self = .sequence(items.map(CanonicalPlan.init))
        case .mapping(let entries, _):
            self = .mapping(order: Self.order(entries), values: entries.map { CanonicalPlan($0.value) })
        }
    }

    /// The indices of entries in sorted key order, with `extraKeys` counted first; nil if a key has a reference.
    static func order(_ entries: [CompiledEntry], extraKeys: [String] = []) -> [Int]? {
        var keys = extraKeys
        for entry in entries {
            guard let key = entry.key.literal?.scalarText else { return nil }
            keys.append(key)
        }
        return keys.indices.sorted { keys[$0] < keys[$1] }
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
            for index in Self.sortedIndices(pairs) {
                write(pairs[index].key)
                write(pairs[index].value)
            }
        }
    }

    /// Appends a rendered spec, using the template's plans for every top-level entry it rendered.
    ///
    /// The spec holds the template's entries in order, after a `target` the renderer may have put first.
    mutating func write(spec: Node, template: CompiledTemplate) {
        let plans = template.canonicalPlans
        guard case .mapping(let pairs) = spec.value, pairs.count - plans.count == 0 || pairs.count - plans.count == 1
        else { return write(spec) }
        let offset = pairs.count - plans.count
        tag("{"); number(pairs.count)
        let order = offset == 0 ? template.canonicalOrder : template.canonicalOrderWithTarget
        for index in order ?? Self.sortedIndices(pairs) {
            write(pairs[index].key)
            if index < offset { write(pairs[index].value) } else { write(pairs[index].value, plan: plans[index - offset]) }
        }
    }

    /// Appends a node, taking bytes from the plan where the template had no references.
    mutating func write(_ node: Node, plan: CanonicalPlan) {
        switch plan {
        case .bytes(let ready):
            bytes.append(contentsOf: ready)
        case .rendered:
            write(node)
        case .sequence(let plans):
            guard case .sequence(let items) = node.value, items.count == plans.count else { return write(node) }
            tag("["); number(items.count)
            for index in items.indices { write(items[index], plan: plans[index]) }
        case .mapping(let order, let plans):
            guard case .mapping(let pairs) = node.value, pairs.count == plans.count else { return write(node) }
            tag("{"); number(pairs.count)
            for index in order ?? Self.sortedIndices(pairs) {
                write(pairs[index].key)
                write(pairs[index].value, plan: plans[index])
            }
        }
    }

    /// Appends a string map as a mapping with sorted keys.
    mutating func write(labels: [String: String]) {
        write(sortedLabels: labels.sorted(by: { $0.key < $1.key }))
    }

    /// Appends string pairs, already sorted by key, as a mapping.
    mutating func write(sortedLabels labels: [(key: String, value: String)]) {
        tag("{"); number(labels.count)
        for (key, value) in labels {
            write(string: key)
            write(string: value)
        }
    }

    private static func sortedIndices(_ pairs: [Node.Pair]) -> [Int] {
        pairs.indices.sorted { pairs[$0].key.scalarText < pairs[$1].key.scalarText }
    }

    private mutating func write(string: String) {
        tag("s"); number(string.utf8.count)
        bytes.append(contentsOf: string.utf8)
    }

    private mutating func tag(_ scalar: Unicode.Scalar) { bytes.append(UInt8(ascii: scalar)) }

    /// Decimal digits and `;`, written without building a String.
    private mutating func number(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var divisor: UInt = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        }
        bytes.append(UInt8(ascii: ";"))
    }
}
