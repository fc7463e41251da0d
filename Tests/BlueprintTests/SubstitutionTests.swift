import Blueprint
import CairnAPI
import Testing
import YAML

/// One typing case: the template scalar, the value of `n`, and the node expected.
struct TypingCase: CustomTestStringConvertible, Sendable {
    var template: String
    var value: String?
    var expected: Node.Value
    var testDescription: String { "\(template) with n=\(value ?? "<unset>")" }
}

@Suite("Substitution on the parsed tree")
struct SubstitutionTests {
    static let typing: [TypingCase] = [
        TypingCase(template: "${n}", value: "7", expected: .int(7)),
        TypingCase(template: "\"${n}\"", value: "7", expected: .string("7")),
        TypingCase(template: "'${n}'", value: "7", expected: .string("7")),
        TypingCase(template: "${n}", value: "true", expected: .bool(true)),
        TypingCase(template: "${n}", value: "yes", expected: .bool(true)),
        TypingCase(template: "${n}", value: "1.5", expected: .double(1.5)),
        TypingCase(template: "${n}", value: "~", expected: .null),
        TypingCase(template: "${n}", value: "seven", expected: .string("seven")),
        TypingCase(template: "${n:=8}", value: nil, expected: .int(8)),
        TypingCase(template: "\"${n:=8}\"", value: nil, expected: .string("8")),
        TypingCase(template: "port-${n}", value: "7", expected: .string("port-7")),
        TypingCase(template: "${n}${n}", value: "7", expected: .string("77")),
        TypingCase(template: "$${n}", value: "7", expected: .string("${n}")),
        TypingCase(template: "a$${n}-${n}", value: "7", expected: .string("a${n}-7")),
        TypingCase(template: "costs $5", value: "7", expected: .string("costs $5")),
        TypingCase(template: "${n}", value: "a: b\n- c", expected: .string("a: b\n- c")),
        TypingCase(template: "${n}", value: "{x: 1}", expected: .string("{x: 1}")),
        TypingCase(template: "${n}", value: "[1, 2]", expected: .string("[1, 2]")),
        TypingCase(template: "${n}", value: "&a x", expected: .string("&a x")),
    ]

    @Test("Given a template scalar and a value, when rendered, then it takes the expected type", arguments: typing)
    func givenScalar_whenRendered_thenTyped(_ example: TypingCase) throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: example.template)])
        let annotations = example.value.map { ["variables.cairn.dev/n": $0] } ?? [:]

        let rendered = try rendering(renderer.render(Fixture.web(annotations: annotations)))

        #expect(Fixture.freeFormValue(rendered)?.value == example.expected)
    }

    @Test("Given a block scalar with a reference, when rendered, then it stays a string")
    func givenBlockScalar_whenRendered_thenString() throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: "|" + Fixture.block("${n}"))])

        let rendered = try rendering(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/n": "7"])))

        #expect(Fixture.freeFormValue(rendered)?.value == .string("7"))
        #expect(Fixture.freeFormValue(rendered)?.style == .block)
    }

    @Test("Given a mapping key with a reference, when rendered, then the key is the value as a string")
    func givenKeyReference_whenRendered_thenStringKey() throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: Fixture.block("\"${n}\": x\n${n}-b: y"))])

        let rendered = try rendering(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/n": "7"])))

        let pairs = try #require(Fixture.freeFormValue(rendered)?.mapping)
        #expect(pairs.map(\.key.value) == [.string("7"), .string("7-b")])
    }

    @Test("Given a reference in a sequence and a nested mapping, when rendered, then every place is substituted")
    func givenNestedReferences_whenRendered_thenAllSubstituted() throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: Fixture.block("- ${n}\n- deep:\n    - x-${n}"))])

        let rendered = try rendering(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/n": "3"])))

        #expect(Fixture.freeFormValue(rendered) == [3, .mapping(["deep": ["x-3"]])])
        #expect(rendered.provenance.first { $0.name == "n" }?.paths == [
            "spec.template.hooks.preBackup[0].job.template.value[0]",
            "spec.template.hooks.preBackup[0].job.template.value[1].deep[0]",
        ])
    }
}
