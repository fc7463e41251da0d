import Blueprint
import CairnAPI
import Testing
import YAML

/// One precedence case: which sources are present, and which one must win.
struct PrecedenceCase: CustomTestStringConvertible, Sendable {
    var annotation: String?
    var declaredDefault: String?
    var inlineDefault: String?
    var expectedValue: String
    var expectedSource: VariableSource
    var testDescription: String {
        "annotation=\(annotation ?? "-") declared=\(declaredDefault ?? "-") inline=\(inlineDefault ?? "-")"
    }
}

@Suite("Variables: precedence, built-ins, provenance and problems")
struct VariableTests {
    static let precedence: [PrecedenceCase] = [
        PrecedenceCase(annotation: "a", declaredDefault: "d", inlineDefault: "i", expectedValue: "a", expectedSource: .annotation(key: "variables.cairn.dev/x")),
        PrecedenceCase(annotation: "a", declaredDefault: nil, inlineDefault: "i", expectedValue: "a", expectedSource: .annotation(key: "variables.cairn.dev/x")),
        PrecedenceCase(annotation: "a", declaredDefault: "d", inlineDefault: nil, expectedValue: "a", expectedSource: .annotation(key: "variables.cairn.dev/x")),
        PrecedenceCase(annotation: nil, declaredDefault: "d", inlineDefault: "i", expectedValue: "d", expectedSource: .declaredDefault),
        PrecedenceCase(annotation: nil, declaredDefault: "d", inlineDefault: nil, expectedValue: "d", expectedSource: .declaredDefault),
        PrecedenceCase(annotation: nil, declaredDefault: nil, inlineDefault: "i", expectedValue: "i", expectedSource: .inlineDefault),
        PrecedenceCase(annotation: "", declaredDefault: "d", inlineDefault: "i", expectedValue: "", expectedSource: .annotation(key: "variables.cairn.dev/x")),
    ]

