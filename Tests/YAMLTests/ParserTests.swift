import Testing
import YAML

@Suite struct ParserTests {
    @Test func givenKubernetesManifest_whenParsed_thenTreeKeepsOrderTypesAndPositions() throws {
        let text = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: db
              annotations:
                blueprint.cairn.dev/name: postgres-nightly
                variables.cairn.dev/keep: "7"
            spec:
              replicas: 2
              paused: no
              template:
                spec:
                  containers:
                  - name: postgres
                    args: [a, 1, true]
            """
        let doc = try YAML.parse(text, file: "db.yaml")
        #expect(doc.mapping?.map(\.key.scalarText) == ["apiVersion", "kind", "metadata", "spec"])
        #expect(doc[path: "spec", "replicas"] == 2)
        #expect(doc[path: "spec", "paused"] == false)
        #expect(doc[path: "metadata", "annotations", "variables.cairn.dev/keep"] == "7")
        let containers = try #require(doc[path: "spec", "template", "spec", "containers"]?.sequence)
        #expect(containers[0]["args"] == ["a", 1, true])
        #expect(doc[path: "metadata", "name"]?.mark == Mark(line: 4, column: 9))
        #expect(containers[0].mark == Mark(line: 14, column: 9))  // libyaml marks a block mapping at its first key
    }

    @Test func givenMultiDocumentStream_whenParsed_thenEveryDocumentComesBackIncludingEmptyOnes() throws {
        let docs = try YAML.parseStream("a: 1\n---\n---\nb: 2\n...\n---\n- x\n")
        #expect(docs.count == 4)
        #expect(docs[0]["a"] == 1)
        #expect(docs[1].isNull)
        #expect(docs[2]["b"] == 2)
        #expect(docs[3] == ["x"])
        #expect(try YAML.parseStream("").isEmpty)
        #expect(try YAML.parseStream("# only a comment\n").isEmpty)
    }

    @Test func givenOneExpectedDocument_whenStreamHasTwo_thenErrorSaysSo() {
        #expect(throws: YAMLError.self) { try YAML.parse("a: 1\n---\nb: 2\n") }
    }

    @Test func givenAnchorsAndAliases_whenParsed_thenAliasesExpandToTheAnchoredValue() throws {
        let doc = try YAML.parse("base: &b {x: 1, y: [2, 3]}\ncopy: *b\nlist: [&s hello, *s]\n")
        #expect(doc["copy"] == doc["base"])
        #expect(doc["list"] == ["hello", "hello"])
        #expect(doc["copy"]?.mark == Mark(line: 2, column: 7))
    }

    @Test func givenMergeKeys_whenParsed_thenExplicitKeysWinAndEarlierMergesWinOverLater() throws {
        let doc = try YAML.parse("""
            a: &a {p: 1, q: 1}
            b: &b {q: 2, r: 2}
            c:
              <<: [*a, *b]
              p: 9
            """)
        let c = try #require(doc["c"])
        #expect(c["p"] == 9)
        #expect(c["q"] == 1)
        #expect(c["r"] == 2)
        #expect(c.mapping?.count == 3)
    }

    @Test func givenYAML11BooleanKeys_whenParsed_thenTheyAreBooleansAsInKubernetes() throws {
        let doc = try YAML.parse("y: 1\nn: 2\n")
        #expect(doc.mapping?.map(\.key) == [true, false])
    }

    @Test func givenQuotedMergeKey_whenParsed_thenItIsAnOrdinaryKey() throws {
        let doc = try YAML.parse("\"<<\": 1\n")
        #expect(doc["<<"] == 1)
    }

    @Test func givenMergeOfAScalar_whenParsed_thenInvalidMergeError() {
        let error = #expect(throws: YAMLError.self) { try YAML.parse("a: &a 1\nb:\n  <<: *a\n") }
        #expect(error?.kind == .invalidMerge)
    }

    @Test func givenBillionLaughs_whenParsed_thenItFailsCleanlyWithAliasLimit() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let error = #expect(throws: YAMLError.self) { try YAML.parse(text, file: "bomb.yaml") }
        #expect(error?.kind == .aliasLimit)
        #expect(error?.description.hasPrefix("bomb.yaml:") == true)
        #expect(error?.description.contains("YAML bomb") == true)
    }

    @Test func givenModestAliasUse_whenParsed_thenWithinLimit() throws {
        var text = "a0: &a0 [1, 2, 3]\n"
        for i in 1...100 { text += "x\(i): *a0\n" }
        #expect(try YAML.parse(text).mapping?.count == 101)
    }

    @Test func givenCyclicAlias_whenParsed_thenCyclicAliasErrorWithPosition() {
        let error = #expect(throws: YAMLError.self) { try YAML.parse("a: &a\n  b: *a\n", file: "cycle.yaml") }
        #expect(error?.kind == .cyclicAlias)
        #expect(error?.mark == Mark(line: 2, column: 6))
        #expect(error?.description == "cycle.yaml:2:6: alias *a refers to the node that contains it")
    }

    @Test func givenUndefinedAlias_whenParsed_thenError() {
        let error = #expect(throws: YAMLError.self) { try YAML.parse("a: *nowhere\n") }
        #expect(error?.kind == .undefinedAlias)
    }

    @Test func givenDuplicateKeys_whenParsed_thenErrorNamesBothPositions() {
        let error = #expect(throws: YAMLError.self) {
            try YAML.parse("metadata:\n  name: a\n  labels: {}\n  name: b\n", file: "dup.yaml")
        }
        #expect(error?.kind == .duplicateKey)
        #expect(error?.mark == Mark(line: 4, column: 3))
        #expect(error?.message.contains("\"name\" already defined at line 2, column 3") == true)
    }

    @Test func givenDuplicateKeyInLargeMapping_whenParsed_thenDetectedThroughTheIndex() {
        var text = ""
        for i in 0..<100 { text += "k\(i): \(i)\n" }
        text += "k42: again\n"
        let error = #expect(throws: YAMLError.self) { try YAML.parse(text) }
        #expect(error?.kind == .duplicateKey)
        #expect(error?.mark?.line == 101)
    }

    @Test func givenKeysThatResolveEqual_whenParsed_thenDuplicate() {
        let error = #expect(throws: YAMLError.self) { try YAML.parse("1: a\n0x1: b\n") }
        #expect(error?.kind == .duplicateKey)
    }

    static let malformed: [(String, Int, Int)] = [
        ("a: [1, 2\n", 2, 1),
        ("a: b: c\n", 1, 5),
        ("key: \"unterminated\n", 2, 1),
        ("- a\nb: c\n", 2, 1),
        ("a:\n\t- b\n", 2, 1),
    ]

    @Test("Given malformed YAML, when parsed, then a syntax error with file, line and column", arguments: malformed)
    func givenMalformedYAML_whenParsed_thenSyntaxErrorWithPosition(text: String, line: Int, column: Int) {
        let error = #expect(throws: YAMLError.self) { try YAML.parseStream(text, file: "bad.yaml") }
        #expect(error?.kind == .syntax)
        #expect(error?.mark == Mark(line: line, column: column), "\(String(describing: error))")
        #expect(error?.description.hasPrefix("bad.yaml:\(line):\(column): ") == true)
    }

    @Test func givenBinaryInput_whenParsed_thenNotTextError() {
        let bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00]
        let error = #expect(throws: YAMLError.self) { try YAML.parseStream(bytes, file: "cairn") }
        #expect(error?.kind == .notText)
        #expect(error?.message.contains("binary") == true)
    }

    @Test func givenInvalidUTF8_whenParsed_thenNotTextError() {
        let error = #expect(throws: YAMLError.self) { try YAML.parseStream([0x61, 0x3A, 0x20, 0xC3, 0x28], file: "x") }
        #expect(error?.kind == .notText)
    }

    @Test func givenDeepNesting_whenPastTheLimit_thenDepthError() throws {
        let text = String(repeating: "[", count: 50) + String(repeating: "]", count: 50)
        let error = #expect(throws: YAMLError.self) { try YAML.parse(text, limits: .init(depth: 20)) }
        #expect(error?.kind == .depthLimit)
        #expect(try YAML.parse(text).nodeCount == 50)
    }

    static let tags: [(String, Node.Value)] = [
        ("!!str 123", .string("123")), ("!!str true", .string("true")), ("!!int \"12\"", .int(12)),
        ("!!float 3", .double(3)), ("!!bool yes", .bool(true)), ("!!null ''", .null),
        ("!custom 5", .string("5")), ("! 5", .string("5")), ("!!binary aGVsbG8=", .string("aGVsbG8=")),
    ]

    @Test("Given a tagged scalar, when parsed, then the tag decides its type", arguments: tags)
    func givenTaggedScalar_whenParsed_thenTagDecidesType(text: String, expected: Node.Value) throws {
        #expect(try YAML.parse("v: \(text)\n")["v"]?.value == expected)
    }

    @Test func givenTagThatDoesNotFit_whenParsed_thenInvalidTagError() {
        let error = #expect(throws: YAMLError.self) { try YAML.parse("v: !!int seven\n") }
        #expect(error?.kind == .invalidTag)
    }

    @Test func givenBlockScalars_whenParsed_thenStringsWithBlockStyle() throws {
        let doc = try YAML.parse("lit: |\n  pg_dump\n  --clean\nfold: >\n  a\n  b\n")
        #expect(doc["lit"] == "pg_dump\n--clean\n")
        #expect(doc["fold"] == "a b\n")
        #expect(doc["lit"]?.style == .block)
    }
}
