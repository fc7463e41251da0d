import CairnAPI
import Testing
import YAML

@Suite struct ColumnPathTests {
    static let object: Node = .mapping([
        "spec": .mapping(["sessions": [.mapping(["name": "a"]), .mapping(["name": "b"])]]),
        "status": .mapping([
            "phase": "Ready",
            "conditions": [
                .mapping(["type": "Ready", "status": "True"]),
                .mapping(["type": "RPOMet", "status": "False"]),
            ],
        ]),
    ])

    @Test(arguments: [
        (".status.phase", ["Ready"] as [Node], ["status", "phase"]),
        ("{.status.phase}", ["Ready"], ["status", "phase"]),
        (".spec.sessions[1].name", ["b"], ["spec", "sessions", "[]", "name"]),
        (".spec.sessions[-1].name", ["b"], ["spec", "sessions", "[]", "name"]),
        (".spec.sessions[*].name", ["a", "b"], ["spec", "sessions", "[]", "name"]),
        (".spec['sessions'][0]['name']", ["a"], ["spec", "sessions", "[]", "name"]),
        (#".status.conditions[?(@.type=="RPOMet")].status"#, ["False"], ["status", "conditions", "[]", "status"]),
        (".status.conditions[?(@.type=='Ready')].status", ["True"], ["status", "conditions", "[]", "status"]),
        (".status.missing", [], ["status", "missing"]),
        (".spec.sessions[5].name", [], ["spec", "sessions", "[]", "name"]),
    ])
    func givenAColumnPath_whenEvaluated_thenItSelectsTheFields(text: String, expected: [Node], keys: [String]) throws {
        let path = try ColumnPath(parsing: text)
        #expect(path.evaluate(Self.object) == expected)
        #expect(path.schemaKeys == keys)
    }

    @Test(arguments: ["status.phase", ".status.", ".spec[0", ".spec[?(@.a>1)]", ".spec[x]", ".a..b"])
    func givenAMalformedPath_whenParsed_thenItIsRejected(text: String) throws {
        let error = try #require(throws: ColumnPathError.self) { try ColumnPath(parsing: text) }
        #expect(error.description.hasPrefix("invalid JSONPath \"\(text)\""))
    }
}
