import Testing
import YAML

@Suite struct JSONTests {
    // MARK: Reading

    @Test func givenAPIList_whenParsed_thenTreeKeepsOrderTypesStylesAndPositions() throws {
        let text = """
            {
              "apiVersion": "v1",
              "items": [
                {"metadata": {"name": "é😀", "generation": 3}, "ratio": 0.5, "ok": true, "gone": null}
              ],
              "kind": "List"
            }
            """
        let doc = try JSON.parse(text, file: "list.json")
        #expect(doc.mapping?.map(\.key.scalarText) == ["apiVersion", "items", "kind"])
        let item = try #require(doc["items"]?.sequence?.first)
        #expect(item[path: "metadata", "name"] == "é😀")
        #expect(item[path: "metadata", "generation"]?.value == .int(3))
        #expect(item["ratio"]?.value == .double(0.5))
        #expect(item["ok"] == true)
        #expect(item["gone"]?.isNull == true)
        #expect(doc.mark == Mark(line: 1, column: 1))
        #expect(doc["items"]?.mark == Mark(line: 3, column: 12))
        #expect(item.mark == Mark(line: 4, column: 5))
        #expect(item.mapping?[1].key.mark == Mark(line: 4, column: 51))  // "ratio", after 2 non-ASCII scalars
        #expect(item["ratio"]?.mark == Mark(line: 4, column: 60))
        #expect(doc["kind"]?.style == .quoted)
        #expect(doc.mapping?[2].key.style == .quoted)
        #expect(item["ok"]?.style == .plain)
        #expect(Self.unmarked(doc).isEmpty)
    }

    /// Paths of nodes without a mark; every node the reader makes should have one.
    static func unmarked(_ node: Node, path: String = "$") -> [String] {
        var missing = node.mark == nil ? [path] : []
        switch node.value {
        case .sequence(let items):
            for (i, item) in items.enumerated() { missing += unmarked(item, path: "\(path)[\(i)]") }
        case .mapping(let pairs):
            for pair in pairs {
                missing += unmarked(pair.key, path: "\(path).key(\(pair.key.scalarText))")
                missing += unmarked(pair.value, path: "\(path).\(pair.key.scalarText)")
            }
        default: break
        }
        return missing
    }

    static let numbers: [(String, Node.Value)] = [
        ("0", .int(0)), ("-0", .int(0)), ("7", .int(7)), ("-42", .int(-42)),
        ("9223372036854775807", .int(Int.max)), ("-9223372036854775808", .int(Int.min)),
        ("9223372036854775808", .double(0x1p63)),
        ("-9223372036854775809", .double(-0x1p63)),
        ("1.0", .double(1)), ("1.5", .double(1.5)), ("-0.25", .double(-0.25)), ("1e3", .double(1000)),
        ("1E+2", .double(100)), ("2e-3", .double(0.002)), ("0.1", .double(0.1)), ("1.0e+20", .double(1e20)),
        ("5e-324", .double(.leastNonzeroMagnitude)), ("1e-400", .double(0)),
    ]

    @Test("Given a JSON number, when parsed, then integers are ints and the rest doubles", arguments: numbers)
    func givenNumber_whenParsed_thenIntOrDouble(text: String, expected: Node.Value) throws {
        #expect(try JSON.parse(text).value == expected)
        #expect(try JSON.parse("[\(text)]").sequence?.first?.value == expected)
    }

