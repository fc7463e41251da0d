import CYAML

// Writing goes through libyaml's event API so that indentation, escaping and the "is plain style
// safe here?" analysis are libyaml's own: go-yaml is a port of the same emitter, so the output
// looks like kubectl's. Cairn decides only what libyaml cannot know: which strings would read back
// as something else.

extension YAML {
    /// Writes one node as a YAML document in kubectl's block style, ending with a newline.
    public static func emit(_ node: Node) -> String { emitStream([node]) }

    /// Writes nodes as a stream of YAML documents separated by `---`; no nodes give "".
    public static func emitStream(_ nodes: [Node]) -> String {
        let writer = EventWriter()
        writer.streamStart()
        for node in nodes {
            writer.documentStart()
            writer.node(node)
            writer.documentEnd()
        }
        writer.streamEnd()
        return String(decoding: writer.output, as: UTF8.self)
    }

    /// Whether a string must be quoted so that it reads back as that string and not as another
    /// type, as YAML 1.1 readers (kubectl, go-yaml, PyYAML) resolve plain scalars.
    static func needsQuotes(_ s: String) -> Bool {
        guard case .string = resolveScalar(s) else { return true }
        return looksLikeYAML11Only(s)
    }

    /// Scalars that Cairn's resolver reads as strings but other YAML 1.1 readers do not; go-yaml
    /// quotes the same ones, which is why kubectl prints `creationTimestamp: "2024-..."`.
    private static func looksLikeYAML11Only(_ s: String) -> Bool {
        guard let first = s.utf8.first else { return false }
        if first == UInt8(ascii: "<") { return s == "<<" }  // a merge key when plain
        guard first.isASCIIDigit || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") else { return false }
        return isTimestampPrefix(Array(s.utf8.prefix(32))) || isBase60Number(s)
    }

    /// `YYYY-M-D`, alone or followed by a time: YAML 1.1's `!!timestamp`.
    private static func isTimestampPrefix(_ b: [UInt8]) -> Bool {
        guard b.count >= 8, b[0..<4].allSatisfy(\.isASCIIDigit), b[4] == UInt8(ascii: "-") else { return false }
        var i = 5
        for part in 0..<2 {
            let start = i
            while i < b.count, i - start < 2, b[i].isASCIIDigit { i += 1 }
            guard i > start else { return false }
            if part == 0 {
                guard i < b.count, b[i] == UInt8(ascii: "-") else { return false }
                i += 1
            }
        }
        return i == b.count || [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(b[i])
    }

    /// `1:20`, `-3:25:45.5`: YAML 1.1's sexagesimal integers and floats.
    private static func isBase60Number(_ s: String) -> Bool {
        var rest = Substring(s)
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        var groups = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard groups.count >= 2, let last = groups.popLast() else { return false }
        let head = groups.removeFirst()
        guard let lead = head.first, lead.isASCII, lead.isNumber,
            head.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") })
        else { return false }
        let isSixty = { (g: Substring) in g.count <= 2 && !g.isEmpty && g.allSatisfy { $0.isASCII && $0.isNumber } && Int(g)! < 60 }
        guard groups.allSatisfy(isSixty) else { return false }
        let whole = last.prefix { $0 != "." }
        let fraction = last.dropFirst(whole.count)
        return isSixty(whole) && fraction.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_" || $0 == ".") }
    }
}

extension Double {
    /// The shortest text that reads back as exactly this finite value, always with a `.` so YAML
    /// and JSON readers see a float: `1.0`, `0.1`, `1.0e+20`.
    var roundTripText: String {
        let text = description
        guard let e = text.utf8.firstIndex(of: UInt8(ascii: "e")) else { return text }
        if text.utf8[..<e].contains(UInt8(ascii: ".")) { return text }
        return String(text[..<e]) + ".0" + String(text[e...])
    }
}

extension UInt8 {
    /// Whether the byte is `0` to `9`.
    var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}

/// One libyaml emitter writing into a Swift byte buffer.
///
/// Every event is built here from a `Node`, so libyaml rejecting one is a bug in this file, not a
/// problem with the input: the checks below stop the program rather than return broken YAML.
private final class EventWriter {
    private let emitter = UnsafeMutablePointer<yaml_emitter_t>.allocate(capacity: 1)
    fileprivate var output: [UInt8] = []

