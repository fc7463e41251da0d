import CairnAPI
import Testing
import YAML

@Suite struct StructuralSchemaTests {
    static let schemaText = """
        type: object
        required: [spec]
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [storage, sessions]
            properties:
              storage:
                type: object
                required: [name]
                properties:
                  name: {type: string, minLength: 1, maxLength: 10}
              sessions:
                type: array
                minItems: 1
                maxItems: 2
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string, pattern: '^[a-z]+$'}
                    method: {type: string, enum: [restic, snapshot, snapshot-restic]}
                    retries: {type: integer, minimum: 0, maximum: 5}
                    ratio: {type: number, minimum: 0, exclusiveMinimum: true}
                    paused: {type: boolean}
                    at: {type: string, format: date-time}
              labels: {type: object, additionalProperties: {type: string}, maxProperties: 2}
              template: {type: object, x-kubernetes-preserve-unknown-fields: true}
              port: {x-kubernetes-int-or-string: true}
              note: {type: string, nullable: true}
              tags: {type: array, items: {type: string}, x-kubernetes-list-type: set}
        """

    static let schema: StructuralSchema = {
        do { return try StructuralSchema(parsing: try YAML.parse(schemaText, file: "schema.yaml")) } catch { fatalError("\(error)") }
    }()

    static let sessionLines = [
        "name: nightly", "method: restic", "retries: 2", "ratio: 0.5", "paused: false", "at: 2026-11-21T01:30:00Z",
    ]

