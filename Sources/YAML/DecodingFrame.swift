// Decoding is hot (every rendered spec and every watched object goes through it), so paths are
// kept as a parent-linked chain of frames and turned into a `FieldPath` only when an error or a
// caller's `codingPath` needs one; and the keys a type asked for are flags by pair position.

/// One step from a value to one of its children.
enum PathStep {
    /// The document root: no step.
    case root
    /// A mapping key.
    case key(any CodingKey)
    /// A sequence index.
    case index(Int)
}

/// Where a value sits: its parent's frame and the step from there.
struct Location {
    let parent: DecodingFrame?
    let step: PathStep

    /// The document root.
    static var root: Location { Location(parent: nil, step: .root) }

    /// The field path, built by walking the chain.
    var path: FieldPath {
        FieldPath(steps.compactMap { step in
            switch step {
            case .root: nil
            case .key(let key): .key(key.stringValue)
            case .index(let index): .index(index)
            }
        })
    }

    /// The coding path, as `Decoder.codingPath` reports it.
    var codingPath: [any CodingKey] {
        steps.compactMap { step in
            switch step {
            case .root: nil
            case .key(let key): key
            case .index(let index): AnyCodingKey(intValue: index)
            }
        }
    }

    /// The steps from the root down to this location.
    private var steps: [PathStep] {
        var steps = [step]
        var frame = parent
        while let current = frame {
            steps.append(current.step)
            frame = current.parent
        }
        return steps.reversed()
    }
}

/// One value being decoded by a `Decoder`: its node, its place, and which keys were asked for.
///
/// Not Sendable: one `decode` call, one thread.
final class DecodingFrame {
    /// Mappings up to this size are searched linearly; larger ones get a key index.
    private static let linearSearchLimit = 16

    let parent: DecodingFrame?
    let step: PathStep
    let node: Node
    let state: DecodingState
    /// The type being decoded, when the frame was made for one (not for `nestedContainer`).
    let type: Any.Type?
    /// The entries, when the node is a mapping.
    let pairs: [Node.Pair]
    /// Whether `state` already lists this frame for the unknown-field check.
    var isTracked = false
    private var usedBits: UInt64 = 0
    /// Flags past the first 64 entries; nil, and free to release, for nearly every mapping.
    private var usedBeyondBits: Set<Int>?
    private var keyIndex: [String: Int]?

    init(node: Node, at location: Location, state: DecodingState, type: Any.Type? = nil) {
        parent = location.parent
        step = location.step
        self.node = node
        self.state = state
        self.type = type
        if case .mapping(let pairs) = node.value { self.pairs = pairs } else { pairs = [] }
    }

    /// This frame's own location.
    var location: Location { Location(parent: parent, step: step) }

    /// A child location under this frame.
    func child(_ key: some CodingKey) -> Location { Location(parent: self, step: .key(key)) }

    /// A child location under this frame.
    func child(index: Int) -> Location { Location(parent: self, step: .index(index)) }

    /// The value under `key` (the first entry whose key reads as `key`), marking the key used.
    func value(for key: String) -> Node? {
        guard let position = position(of: key) else { return nil }
        markUsed(position)
        return pairs[position].value
    }

    /// Marks every entry used, as reading `allKeys` does.
    func markAllUsed() {
        for position in pairs.indices { markUsed(position) }
    }

    /// Whether the entry at `position` was asked for.
    func isUsed(_ position: Int) -> Bool {
        position < 64 ? usedBits & (1 << UInt64(position)) != 0 : usedBeyondBits?.contains(position) == true
    }

    /// Whether every entry was asked for.
    var allUsed: Bool {
        let small = min(pairs.count, 64)
        let mask: UInt64 = small == 64 ? .max : (1 << UInt64(small)) - 1
        return usedBits & mask == mask && (usedBeyondBits?.count ?? 0) == pairs.count - small
    }

    private func markUsed(_ position: Int) {
        if position < 64 {
            usedBits |= 1 << UInt64(position)
        } else {
            usedBeyondBits = (usedBeyondBits ?? []).union([position])
        }
    }

    private func position(of key: String) -> Int? {
        if pairs.count > Self.linearSearchLimit { return indexed()[key] }
        return search(key, in: pairs.indices)
    }

    private func search(_ key: String, in positions: Range<Int>) -> Int? {
        let length = key.utf8.count
        for position in positions {
            if case .string(let text) = pairs[position].key.value {
                // The length test is cheap and rejects nearly every other key.
                if text.utf8.count == length && text == key { return position }
            } else if pairs[position].key.scalarText == key {
                return position
            }
        }
        return nil
    }

    private func indexed() -> [String: Int] {
        if let keyIndex { return keyIndex }
        var index: [String: Int] = [:]
        for position in pairs.indices.reversed() { index[pairs[position].key.scalarText] = position }
        keyIndex = index
        return index
    }
}
