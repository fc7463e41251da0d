import Blueprint
import CairnAPI
import Testing
import YAML

/// YAML fixtures and helpers shared by the Blueprint tests.
enum Fixture {
    /// A typical blueprint: declared variables with checks, inline defaults, two sessions and a hook.
    static let postgres = """
        apiVersion: cairn.dev/v1alpha1
        kind: BackupBlueprint
        metadata:
          name: postgres-nightly
          namespace: cairn-system
        spec:
          usagePolicy:
            allowedNamespaces:
              from: All
          variables:
            - name: schedule
              default: "30 1 * * *"
            - name: dbName
              required: true
              pattern: "^[a-z][a-z0-9_]*$"
            - name: method
              default: restic
              enum: [restic, snapshot, snapshot-restic]
          template:
            storage:
              name: ${storage:=s3-main}
              namespace: cairn-system
            encryptionSecret:
              name: ${targetName}-restic
            sessions:
              - name: nightly
                schedule: ${schedule}
                method: ${method}
                retention:
                  keepLast: ${keep:=7}
                  keepDaily: ${keepDaily:=14}
              - name: hourly
                schedule: "@hourly"
                retention:
                  keepLast: 24
            hooks:
              preBackup:
                - name: dump
                  exec:
                    container: postgres
                    command: ["sh", "-c", "pg_dump ${dbName} > /data/dump.sql"]
                  timeout: ${dumpTimeout:=5m}
            timeout: 2h
            rpo: 26h
        """

    /// A Deployment opted in to `postgres-nightly`, with `dbName` set.
    static func deployment(
        name: String = "db", namespace: String = "app", uid: String? = "0b7c6f0e-1111-2222-3333-444455556666",
        annotations: [String: String] = [:], labels: [String: String] = ["app": "postgres"]
    ) -> RenderTarget {
        var all = [
            BlueprintAnnotation.name: "postgres-nightly",
            BlueprintAnnotation.namespace: "cairn-system",
            "variables.cairn.dev/dbName": "orders",
        ]
        all.merge(annotations) { _, new in new }
        return RenderTarget(
            apiVersion: "apps/v1", kind: "Deployment", name: name, namespace: namespace, uid: uid,
            labels: labels, annotations: all)
    }

    /// Decodes a blueprint from YAML text, strictly.
    static func blueprint(_ yaml: String) throws -> BackupBlueprint {
        try NodeDecoder(file: "blueprint.yaml").decode(BackupBlueprint.self, from: YAML.parse(yaml, file: "blueprint.yaml"))
    }

    /// A blueprint in `cairn-system` named `test`, usable from any namespace, with this spec body.
    static func blueprint(spec: String, name: String = "test") throws -> BackupBlueprint {
        let indented = spec.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        return try blueprint(
            """
            apiVersion: cairn.dev/v1alpha1
            kind: BackupBlueprint
            metadata:
              name: \(name)
              namespace: cairn-system
            spec:
            \(indented)
            """)
    }

    /// A blueprint whose template puts `value` under a free-form hook job template, where any type fits.
    static func freeForm(value: String, variables: String = "") throws -> BackupBlueprint {
        try blueprint(
            spec: """
                usagePolicy: {allowedNamespaces: {from: All}}
                \(variables)
                template:
                  storage: {name: s3}
                  sessions: [{name: daily, schedule: "@daily"}]
                  hooks:
                    preBackup:
                      - name: probe
                        job:
                          template:
                            value: \(value)
                """)
    }

    /// A Deployment `app/web` opted in to `cairn-system/test`.
    static func web(annotations: [String: String] = [:], labels: [String: String] = [:]) -> RenderTarget {
        var all = [BlueprintAnnotation.name: "test", BlueprintAnnotation.namespace: "cairn-system"]
        all.merge(annotations) { _, new in new }
        return RenderTarget(
            apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "app", labels: labels, annotations: all)
    }

    /// Block-style YAML lines indented to sit under a `freeForm` value, after a line break.
    static func block(_ lines: String) -> String {
        lines.split(separator: "\n").map { "\n              " + $0 }.joined()
    }

    /// The free-form value a `freeForm` blueprint rendered.
    static func freeFormValue(_ rendering: Rendering) -> Node? {
        rendering.configuration.spec.hooks?.preBackup?.first?.job?.template["value"]
    }
}

/// The rendering, or a test failure showing the problems.
func rendering(_ outcome: RenderOutcome, sourceLocation: SourceLocation = #_sourceLocation) throws -> Rendering {
    if let failure = outcome.failure { Issue.record("unexpected failure:\n\(failure)", sourceLocation: sourceLocation) }
    return try #require(outcome.rendering, sourceLocation: sourceLocation)
}

/// The failure, or a test failure.
func failure(_ outcome: RenderOutcome, sourceLocation: SourceLocation = #_sourceLocation) throws -> RenderFailure {
    try #require(outcome.failure, "expected a failure, got \(outcome)", sourceLocation: sourceLocation)
}