    @Test("Given values from several sources, when rendered, then annotation beats declared default beats inline default", arguments: precedence)
    func givenSources_whenRendered_thenPrecedence(_ example: PrecedenceCase) throws {
        let declaration = example.declaredDefault.map { "variables:\n  - name: x\n    default: \"\($0)\"" } ?? ""
        let reference = example.inlineDefault.map { "\"${x:=\($0)}\"" } ?? "\"${x}\""
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: reference, variables: declaration)])
        let annotations = example.annotation.map { ["variables.cairn.dev/x": $0] } ?? [:]

        let rendered = try rendering(renderer.render(Fixture.web(annotations: annotations)))

        #expect(Fixture.freeFormValue(rendered)?.string == example.expectedValue)
        #expect(rendered.provenance == [
            ResolvedVariable(
                name: "x", value: example.expectedValue, source: example.expectedSource,
                paths: ["spec.template.hooks.preBackup[0].job.template.value"])
        ])
    }

    @Test("Given built-in references, when rendered, then they take the target's and blueprint's values")
    func givenBuiltins_whenRendered_thenValues() throws {
        let renderer = Renderer(blueprints: [
            try Fixture.freeForm(
                value: Fixture.block(
                    """
                    - ${namespace}
                    - ${targetName}
                    - ${targetKind}
                    - ${targetAPIVersion}
                    - ${blueprintName}
                    - ${blueprintNamespace}
                    - ${labels.app}
                    - ${labels.app.kubernetes.io/name}
                    - ${annotations.team}
                    - ${labels.missing:=none}
                    """))
        ])
        let target = Fixture.web(
            annotations: ["team": "payments"], labels: ["app": "shop", "app.kubernetes.io/name": "shop-web"])

        let rendered = try rendering(renderer.render(target))

        #expect(Fixture.freeFormValue(rendered) == [
            "app", "web", "Deployment", "apps/v1", "test", "cairn-system", "shop", "shop-web", "payments", "none",
        ])
        let sources = Dictionary(uniqueKeysWithValues: rendered.provenance.map { ($0.name, $0.source) })
        #expect(sources["labels.app"] == .builtin)
        #expect(sources["namespace"] == .builtin)
        #expect(sources["labels.missing"] == .inlineDefault)
    }

    @Test("Given an annotation that sets a built-in, when rendered, then it is a BuiltinOverride problem")
    func givenBuiltinAnnotation_whenRendered_thenBuiltinOverride() throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: "${namespace}")])

        let failed = try failure(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/namespace": "prod"])))

        #expect(failed.problems.count == 1)
        let problem = try #require(failed.problems.first)
        #expect(problem.reason == .builtinOverride)
        #expect(problem.variable == "namespace")
        #expect(problem.message.contains("built-in"))
        #expect(problem.fix == "remove annotation variables.cairn.dev/namespace from Deployment app/web")
    }

    @Test("Given a missing label built-in, when rendered, then the fix says to set the label")
    func givenMissingLabel_whenRendered_thenFixNamesLabel() throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: "${labels.tier}")])

        let failed = try failure(renderer.render(Fixture.web()))

        #expect(failed.problems.map(\.reason) == [.missingVariable])
        #expect(failed.problems.first?.fix == "set label tier on Deployment app/web")
    }

    @Test("Given the postgres blueprint, when rendered, then provenance names every value, source and path")
    func givenPostgres_whenRendered_thenProvenance() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])

        let rendered = try rendering(renderer.render(Fixture.deployment(annotations: ["variables.cairn.dev/keep": "3"])))

        let byName = Dictionary(uniqueKeysWithValues: rendered.provenance.map { ($0.name, $0) })
        #expect(byName["schedule"] == ResolvedVariable(
            name: "schedule", value: "30 1 * * *", source: .declaredDefault, paths: ["spec.template.sessions[0].schedule"]))
        #expect(byName["dbName"] == ResolvedVariable(
            name: "dbName", value: "orders", source: .annotation(key: "variables.cairn.dev/dbName"),
            paths: ["spec.template.hooks.preBackup[0].exec.command[2]"]))
        #expect(byName["keep"]?.source == .annotation(key: "variables.cairn.dev/keep"))
        #expect(byName["storage"] == ResolvedVariable(
            name: "storage", value: "s3-main", source: .inlineDefault, paths: ["spec.template.storage.name"]))
        #expect(byName["targetName"]?.source == .builtin)
        let spec = rendered.configuration.spec
        #expect(spec.sessions.first?.retention?.keepLast == 3)
        #expect(spec.sessions.first?.retention?.keepDaily == 14)
        #expect(spec.encryptionSecret?.name == "db-restic")
        #expect(spec.hooks?.preBackup?.first?.exec?.command == ["sh", "-c", "pg_dump orders > /data/dump.sql"])
        #expect(spec.target == TargetRef(apiVersion: "apps/v1", kind: "Deployment", name: "db"))
    }

    @Test("Given two missing variables, a pattern violation and an enum violation, when rendered, then one failure lists all four")
    func givenFourProblems_whenRendered_thenAllAtOnce() throws {
        let blueprint = try Fixture.blueprint(
            spec: """
                usagePolicy: {allowedNamespaces: {from: All}}
                variables:
                  - name: dbName
                    required: true
                  - name: region
                    pattern: "^[a-z]+-[0-9]$"
                  - name: method
                    enum: [restic, snapshot]
                template:
                  storage:
                    name: ${bucket}
                  sessions:
                    - name: daily
                      schedule: "@daily"
                      method: ${method}
                    - name: weekly
                      schedule: ${region}-weekly
                  hooks:
                    preBackup:
                      - name: dump
                        exec:
                          command: ["pg_dump", "${dbName}", "${bucket}"]
                """)
        let target = Fixture.web(annotations: ["variables.cairn.dev/region": "EU_WEST", "variables.cairn.dev/method": "tape"])

        let failed = try failure(Renderer(blueprints: [blueprint]).render(target))

        #expect(failed.problems.map(\.reason) == [.missingVariable, .invalidValue, .invalidValue, .missingVariable])
        #expect(failed.problems.map(\.variable) == ["dbName", "region", "method", "bucket"])
        let db = failed.problems[0]
        #expect(db.paths == ["spec.template.hooks.preBackup[0].exec.command[1]"])
        #expect(db.mark != nil)
        #expect(db.fix == "set annotation variables.cairn.dev/dbName on Deployment app/web")
        let region = failed.problems[1]
        #expect(region.paths == ["spec.template.sessions[1].schedule"])
        #expect(region.message.contains("does not match pattern ^[a-z]+-[0-9]$"))
        #expect(region.fix == "change annotation variables.cairn.dev/region on Deployment app/web to a valid value")
        let method = failed.problems[2]
        #expect(method.paths == ["spec.template.sessions[0].method"])
        #expect(method.message.contains(#"is not one of "restic", "snapshot""#))
        let bucket = failed.problems[3]
        #expect(bucket.paths == ["spec.template.storage.name", "spec.template.hooks.preBackup[0].exec.command[2]"])
        #expect(bucket.mark == Mark(line: 17, column: 13))
        #expect(bucket.fix == "set annotation variables.cairn.dev/bucket on Deployment app/web")
        #expect(failed.description.contains("4 problems"))
    }

    @Test("Given a required variable with only an inline default, when rendered, then it is missing")
    func givenRequiredWithInlineDefault_whenRendered_thenMissing() throws {
        let renderer = Renderer(blueprints: [
            try Fixture.freeForm(value: "${x:=fallback}", variables: "variables:\n  - name: x\n    required: true")
        ])

        let failed = try failure(renderer.render(Fixture.web()))

        #expect(failed.problems.map(\.reason) == [.missingVariable])
        #expect(failed.problems.first?.message == "variable x is required but not set")
    }

    @Test(
        "Given a variable used twice in one string, when rendered, then its provenance lists that path once",
        arguments: [("\"${n}-${n}\"", ["variables.cairn.dev/n": "7"]), ("\"${n:=a}-${n:=a}\"", [:])])
    func givenVariableTwiceInOneString_whenRendered_thenPathListedOnce(value: String, annotations: [String: String]) throws {
        let renderer = Renderer(blueprints: [try Fixture.freeForm(value: value)])

        let rendered = try rendering(renderer.render(Fixture.web(annotations: annotations)))

        #expect(rendered.provenance.first { $0.name == "n" }?.paths == ["spec.template.hooks.preBackup[0].job.template.value"])
    }

    @Test("Given a missing variable used twice in one string and once elsewhere, when rendered, then the problem lists each path once, in order")
    func givenMissingVariableTwiceInOneString_whenRendered_thenPathsListedOnce() throws {
        let renderer = Renderer(blueprints: [
            try Fixture.freeForm(value: "[\"${x}-${x}\", \"${x}\"]", variables: "variables:\n  - name: x\n    required: true")
        ])

        let failed = try failure(renderer.render(Fixture.web()))

        #expect(failed.problems.map(\.reason) == [.missingVariable])
        #expect(failed.problems.first?.paths == [
            "spec.template.hooks.preBackup[0].job.template.value[0]",
            "spec.template.hooks.preBackup[0].job.template.value[1]",
        ])
    }

    @Test("Given a declared default that breaks its own pattern, when rendered, then the fix names the default")
    func givenBadDeclaredDefault_whenRendered_thenFixNamesDefault() throws {
        let renderer = Renderer(blueprints: [
            try Fixture.freeForm(value: "${x}", variables: "variables:\n  - name: x\n    default: ABC\n    pattern: \"^[a-z]+$\"")
        ])

        let failed = try failure(renderer.render(Fixture.web()))

        #expect(failed.problems.map(\.reason) == [.invalidValue])
        #expect(failed.problems.first?.fix.contains("spec.variables[0].default in BackupBlueprint cairn-system/test") == true)
    }
}