    init() {
        guard yaml_emitter_initialize(emitter) == 1 else { preconditionFailure("libyaml: out of memory") }
        yaml_emitter_set_output(
            emitter,
            { data, buffer, size in
                guard let data, let buffer else { return 0 }
                let writer = Unmanaged<EventWriter>.fromOpaque(data).takeUnretainedValue()
                writer.output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, Unmanaged.passUnretained(self).toOpaque())
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_indent(emitter, 2)
        yaml_emitter_set_width(emitter, -1)  // never fold long strings
        yaml_emitter_set_break(emitter, YAML_LN_BREAK)
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
    }

    func streamStart() { send { yaml_stream_start_event_initialize($0, YAML_UTF8_ENCODING) } }
    func streamEnd() { send { yaml_stream_end_event_initialize($0) } }
    // libyaml writes `---` itself before every document but the first.
    func documentStart() { send { yaml_document_start_event_initialize($0, nil, nil, nil, 1) } }
    func documentEnd() { send { yaml_document_end_event_initialize($0, 1) } }

    /// A non-empty sequence or mapping being written; a mapping's children alternate key, value.
    private struct Open {
        var items: [Node] = []
        var pairs: [Node.Pair] = []
        var isMapping: Bool
        var next = 0
        var count: Int { isMapping ? 2 * pairs.count : items.count }

        func child(_ i: Int) -> Node {
            guard isMapping else { return items[i] }
            return i.isMultiple(of: 2) ? pairs[i / 2].key : pairs[i / 2].value
        }
    }

    /// Sends a tree's events with a stack of its own rather than recursion, so that depth is
    /// bounded by memory and not by the small stacks of task threads.
    func node(_ root: Node) {
        var stack: [Open] = []
        var node = root
        while true {
            if let open = begin(node) { stack.append(open) }
            // Move to the next node to send, closing the collections that are done.
            while true {
                guard let top = stack.indices.last else { return }
                let i = stack[top].next
                if i == stack[top].count {
                    if stack.removeLast().isMapping { mappingEnd() } else { sequenceEnd() }
                    continue
                }
                stack[top].next += 1
                node = stack[top].child(i)
                break
            }
        }
    }

    /// Sends a scalar, or the start of a collection, which comes back unless it is empty.
    private func begin(_ node: Node) -> Open? {
        switch node.value {
        case .null: scalar("null", style: YAML_PLAIN_SCALAR_STYLE)
        case .bool(let b): scalar(b ? "true" : "false", style: YAML_PLAIN_SCALAR_STYLE)
        case .int(let i): scalar(String(i), style: YAML_PLAIN_SCALAR_STYLE)
        case .double(let d): scalar(yamlText(d), style: YAML_PLAIN_SCALAR_STYLE)
        case .string(let s): scalar(s, style: style(for: s), isString: true)
        case .sequence(let items):
            // Empty collections are written in flow style, `[]` and `{}`, as kubectl does.
            let style = items.isEmpty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
            send { yaml_sequence_start_event_initialize($0, nil, nil, 1, style) }
            if !items.isEmpty { return Open(items: items, isMapping: false) }
            sequenceEnd()
        case .mapping(let pairs):
            let style = pairs.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
            send { yaml_mapping_start_event_initialize($0, nil, nil, 1, style) }
            if !pairs.isEmpty { return Open(pairs: pairs, isMapping: true) }
            mappingEnd()
        }
        return nil
    }

    private func sequenceEnd() { send { yaml_sequence_end_event_initialize($0) } }
    private func mappingEnd() { send { yaml_mapping_end_event_initialize($0) } }

    private func yamlText(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        return d.roundTripText
    }

    /// The style to ask libyaml for; it may still pick a safer one (single quotes for `- x` or
    /// `a: b`, double quotes for a multi-line key), which reads back the same.
    private func style(for s: String) -> yaml_scalar_style_t {
        var hasNewline = false
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x0A: hasNewline = true
            // A block scalar would read these back as \n; only escapes keep them.
            case 0x0D, 0x85, 0x2028, 0x2029: return YAML_DOUBLE_QUOTED_SCALAR_STYLE
            default: continue
            }
        }
        if hasNewline { return YAML_LITERAL_SCALAR_STYLE }
        return YAML.needsQuotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE
    }

    /// Sends a scalar. The implicit flags tell libyaml which styles read back as the intended
    /// type without a tag: a string in any style but plain-when-ambiguous, a non-string only plain.
    private func scalar(_ text: String, style: yaml_scalar_style_t, isString: Bool = false) {
        var text = text
        let plainImplicit: Int32 = style == YAML_PLAIN_SCALAR_STYLE ? 1 : 0
        let quotedImplicit: Int32 = isString ? 1 : 0
        text.withUTF8 { bytes in
            // libyaml asserts a non-null value pointer, even for "".
            withUnsafePointer(to: UInt8(0)) { empty in
                send {
                    yaml_scalar_event_initialize(
                        $0, nil, nil, bytes.baseAddress ?? empty, Int32(bytes.count),
                        plainImplicit, quotedImplicit, style)
                }
            }
        }
    }

    private func send(_ initialize: (UnsafeMutablePointer<yaml_event_t>) -> Int32) {
        var event = yaml_event_t()
        guard initialize(&event) == 1 else { preconditionFailure("libyaml: could not build an event") }
        // yaml_emitter_emit takes ownership of the event, also when it fails.
        guard yaml_emitter_emit(emitter, &event) == 1 else {
            let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "unknown problem"
            preconditionFailure("libyaml emitter rejected an event: \(problem)")
        }
    }
}