    static let strings: [(String, String)] = [
        (#""""#, ""), (#""plain""#, "plain"), (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        (#""\u00e9\u00E9""#, "éé"), (#""\ud83d\ude00""#, "😀"), (#""a\u0000b""#, "a\u{0}b"),
        (#""\u2028""#, "\u{2028}"), (#""é😀 raw""#, "é😀 raw"), (#""mixed é \n then \u4e2d""#, "mixed é \n then 中"),
    ]

    @Test("Given a JSON string, when parsed, then escapes are decoded", arguments: strings)
    func givenString_whenParsed_thenEscapesDecoded(text: String, expected: String) throws {
        let node = try JSON.parse(text)
        #expect(node.string == expected)
        #expect(node.style == .quoted)
    }

    @Test func givenByteOrderMarkAndCRLF_whenParsed_thenPositionsCountFromAfterIt() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("{\r\n  \"a\": [1,\r\n x]}".utf8)
        let error = #expect(throws: YAMLError.self) { try JSON.parse(bytes) }
        #expect(error?.mark == Mark(line: 3, column: 2))
        #expect(try JSON.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == [1])
    }

    static let malformed: [(String, Int, Int, String)] = [
        ("", 1, 1, "empty input: expected a JSON value"),
        ("  \n ", 2, 2, "empty input: expected a JSON value"),
        ("{", 1, 2, "expected a string key in double quotes, found end of input"),
        ("{\"a\" 1}", 1, 6, "expected ':' after object key \"a\", found '1'"),
        ("{\"a\":}", 1, 6, "expected a JSON value, found '}'"),
        ("{\"a\":1,}", 1, 8, "expected a string key in double quotes, found '}'"),
        ("{'a':1}", 1, 2, "expected a string key in double quotes, found '''"),
        ("{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}' after object member, found '\"'"),
        ("[1,]", 1, 4, "expected a JSON value, found ']'"),
        ("[1\n  2]", 2, 3, "expected ',' or ']' after array element, found '2'"),
        ("[\n", 2, 1, "unexpected end of input: expected a JSON value"),
        ("[1]x", 1, 4, "expected the end of input after the JSON value, found 'x'"),
        ("{} {}", 1, 4, "expected the end of input after the JSON value, found '{'"),
        ("01", 1, 2, "a JSON number cannot start with 0 followed by digits (octal is not JSON)"),
        ("-", 1, 2, "expected a digit after '-', found end of input"),
        ("1.", 1, 3, "expected a digit after '.', found end of input"),
        ("1.e5", 1, 3, "expected a digit after '.', found 'e'"),
        ("1e", 1, 3, "expected a digit after the exponent, found end of input"),
        ("[1e400]", 1, 2, "the number 1e400 is too large for a 64-bit float"),
        ("-1.5e309", 1, 1, "the number -1.5e309 is too large for a 64-bit float"),
        ("+1", 1, 1, "expected a JSON value, found '+'"),
        (".5", 1, 1, "expected a JSON value, found '.'"),
        ("NaN", 1, 1, "expected a JSON value, found 'N'"),
        ("tru", 1, 1, "expected a JSON value (true, false or null?), found 't'"),
        ("nul", 1, 1, "expected a JSON value (true, false or null?), found 'n'"),
        ("[é]", 1, 2, "expected a JSON value, found 'é'"),
        ("\"abc", 1, 5, "unterminated string: the string that starts at 1:1 has no closing '\"'"),
        ("[\"é\\", 1, 5, "unterminated string: the string that starts at 1:2 has no closing '\"'"),
        ("\"a\nb\"", 1, 3, "a line break inside a string; write it as an escape such as \\n or \\u00XX"),
        ("\"a\tb\"", 1, 3, "control character U+0009 inside a string; write it as an escape such as \\n or \\u00XX"),
        ("\"\\q\"", 1, 2, "invalid escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX after '\\', found 'q'"),
        ("\"\\u12G4\"", 1, 6, "expected 4 hex digits after \\u, found 'G'"),
        ("\"é\\ud800\"", 1, 3, "lone surrogate \\uD800 needs a low surrogate \\uDC00-\\uDFFF after it"),
        ("\"\\ud800\\u0041\"", 1, 2, "high surrogate \\uD800 is followed by \\u0041, not a low surrogate"),
        ("\"\\udc00\"", 1, 2, "lone low surrogate \\uDC00 without a high surrogate before it"),
    ]

    @Test("Given malformed JSON, when parsed, then a syntax error with file, line, column and what was expected",
        arguments: malformed)
    func givenMalformedJSON_whenParsed_thenSyntaxError(text: String, line: Int, column: Int, message: String) {
        let error = #expect(throws: YAMLError.self) { try JSON.parse(text, file: "bad.json") }
        #expect(error?.kind == .syntax)
        #expect(error?.description == "bad.json:\(line):\(column): \(message)")
        // Bytes and text give the same answer.
        let fromBytes = #expect(throws: YAMLError.self) { try JSON.parse(Array(text.utf8), file: "bad.json") }
        #expect(fromBytes?.description == error?.description)
    }

    static let binary: [([UInt8], Int, Int, String)] = [
        ([0x7B, 0x22, 0x61, 0x00, 0x22], 1, 4, "NUL byte"),
        ([0x5B, 0x31, 0x2C, 0x0A, 0x20, 0x00], 2, 2, "NUL byte"),
        ([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00], 1, 7, "NUL byte"),
        ([0x22, 0xC3, 0x28, 0x22], 1, 2, "invalid UTF-8 byte 0xC3"),
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1, 2, "invalid UTF-8 byte 0xED"),  // an encoded surrogate
        ([0x22, 0xC0, 0xAF, 0x22], 1, 2, "invalid UTF-8 byte 0xC0"),  // overlong "/"
        ([0x5B, 0xFF, 0x5D], 1, 2, "invalid UTF-8 byte 0xFF"),
        ([0xFF, 0xFE, 0x5B, 0x00, 0x5D, 0x00], 1, 1, "UTF-16"),
    ]

