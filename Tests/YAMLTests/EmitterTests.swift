import Testing
import YAML

@Suite struct EmitterTests {
    @Test func givenKubernetesManifest_whenEmitted_thenItReadsLikeKubectlOutput() {
        let manifest: Node = .mapping([
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": .mapping([
                "name": "db",
                "labels": .mapping([:]),
                "annotations": .mapping([
                    "variables.cairn.dev/schedule": "30 1 * * *",
                    "variables.cairn.dev/keep": "7",
                ]),
                "creationTimestamp": "2026-11-21T01:30:00Z",
            ]),
            "spec": .mapping([
                "replicas": 2,
                "paused": false,
                "ratio": 1.0,
                "selector": nil,
                "template": .mapping([
                    "containers": [
                        .mapping([
                            "name": "postgres",
                            "args": ["-c", "max_connections=100", "on"],
                            "command": [],
                            "script": "pg_dump --clean\nexit 0\n",
                        ])
                    ]
                ]),
            ]),
        ])
        #expect(
            YAML.emit(manifest) == """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: db
                  labels: {}
                  annotations:
                    variables.cairn.dev/schedule: 30 1 * * *
                    variables.cairn.dev/keep: "7"
                  creationTimestamp: "2026-11-21T01:30:00Z"
                spec:
                  replicas: 2
                  paused: false
                  ratio: 1.0
                  selector: null
                  template:
                    containers:
                    - name: postgres
                      args:
                      - -c
                      - max_connections=100
                      - "on"
                      command: []
                      script: |
                        pg_dump --clean
                        exit 0

                """)
    }

    static let stringStyles: [(String, String)] = [
        ("hello", "hello"), ("30 1 * * *", "30 1 * * *"), ("héllo wörld ✓", "héllo wörld ✓"),
        // What the resolver would read as another type is double-quoted.
        ("true", #""true""#), ("yes", #""yes""#), ("y", #""y""#), ("off", #""off""#), ("007", #""007""#),
        ("1e3", #""1e3""#), ("", #""""#), ("null", #""null""#), ("~", #""~""#), ("0x1F", #""0x1F""#),
        (".inf", #"".inf""#), ("1_000", #""1_000""#),
        // Read as strings by Cairn, but not by every YAML 1.1 reader; kubectl quotes them too.
        ("2026-11-21", #""2026-11-21""#), ("1:20", #""1:20""#), ("<<", #""<<""#),
        // libyaml refuses plain style for indicators and falls back to single quotes, as kubectl does.
        ("- x", "'- x'"), ("a: b", "'a: b'"), ("#x", "'#x'"), (" padded ", "' padded '"), ("*ref", "'*ref'"),
        // Characters that need escapes force double quotes.
        ("a\tb", #""a\tb""#), ("a\r\nb", #""a\r\nb""#), ("line\u{2028}sep", #""line\Lsep""#),
        // Multi-line text is a literal block, with chomping and indentation indicators as needed.
        ("a\nb", "|-\n  a\n  b"), ("a\nb\n", "|\n  a\n  b"), ("  x\ny", "|2-\n    x\n  y"),
    ]

    @Test("Given a string, when emitted, then it has the expected style", arguments: stringStyles)
    func givenString_whenEmitted_thenExpectedStyle(value: String, expected: String) throws {
        let text = YAML.emit(.mapping(["k": .string(value)]))
        #expect(text == "k: \(expected)\n")
        #expect(try YAML.parse(text)["k"] == .string(value))
    }

    static let scalars: [(Node, String)] = [
        (nil, "null"), (true, "true"), (false, "false"), (0, "0"), (-42, "-42"),
        (.int(Int.max), "9223372036854775807"), (.int(Int.min), "-9223372036854775808"),
        (1.0, "1.0"), (-0.5, "-0.5"), (0.1, "0.1"), (1e20, "1.0e+20"), (1.5e-7, "1.5e-07"),
        (.double(.leastNonzeroMagnitude), "5.0e-324"), (.double(.infinity), ".inf"), (.double(-.infinity), "-.inf"),
        (.double(.nan), ".nan"),
    ]

    @Test("Given a non-string scalar, when emitted, then it is plain and reads back as its type", arguments: scalars)
    func givenNonStringScalar_whenEmitted_thenPlainAndSameType(node: Node, expected: String) throws {
        let text = YAML.emit(node)
        #expect(text == "\(expected)\n")
        let back = try YAML.parse(text)
        #expect(back == node)
        #expect(back.typeName == node.typeName)
    }

    @Test func givenLongString_whenEmitted_thenItIsNeverFolded() throws {
        let long = Array(repeating: "word", count: 200).joined(separator: " ")
        let text = YAML.emit(.mapping(["description": .string(long)]))
        #expect(text == "description: \(long)\n")
    }

    @Test func givenStream_whenEmitted_thenDocumentsAreSeparatedByDashes() throws {
        let docs: [Node] = [.mapping(["a": 1]), ["x", "z"], "text", .mapping([:])]
        let text = YAML.emitStream(docs)
        #expect(text == "a: 1\n---\n- x\n- z\n--- text\n--- {}\n")
        #expect(try YAML.parseStream(text) == docs)
    }

    @Test func givenNoDocuments_whenEmitted_thenEmptyText() throws {
        #expect(YAML.emitStream([]) == "")
        #expect(try YAML.parseStream("").isEmpty)
    }

    @Test func givenNonStringKeys_whenEmitted_thenScalarKeysThatReadBackWithTheirTypes() throws {
        let node = Node.mapping([
            Node.Pair(key: 1, value: "one"), Node.Pair(key: "1", value: "string one"),
            Node.Pair(key: true, value: "t"), Node.Pair(key: nil, value: "none"), Node.Pair(key: 2.5, value: "d"),
        ])
        let text = YAML.emit(node)
        #expect(text == "1: one\n\"1\": string one\ntrue: t\nnull: none\n2.5: d\n")
        #expect(try YAML.parse(text) == node)
    }

    @Test func givenKeysThatCannotBeSimple_whenEmitted_thenExplicitKeysRoundTrip() throws {
        let node = Node.mapping([
            Node.Pair(key: "multi\nline", value: 1),
            Node.Pair(key: .string(String(repeating: "k", count: 200)), value: 2),
            Node.Pair(key: [1, 2], value: 3),
        ])
        #expect(try YAML.parse(YAML.emit(node)) == node)
    }

    static let tricky: [Node] = [
        "", " ", "  ", "\n", "\n\n", "a\n\n", "\na", " a\nb", "a \nb", "a\n b", "\ta", "a\t", "tab\there\n",
        "-", "--", "---", "...", "- ", "? x", ":", "::", "a:", "a :b", "#", "a #b", "a#b", "@x", "`x", "%x",
        "!x", "&x", "*x", "|", ">", "'", "\"", "''", "\\", "\\n", "{a}", "[a]", "a,b", "a, b", "{", "}",
        "=", "<<", "0", "00", "08", "0.", ".0", "-0", "+0", "1e", "1e+", "1_000", "0b1", "0o8", "0x", "1:2",
        "1:2:3.5", "+1:00", "2026-1-2", "2026-01-02 10:00", "2026-01-02t1", "12345-1-1", ".inf", ".Inf",
        "-.inf", ".nan", "NaN", "inf", "Infinity", "Y", "N", "yES", "On", "oFF", "True", "FALSE", "Null",
        "é", "😀", "a😀b\n😀", "\u{FEFF}", "\u{FEFF}a", "\u{85}", "\u{2029}", "\u{0}", "\u{1}", "\u{7F}",
        "\u{A0}", "\u{FFFE}", "\u{E000}", "\r", "a\rb", "a\r\n", "x: |\n  y", "k: v\n- i", "trailing \n",
        .string(String(repeating: "long ", count: 100)), .string(String(repeating: "x\n", count: 50)),
        .double(-0.0), .double(.ulpOfOne), .double(.greatestFiniteMagnitude), .double(.leastNonzeroMagnitude),
        .double(123456789012345680), .double(1e15), .double(1e16), .double(-1e-5),
        .int(Int.min), .int(Int.max), [], [[]], [.mapping([:])], .mapping(["a": []]),
        .mapping(["a": [[1, [2, .mapping(["b": []])]]]]), ["", nil, "null", .null],
    ]

    @Test("Given a tricky value, when emitted and parsed, then it is unchanged", arguments: tricky)
    func givenTrickyValue_whenEmittedAndParsed_thenUnchanged(node: Node) throws {
        for shape in [node, .mapping(["key": node]), [node, node], .mapping([Node.Pair(key: node, value: 1)])] {
            let text = YAML.emit(shape)
            #expect(try YAML.parse(text) == shape, "emitted:\n\(text)")
        }
    }

    @Test func givenRandomTrees_whenEmittedAndParsed_thenUnchanged() throws {
        var generator = TreeGenerator(seed: 0xCA1B_0001)
        for round in 0..<3_000 {
            let tree = generator.tree()
            let text = YAML.emit(tree)
            let back = try YAML.parse(text)
            #expect(back == tree, "round \(round), emitted:\n\(text)")
            if back != tree { break }
        }
    }

    @Test func givenRandomStreams_whenEmittedAndParsed_thenEveryDocumentIsUnchanged() throws {
        var generator = TreeGenerator(seed: 0xCA1B_0002)
        for round in 0..<300 {
            let docs = (0..<generator.below(4)).map { _ in generator.tree() }
            let text = YAML.emitStream(docs)
            #expect(try YAML.parseStream(text) == docs, "round \(round), emitted:\n\(text)")
        }
    }
}

// MARK: - Random trees, shared with JSONTests

/// SplitMix64: tiny, fast, and the same sequence on every platform, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds random trees biased towards the values that break emitters: keywords, numbers as text,
/// indicators, whitespace at the edges, line breaks and non-ASCII text.
struct TreeGenerator {
    private var rng: SplitMix64
    /// Only what JSON can carry: string keys, finite numbers.
    let jsonOnly: Bool

    init(seed: UInt64, jsonOnly: Bool = false) {
        rng = SplitMix64(seed: seed)
        self.jsonOnly = jsonOnly
    }

    mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    /// A tree whose root is a collection, as a manifest's is; one in ten roots is a scalar.
    mutating func tree() -> Node {
        switch below(10) {
        case 0: scalar()
        case 1, 2, 3: .sequence((0..<below(6)).map { _ in node(depth: 1) })
        default: mapping(depth: 0)
        }
    }

    private mutating func node(depth: Int) -> Node {
        switch below(depth >= 5 ? 6 : 10) {
        case 6, 7: .sequence((0..<below(5)).map { _ in node(depth: depth + 1) })
        case 8, 9: mapping(depth: depth)
        default: scalar()
        }
    }

    private mutating func mapping(depth: Int) -> Node {
        var pairs: [Node.Pair] = []
        var seen: Set<String> = []
        for _ in 0..<below(6) {
            let key = jsonOnly || below(5) > 0 ? Node.string(string()) : keyScalar()
            // Keys must be distinct as the parser resolves them, so remember type and text.
            guard seen.insert("\(key.typeName):\(key.scalarText)").inserted else { continue }
            pairs.append(Node.Pair(key: key, value: node(depth: depth + 1)))
        }
        return .mapping(pairs)
    }

    private mutating func keyScalar() -> Node {
        switch below(3) {
        case 0: .int(integer())
        case 1: .bool(below(2) == 0)
        default: .null
        }
    }

    mutating func scalar() -> Node {
        switch below(10) {
        case 0: .null
        case 1: .bool(below(2) == 0)
        case 2, 3: .int(integer())
        case 4: .double(double())
        default: .string(string())
        }
    }

    private mutating func integer() -> Int {
        switch below(4) {
        case 0: [0, 1, -1, Int.max, Int.min, 511, 1000][below(7)]
        case 1: Int(truncatingIfNeeded: rng.next())
        default: below(2000) - 1000
        }
    }

    private mutating func double() -> Double {
        var specials: [Double] = [0, -0.0, 1, -1, 0.1, 1e20, 1e-7, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e16]
        if !jsonOnly { specials += [.infinity, -.infinity, .nan] }
        switch below(3) {
        case 0: return specials[below(specials.count)]
        case 1: return Double(below(100_000)) / 8
        default:
            let d = Double(bitPattern: rng.next())
            return d.isFinite ? d : 2.5
        }
    }

    private static let pieces: [String] = [
        "a", "b", "Z", "k8s", " ", "  ", "-", "- ", ":", ": ", "#", " #", "?", ",", "[", "]", "{", "}", "'",
        "\"", "\\", "|", ">", "&", "*", "!", "%", "@", "`", "~", "=", "<<", "---", "...", "\n", "\n\n", "\t",
        "\r", "\r\n", "true", "yes", "y", "N", "off", "null", "Null", "0", "07", "0x1F", "1e3", "1.5", ".5",
        "-1", "+1", "1_0", ".inf", ".nan", "1:30", "2026-11-21", "T10:00:00Z", "é", "ü", "ß", "✓", "中",
        "😀", "\u{85}", "\u{A0}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{1}", "\u{0}", "\u{7F}", "\u{FFFE}",
    ]

    mutating func string() -> String {
        var s = ""
        for _ in 0..<below(5) { s += Self.pieces[below(Self.pieces.count)] }
        return s
    }
}