    /// A valid object; `session` lines replace or extend the first session's, `spec` lines are appended to the spec.
    static func object(session extra: String = "", spec: String = "") -> String {
        let overrides = extra.split(separator: "\n").map(String.init)
        let keys = Set(overrides.map { $0.prefix { $0 != ":" } })
        let lines = sessionLines.filter { !keys.contains($0.prefix { $0 != ":" }) } + overrides
        return """
            apiVersion: cairn.dev/v1alpha1
            kind: Thing
            metadata: {name: x, labels: {a: b}, anything: [1]}
            spec:
              storage: {name: s3}
              sessions:
              - \(lines.joined(separator: "\n    "))

            """ + spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    func problems(_ text: String) throws -> [SchemaProblem] {
        Self.schema.validate(try YAML.parse(text, file: "thing.yaml"))
    }

    @Test(arguments: [
        "",
        "retries: 2.0",
    ] + [
        "labels: {a: p, b: q}", "template: {anything: [goes, {here: 1}]}", "port: 8080", "port: http", "note: null",
        "tags: [a, b]",
    ].map { "\n" + $0 })
    func givenAValidObject_whenValidated_thenThereAreNoProblems(extra: String) throws {
        let text = extra.hasPrefix("\n") ? Self.object(spec: String(extra.dropFirst())) : Self.object(session: extra)
        #expect(try problems(text).isEmpty)
    }

    @Test(arguments: [
        // (extra YAML in the first session, kind, expected description)
        ("retension: 3", SchemaProblem.Kind.unknownField, #"unknown field "spec.sessions[0].retension""#),
        ("retries: seven", .typeInvalid, #"spec.sessions[0].retries: Invalid value: "string": spec.sessions[0].retries in body must be of type integer: "string""#),
        ("retries: 1.5", .typeInvalid, #"spec.sessions[0].retries: Invalid value: "number": spec.sessions[0].retries in body must be of type integer: "number""#),
        ("paused: \"false\"", .typeInvalid, #"spec.sessions[0].paused: Invalid value: "string": spec.sessions[0].paused in body must be of type boolean: "string""#),
        ("method: rsync", .notSupported, #"spec.sessions[0].method: Unsupported value: "rsync": supported values: "restic", "snapshot", "snapshot-restic""#),
        ("retries: 9", .invalid, "spec.sessions[0].retries: Invalid value: 9: spec.sessions[0].retries in body should be less than or equal to 5"),
        ("retries: -1", .invalid, "spec.sessions[0].retries: Invalid value: -1: spec.sessions[0].retries in body should be greater than or equal to 0"),
        ("ratio: 0", .invalid, "spec.sessions[0].ratio: Invalid value: 0: spec.sessions[0].ratio in body should be greater than 0"),
        ("at: yesterday", .invalid, #"spec.sessions[0].at: Invalid value: "yesterday": spec.sessions[0].at in body must be of type date-time: "yesterday""#),
    ])
    func givenABadSessionField_whenValidated_thenTheProblemNamesThePath(extra: String, kind: SchemaProblem.Kind, expected: String) throws {
        let found = try problems(Self.object(session: extra))
        #expect(found.map(\.description) == [expected])
        #expect(found.first?.kind == kind)
    }

    @Test(arguments: [
        ("storage: {}", SchemaProblem.Kind.required, "spec.storage.name: Required value"),
        ("storage: {name: \"\"}", .invalid, #"spec.storage.name: Invalid value: "": spec.storage.name in body should be at least 1 chars long"#),
        ("storage: {name: abcdefghijk}", .tooLong, "spec.storage.name: Too long: may not be more than 10 characters"),
        ("storage: {name: null}", .typeInvalid, #"spec.storage.name: Invalid value: "null": spec.storage.name in body must be of type string: "null""#),
        ("sessions: []", .invalid, "spec.sessions: Invalid value: 0: spec.sessions in body should have at least 1 items"),
        ("sessions: [{name: a}, {name: b}, {name: c}]", .tooMany, "spec.sessions: Too many: 3: must have at most 2 items"),
        ("sessions: [{name: a}, {name: a}]", .duplicate, #"spec.sessions[1]: Duplicate value: map[string]interface {}{"name":"a"}"#),
        ("sessions: [{name: Nightly}]", .invalid, #"spec.sessions[0].name: Invalid value: "Nightly": spec.sessions[0].name in body should match '^[a-z]+$'"#),
        ("labels: {a: 1}", .typeInvalid, #"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#),
        ("labels: {a: p, b: q, c: r}", .tooMany, "spec.labels: Too many: 3: must have at most 2 items"),
        ("port: true", .typeInvalid, #"spec.port: Invalid value: "boolean": spec.port in body must be of type integer or string: "boolean""#),
        ("tags: [a, a]", .duplicate, #"spec.tags[1]: Duplicate value: "a""#),
        ("extra: 1", .unknownField, #"unknown field "spec.extra""#),
    ])
    func givenABadSpecField_whenValidated_thenTheProblemNamesThePath(line: String, kind: SchemaProblem.Kind, expected: String) throws {
        var text = Self.object()
        for key in ["storage", "sessions"] where line.hasPrefix(key + ":") {
            text = Self.replacing(key, in: text)
        }
        let found = try problems(text + "  " + line)
        #expect(found.map(\.description) == [expected])
        #expect(found.first?.kind == kind)
    }

    @Test func givenAMissingSpec_whenValidated_thenItIsRequired() throws {
        #expect(try problems("kind: Thing\nmetadata: {}").map(\.description) == ["spec: Required value"])
    }

    @Test func givenSeveralProblems_whenValidated_thenAllAreReportedWithTheirMarks() throws {
        let text = Self.object(session: "method: rsync\nbogus: 1", spec: "extra: true")
        let found = try problems(text)
        #expect(found.map(\.path) == ["spec.sessions[0].method", "spec.sessions[0].bogus", "spec.extra"])
        #expect(found.map(\.mark) == [Mark(line: 12, column: 13), Mark(line: 13, column: 5), Mark(line: 14, column: 3)])
    }

    @Test func givenANonResourceValidation_whenMetadataHasUnknownFields_thenTheyAreReported() throws {
        let node = try YAML.parse(Self.object())
        #expect(Self.schema.validate(node, asResource: false).map(\.description) == [
            #"unknown field "metadata.name""#, #"unknown field "metadata.labels""#, #"unknown field "metadata.anything""#,
        ])
    }

    @Test(arguments: [
        ("type: object\nrequried: [a]", #"unknown field "requried""#),
        ("type: object\nproperties:\n  a: {description: no type}", "properties.a.type: a structural schema needs a type"),
        ("type: object\nproperties:\n  a: {type: map}", #"properties.a.type: unsupported type "map""#),
        ("type: object\nproperties:\n  a: {type: string, pattern: '(['}", "properties.a.pattern: pattern does not compile"),
        ("type: object\nproperties:\n  a: {type: string, maxLength: ten}", #"properties.a.maxLength: expected integer, got string "ten""#),
    ])
    func givenABrokenSchema_whenLoaded_thenTheErrorNamesTheSchemaPath(text: String, expected: String) throws {
        let error = try #require(throws: NodeDecodingError.self) { try StructuralSchema(parsing: try YAML.parse(text)) }
        #expect(error.problems.contains { $0.description.hasPrefix(expected) || $0.message.hasPrefix(expected) }, "\(error)")
    }

    @Test(arguments: [
        ("2026-11-21T01:30:00Z", true), ("2026-11-21t01:30:00.123456+02:00", true), ("2026-11-21 01:30:00-05:30", true),
        ("2026-11-21", false), ("2026-13-21T01:30:00Z", false), ("2026-11-21T25:30:00Z", false), ("2026-11-21T01:30:00", false),
        ("2026-11-21T01:30:00.Z", false), ("2026-11-21T01:30:00+0200", false),
    ])
    func givenAString_whenCheckedAsDateTime_thenOnlyRFC3339Passes(text: String, valid: Bool) throws {
        let schema = try StructuralSchema(parsing: .mapping(["type": "string", "format": "date-time"]))
        #expect(schema.validate(.string(text), asResource: false).isEmpty == valid)
    }

    private static func replacing(_ key: String, in text: String) -> String {
        // Drop the sample's own `key:` block so the test line replaces it.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("  \(key):") }) else { return text }
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix("   ") || lines[end].hasPrefix("  -") { end += 1 }
        lines.removeSubrange(start..<end)
        return lines.joined(separator: "\n")
    }

    @Test func givenUndeclaredFields_whenPruned_thenOnlyThoseGoAndPreservingSchemasKeepEverything() throws {
        let object = try YAML.parse("""
            apiVersion: cairn.dev/v1alpha1
            kind: Thing
            metadata: {name: x, anything: kept}
            extra: 1
            spec:
              storage: {name: s, typo: true}
              sessions: [{name: a, colour: red}]
              labels: {any: value}
              template: {free: {form: [1, 2]}}
            """)

        let pruning = Self.schema.pruned(object)

        #expect(pruning.removed == ["extra", "spec.storage.typo", "spec.sessions[0].colour"])
        #expect(pruning.object["extra"] == nil)
        #expect(pruning.object[path: "spec", "storage"] == .mapping(["name": "s"]))
        #expect(pruning.object[path: "spec", "labels", "any"]?.string == "value", "additionalProperties keeps undeclared keys")
        #expect(pruning.object[path: "spec", "template", "free", "form"] == [1, 2], "x-kubernetes-preserve-unknown-fields keeps everything below")
        #expect(pruning.object[path: "metadata", "anything"]?.string == "kept", "ObjectMeta is the API server's own business")
    }
}