    @Test("Given binary or non-UTF-8 input, when parsed, then a not-text error at the offending byte",
        arguments: binary)
    func givenBinaryInput_whenParsed_thenNotTextError(bytes: [UInt8], line: Int, column: Int, fragment: String) {
        let error = #expect(throws: YAMLError.self) { try JSON.parse(bytes, file: "blob") }
        #expect(error?.kind == .notText)
        #expect(error?.mark == Mark(line: line, column: column))
        #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
    }

    @Test func givenDuplicateKey_whenParsed_thenErrorNamesBothPositions() {
        let error = #expect(throws: YAMLError.self) {
            try JSON.parse("{\n  \"name\": \"a\",\n  \"labels\": {},\n  \"name\": \"b\"\n}", file: "dup.json")
        }
        #expect(error?.kind == .duplicateKey)
        #expect(error?.description == "dup.json:4:3: duplicate key \"name\" (first defined at 2:3); remove one of them")
    }

    @Test func givenDuplicateKeyInLargeObject_whenParsed_thenFoundThroughTheIndex() {
        let members = (0..<100).map { "\"k\($0)\": \($0)" } + ["\"k42\": 0"]
        let error = #expect(throws: YAMLError.self) { try JSON.parse("{" + members.joined(separator: ",\n") + "}") }
        #expect(error?.kind == .duplicateKey)
        #expect(error?.mark == Mark(line: 101, column: 1))
        #expect(error?.message.contains("first defined at 43:1") == true)
    }

    @Test func givenKeysThatDifferOnlyInNormalization_whenParsed_thenBothAreKept() throws {
        // RFC 8259 compares keys by code point; Swift's == would call these equal.
        let small = try JSON.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(small.mapping?.count == 2)
        let members = (0..<20).map { "\"k\($0)\": \($0)" } + ["\"\u{E9}\": 1", "\"e\u{301}\": 2"]
        #expect(try JSON.parse("{" + members.joined(separator: ",") + "}").mapping?.count == 22)
    }

    @Test func givenNestingAtTheLimit_whenParsed_thenItReads_andOneDeeperFails() throws {
        let depth = JSON.maxDepth
        let deep = try JSON.parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        #expect(deep.nodeCount == depth)
        let text = String(repeating: "{\"a\":", count: depth) + "[]" + String(repeating: "}", count: depth)
        let error = #expect(throws: YAMLError.self) { try JSON.parse(text, file: "deep.json") }
        #expect(error?.kind == .depthLimit)
        #expect(error?.mark == Mark(line: 1, column: 5 * depth + 1))
    }

    @Test func givenTreeAtTheDepthLimit_whenEmitted_thenBothWritersCope() throws {
        var tree: Node = 1
        for i in 0..<JSON.maxDepth { tree = i.isMultiple(of: 2) ? [tree] : .mapping(["a": tree]) }
        let json = try JSON.emit(tree)
        // Compared as text: Node's own == recurses, and this deep it would overflow a task's stack.
        #expect(try JSON.emit(JSON.parse(json)) == json)
        #expect(YAML.emit(tree).hasPrefix("a:\n- a:\n  - a:\n"))
    }

    // MARK: Writing

    static let manifest: Node = .mapping([
        "kind": "List",
        "items": [.mapping(["name": "db", "replicas": 2, "ratio": 1.0, "on": true, "none": nil, "empty": [], "map": .mapping([:])])],
        "text": "quote \" backslash \\ tab \t nl \n ctl \u{1} del \u{7F} c1 \u{85} é 😀 \u{2028} \u{FFFE}",
    ])

    @Test func givenTree_whenEmittedCompact_thenOneLineWithoutSpacesAndYAMLSafeEscapes() throws {
        #expect(
            try JSON.emit(Self.manifest)
                == #"{"kind":"List","items":[{"name":"db","replicas":2,"ratio":1.0,"on":true,"none":null,"empty":[],"map":{}}],"text":"quote \" backslash \\ tab \t nl \n ctl \u0001 del \u007f c1 \u0085 é 😀 \u2028 \ufffe"}"#)
    }

    @Test func givenTree_whenEmittedPretty_thenItLooksLikeKubectlJSON() throws {
        #expect(
            try JSON.emit(Self.manifest, pretty: true) == """
                {
                    "kind": "List",
                    "items": [
                        {
                            "name": "db",
                            "replicas": 2,
                            "ratio": 1.0,
                            "on": true,
                            "none": null,
                            "empty": [],
                            "map": {}
                        }
                    ],
                    "text": "quote \\" backslash \\\\ tab \\t nl \\n ctl \\u0001 del \\u007f c1 \\u0085 é 😀 \\u2028 \\ufffe"
                }
                """)
        #expect(try JSON.emit([], pretty: true) == "[]")
        #expect(try JSON.emit("x", pretty: true) == "\"x\"")
    }

    static let doubles: [(Double, String)] = [
        (1, "1.0"), (-2, "-2.0"), (0, "0.0"), (-0.0, "-0.0"), (0.1, "0.1"), (1.5e-7, "1.5e-07"), (1e20, "1.0e+20"),
        (123456789012345680, "1.2345678901234568e+17"), (.leastNonzeroMagnitude, "5.0e-324"),
        (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
    ]

    @Test("Given a double, when emitted, then the shortest text that reads back as a double", arguments: doubles)
    func givenDouble_whenEmitted_thenShortestRoundTripText(value: Double, expected: String) throws {
        #expect(try JSON.emit(.double(value)) == expected)
        let back = try JSON.parse(expected)
        #expect(back.value == .double(value))
    }

    static let unrepresentable: [(Node, String)] = [
        (.mapping(["spec": .mapping(["x": [1, 2, .double(.nan)]])]), "NaN at spec.x[2] has no JSON form"),
        (.mapping(["a.b": [.double(.infinity)]]), "Infinity at [a.b][0] has no JSON form"),
        (.double(-.infinity), "-Infinity at the document root has no JSON form"),
        (.mapping([Node.Pair(key: [1], value: 1)]), "a sequence key at the document root has no JSON form"),
        (.mapping(["m": .mapping([Node.Pair(key: 1, value: "a"), Node.Pair(key: "1", value: "b")])]),
            "two keys at m both become \"1\" in JSON"),
    ]

    @Test("Given a value JSON cannot hold, when emitted, then an unrepresentable error names the path",
        arguments: unrepresentable)
    func givenUnrepresentableValue_whenEmitted_thenErrorNamesPath(node: Node, fragment: String) {
        let error = #expect(throws: YAMLError.self) { try JSON.emit(node) }
        #expect(error?.kind == .unrepresentable)
        #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
    }

    @Test func givenNonStringKeys_whenEmitted_thenKeysBecomeTheirScalarText() throws {
        let node = Node.mapping([
            Node.Pair(key: 1, value: "a"), Node.Pair(key: true, value: "b"), Node.Pair(key: nil, value: "c"),
            Node.Pair(key: 2.5, value: "d"),
        ])
        #expect(try JSON.emit(node) == #"{"1":"a","true":"b","null":"c","2.5":"d"}"#)
    }

    // MARK: Round trips

    @Test func givenRandomTrees_whenEmittedAndParsed_thenUnchanged() throws {
        var generator = TreeGenerator(seed: 0xCA1B_1001, jsonOnly: true)
        for round in 0..<3_000 {
            let tree = generator.tree()
            for pretty in [false, true] {
                let text = try JSON.emit(tree, pretty: pretty)
                #expect(try JSON.parse(text) == tree, "round \(round), emitted:\n\(text)")
            }
        }
    }

    @Test func givenRandomTrees_whenEmittedAsJSON_thenTheYAMLParserReadsTheSameTree() throws {
        // kubectl accepts JSON wherever it accepts YAML; Cairn's two readers must agree on it.
        var generator = TreeGenerator(seed: 0xCA1B_1002, jsonOnly: true)
        for round in 0..<1_000 {
            let tree = generator.tree()
            let text = try JSON.emit(tree, pretty: round.isMultiple(of: 2))
            #expect(try YAML.parse(text) == tree, "round \(round), emitted:\n\(text)")
        }
    }

    @Test func givenParsedYAML_whenConvertedToJSONAndBack_thenUnchanged() throws {
        let yaml = "a: [1, 2.5, yes, ~, \"007\"]\nb:\n  c: |\n    text\n"
        let tree = try YAML.parse(yaml)
        #expect(try JSON.parse(JSON.emit(tree)) == tree)
        #expect(try YAML.parse(YAML.emit(JSON.parse(JSON.emit(tree)))) == tree)
    }
}
