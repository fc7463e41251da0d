import Blueprint
import CairnAPI
import Testing
import YAML

@Suite("Template errors: references, patterns, types, fields and durations")
struct TemplateErrorTests {
    static func keepBlueprint(_ retention: String = "keepLast: ${keep}") throws -> BackupBlueprint {
        try Fixture.blueprint(
            spec: """
                usagePolicy: {allowedNamespaces: {from: All}}
                template:
                  storage: {name: s3}
                  sessions:
                    - name: daily
                      schedule: "@daily"
                      retention:
                        \(retention)
                """)
    }

    @Test("Given keepLast: ${keep} and keep=seven, when rendered, then InvalidValue at the template path naming the variable")
    func givenWrongType_whenRendered_thenInvalidValue() throws {
        let renderer = Renderer(blueprints: [try Self.keepBlueprint()])

        let failed = try failure(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/keep": "seven"])))

        #expect(failed.problems.count == 1)
        let problem = try #require(failed.problems.first)
        #expect(problem.reason == .invalidValue)
        #expect(problem.variable == "keep")
        #expect(problem.paths == ["spec.template.sessions[0].retention.keepLast"])
        #expect(problem.mark == Mark(line: 14, column: 21))
        #expect(problem.message.contains(#"expected integer, got string "seven""#), "\(problem.message)")
        #expect(problem.message.contains("annotation variables.cairn.dev/keep"))
        #expect(problem.fix == "change annotation variables.cairn.dev/keep on Deployment app/web to a valid value")
    }

    @Test("Given a misspelled field in the template, when rendered, then InvalidTemplate at its path")
    func givenUnknownField_whenRendered_thenInvalidTemplate() throws {
        let renderer = Renderer(blueprints: [try Self.keepBlueprint("keepLats: 3")])

        let failed = try failure(renderer.render(Fixture.web()))

        #expect(failed.reasons == [.invalidTemplate])
        #expect(failed.problems.first?.paths == ["spec.template.sessions[0].retention.keepLats"])
        #expect(failed.problems.first?.message.contains("unknown field") == true)
        #expect(failed.problems.first?.fix == "fix spec.template.sessions[0].retention.keepLats in BackupBlueprint cairn-system/test")
    }

    @Test("Given a missing required field, when rendered, then InvalidTemplate names it")
    func givenMissingField_whenRendered_thenInvalidTemplate() throws {
        let blueprint = try Fixture.blueprint(
            spec: "usagePolicy: {allowedNamespaces: {from: All}}\ntemplate:\n  sessions: [{name: d, schedule: \"@daily\"}]")

        let failed = try failure(Renderer(blueprints: [blueprint]).render(Fixture.web()))

        #expect(failed.reasons == [.invalidTemplate])
        #expect(failed.problems.first?.message.contains("storage") == true)
        #expect(failed.problems.first?.paths == ["spec.template"])
    }

    @Test(
        "Given a duration field, when its value is not a Go duration, then it is reported at its path",
        arguments: [
            ("timeout", "timeout: ${t}", "spec.template.timeout", true),
            ("rpo", "rpo: forever", "spec.template.rpo", false),
            ("startingDeadline", "startingDeadline: \"${t}\"", "spec.template.startingDeadline", true),
            ("hook timeout", "hooks: {preBackup: [{name: h, exec: {command: [x]}, timeout: 5min}]}", "spec.template.hooks.preBackup[0].timeout", false),
        ])
    func givenBadDuration_whenRendered_thenReported(name: String, field: String, path: String, fromVariable: Bool) throws {
        let blueprint = try Fixture.blueprint(
            spec: """
                usagePolicy: {allowedNamespaces: {from: All}}
                template:
                  storage: {name: s3}
                  sessions: [{name: d, schedule: "@daily"}]
                  \(field)
                """)

        let failed = try failure(Renderer(blueprints: [blueprint]).render(Fixture.web(annotations: ["variables.cairn.dev/t": "5min"])))

        #expect(failed.problems.count == 1)
        #expect(failed.problems.first?.paths == [path])
        #expect(failed.problems.first?.reason == (fromVariable ? .invalidValue : .invalidTemplate))
        #expect(failed.problems.first?.message.contains("duration") == true)
        if fromVariable { #expect(failed.problems.first?.variable == "t") }
    }

    @Test("Given valid durations everywhere, when rendered, then they pass")
    func givenValidDurations_whenRendered_thenRendered() throws {
        let blueprint = try Fixture.blueprint(
            spec: """
                usagePolicy: {allowedNamespaces: {from: All}}
                template:
                  storage: {name: s3}
                  sessions: [{name: d, schedule: "@daily"}]
                  timeout: 1h30m
                  rpo: ${rpo:=26h}
                  startingDeadline: 90s
                """)

        let rendered = try rendering(Renderer(blueprints: [blueprint]).render(Fixture.web()))

        #expect(rendered.configuration.spec.rpo == "26h")
    }

    @Test(
        "Given a malformed reference, when rendered, then InvalidTemplate with its path and mark",
        arguments: [
            ("\"pg-${dbName\"", "unterminated reference"),
            ("\"${db name}\"", "invalid character ' '"),
            ("\"${}\"", "empty variable name"),
            ("\"${x:=never closed\"", "unterminated reference"),
        ])
    func givenMalformedReference_whenRendered_thenInvalidTemplate(value: String, message: String) throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: value)])

        let failed = try failure(renderer.render(Fixture.web()))

        #expect(failed.reasons == [.invalidTemplate])
        let problem = try #require(failed.problems.first)
        #expect(problem.paths == ["spec.template.hooks.preBackup[0].job.template.value"])
        #expect(problem.mark == Mark(line: 17, column: 22))
        #expect(problem.message.contains(message), "\(problem.message)")
    }

    @Test("Given a pattern that is not a regular expression, when rendered, then a blueprint problem at the pattern")
    func givenBadPattern_whenRendered_thenInvalidTemplate() throws {
        let renderer = Renderer(blueprints: [
            try Fixture.freeForm(value: "${x}", variables: "variables:\n  - name: x\n    default: a\n    pattern: \"[a-\"")
        ])

        let failed = try failure(renderer.render(Fixture.web()))

        #expect(failed.reasons == [.invalidTemplate])
        #expect(failed.problems.first?.paths == ["spec.variables[0].pattern"])
        #expect(failed.problems.first?.variable == "x")
        #expect(renderer.problems(inBlueprint: NamespacedRef(name: "test", namespace: "cairn-system"))?.count == 1)
    }

    @Test("Given a value with YAML structure in a plain scalar, when rendered into a typed field, then it stays a string")
    func givenStructuredValue_whenRendered_thenNotInjected() throws {
        let renderer = Renderer(blueprints: [try Self.keepBlueprint("keepLast: 1\n        keepDaily: ${keep}")])

        let failed = try failure(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/keep": "3\nkeepWeekly: 9"])))

        #expect(failed.problems.map(\.variable) == ["keep"])
        #expect(failed.problems.first?.paths == ["spec.template.sessions[0].retention.keepDaily"])
    }
}
