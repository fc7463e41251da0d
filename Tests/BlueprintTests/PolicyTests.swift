import Blueprint
import CairnAPI
import Testing
import YAML

/// One namespace-policy case.
struct NamespaceCase: CustomTestStringConvertible, Sendable {
    var name: String
    var policy: String
    var targetNamespace: String
    var namespaceLabels: [String: String]?
    var allowed: Bool
    var messageContains: String?
    var testDescription: String { name }
}

/// One sessions-annotation case.
struct SessionsCase: CustomTestStringConvertible, Sendable {
    var annotation: String
    var expected: [String]?
    var testDescription: String { "sessions=\"\(annotation)\"" }
}

@Suite("Policy: opt-in, blueprint lookup, namespaces, subjects and sessions")
struct PolicyTests {
    static func blueprint(policy: String, subjects: String = "") throws -> BackupBlueprint {
        try Fixture.blueprint(
            spec: """
                \(policy)
                \(subjects)
                template:
                  storage: {name: s3}
                  sessions:
                    - name: nightly
                      schedule: "@daily"
                    - name: hourly
                      schedule: "@hourly"
                      retention:
                        keepLast: ${hourlyKeep}
                """)
    }

    @Test("Given an object without the blueprint annotation, when rendered, then it is not opted in")
    func givenNoAnnotation_whenRendered_thenNotOptedIn() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])
        let target = RenderTarget(apiVersion: "apps/v1", kind: "Deployment", name: "db", namespace: "app")

        #expect(renderer.render(target) == .notOptedIn)
    }

    @Test("Given an annotation naming a missing blueprint, when rendered, then BlueprintNotFound names the annotation")
    func givenMissingBlueprint_whenRendered_thenNotFound() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])
        let target = Fixture.deployment(annotations: [BlueprintAnnotation.name: "mysql-nightly"])

        let failed = try failure(renderer.render(target))

        #expect(failed.blueprint == NamespacedRef(name: "mysql-nightly", namespace: "cairn-system"))
        #expect(failed.problems.map(\.reason) == [.blueprintNotFound])
        let fix = try #require(failed.problems.first?.fix)
        #expect(fix.contains("blueprint.cairn.dev/name"))
        #expect(fix.contains("Deployment app/db"))
        #expect(failed.problems.first?.message == "BackupBlueprint cairn-system/mysql-nightly does not exist")
    }

    @Test("Given no namespace annotation, when rendered, then the blueprint is looked up in the target's namespace")
    func givenNoNamespaceAnnotation_whenRendered_thenTargetNamespace() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])
        var target = Fixture.deployment()
        target.annotations[BlueprintAnnotation.namespace] = nil

        let failed = try failure(renderer.render(target))

        #expect(failed.blueprint == NamespacedRef(name: "postgres-nightly", namespace: "app"))
        #expect(failed.problems.map(\.reason) == [.blueprintNotFound])
    }

    static let namespaces: [NamespaceCase] = [
        NamespaceCase(name: "Same, other namespace", policy: "", targetNamespace: "app", allowed: false, messageContains: "only namespace cairn-system"),
        NamespaceCase(name: "Same, own namespace", policy: "", targetNamespace: "cairn-system", allowed: true),
        NamespaceCase(name: "explicit Same", policy: "usagePolicy: {allowedNamespaces: {from: Same}}", targetNamespace: "app", allowed: false),
        NamespaceCase(name: "All", policy: "usagePolicy: {allowedNamespaces: {from: All}}", targetNamespace: "app", allowed: true),
        NamespaceCase(
            name: "Selector, matching labels", policy: selector, targetNamespace: "app",
            namespaceLabels: ["backup": "yes", "tier": "prod"], allowed: true),
        NamespaceCase(
            name: "Selector, other labels", policy: selector, targetNamespace: "app",
            namespaceLabels: ["backup": "yes", "tier": "dev"], allowed: false, messageContains: "backup=yes,tier in (prod,staging)"),
        NamespaceCase(
            name: "Selector, labels unknown", policy: selector, targetNamespace: "app", namespaceLabels: nil,
            allowed: false, messageContains: "labels of namespace app are unknown"),
        NamespaceCase(
            name: "Selector without selector", policy: "usagePolicy: {allowedNamespaces: {from: Selector}}",
            targetNamespace: "app", namespaceLabels: [:], allowed: false, messageContains: "no selector"),
    ]
    static let selector = """
        usagePolicy:
          allowedNamespaces:
            from: Selector
            selector:
              matchLabels: {backup: "yes"}
              matchExpressions:
                - {key: tier, operator: In, values: [prod, staging]}
        """

    @Test("Given a usage policy, when rendered in a namespace, then it is allowed or NamespaceNotAllowed", arguments: namespaces)
    func givenPolicy_whenRendered_thenNamespaceChecked(_ example: NamespaceCase) throws {
        let renderer = Renderer(blueprints: [try Self.blueprint(policy: example.policy)])
        let target = RenderTarget(
            apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: example.targetNamespace,
            annotations: [
                BlueprintAnnotation.name: "test", BlueprintAnnotation.namespace: "cairn-system",
                "variables.cairn.dev/hourlyKeep": "5",
            ])

        let outcome = renderer.render(target, namespaceLabels: example.namespaceLabels)

        if example.allowed {
            _ = try rendering(outcome)
        } else {
            let failed = try failure(outcome)
            #expect(failed.problems.map(\.reason) == [.namespaceNotAllowed])
            if let text = example.messageContains {
                #expect(failed.problems[0].message.contains(text), "\(failed.problems[0].message)")
            }
        }
    }

    @Test("Given labels unknown under a Selector policy, when rendered, then the fix asks for the Namespace object")
    func givenUnknownNamespaceLabels_whenRendered_thenFixNamesNamespace() throws {
        let renderer = Renderer(blueprints: [try Self.blueprint(policy: Self.selector)])

        let failed = try failure(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/hourlyKeep": "5"])))

        #expect(failed.problems.first?.fix.contains("Namespace object app") == true)
    }

    @Test("Given subjects without the target's kind, when rendered, then SubjectNotAllowed")
    func givenOtherSubjects_whenRendered_thenSubjectNotAllowed() throws {
        let renderer = Renderer(blueprints: [
            try Self.blueprint(
                policy: "usagePolicy: {allowedNamespaces: {from: All}}",
                subjects: "subjects: [{apiGroup: apps, kind: StatefulSet}]")
        ])

        let failed = try failure(renderer.render(Fixture.web(annotations: ["variables.cairn.dev/hourlyKeep": "5"])))

        #expect(failed.problems.map(\.reason) == [.subjectNotAllowed])
        #expect(failed.problems[0].message.contains("does not target Deployment.apps; its subjects are StatefulSet.apps"))
        #expect(failed.problems[0].paths == ["spec.subjects"])
    }

    @Test(
        "Given no subjects, when a kind is rendered, then only workloads and PVCs are allowed",
        arguments: [
            ("apps/v1", "Deployment", true), ("apps/v1", "StatefulSet", true), ("apps/v1", "DaemonSet", true),
            ("v1", "PersistentVolumeClaim", true), ("batch/v1", "CronJob", false), ("v1", "Pod", false),
            ("example.com/v1", "Deployment", false),
        ])
    func givenDefaultSubjects_whenRendered_thenWorkloadsAndPVCs(apiVersion: String, kind: String, allowed: Bool) throws {
        let renderer = Renderer(blueprints: [try Self.blueprint(policy: "usagePolicy: {allowedNamespaces: {from: All}}")])
        let target = RenderTarget(
            apiVersion: apiVersion, kind: kind, name: "x", namespace: "app",
            annotations: [
                BlueprintAnnotation.name: "test", BlueprintAnnotation.namespace: "cairn-system",
                "variables.cairn.dev/hourlyKeep": "5",
            ])

        let outcome = renderer.render(target)

        #expect((outcome.rendering != nil) == allowed)
        if !allowed { #expect(outcome.failure?.reasons == [.subjectNotAllowed]) }
    }

    static let sessionCases: [SessionsCase] = [
        SessionsCase(annotation: "nightly", expected: ["nightly"]),
        SessionsCase(annotation: "hourly, nightly", expected: ["nightly", "hourly"]),
        SessionsCase(annotation: "hourly,", expected: ["hourly"]),
        SessionsCase(annotation: "weekly", expected: nil),
        SessionsCase(annotation: "nightly,weekly", expected: nil),
        SessionsCase(annotation: " , ", expected: nil),
    ]

    @Test("Given a sessions annotation, when rendered, then only those sessions are kept or InvalidSessions", arguments: sessionCases)
    func givenSessionsAnnotation_whenRendered_thenSubset(_ example: SessionsCase) throws {
        let renderer = Renderer(blueprints: [try Self.blueprint(policy: "usagePolicy: {allowedNamespaces: {from: All}}")])
        let target = Fixture.web(annotations: [BlueprintAnnotation.sessions: example.annotation, "variables.cairn.dev/hourlyKeep": "5"])

        let outcome = renderer.render(target)

        if let expected = example.expected {
            #expect(try rendering(outcome).configuration.spec.sessions.map(\.name) == expected)
        } else {
            let failed = try failure(outcome)
            #expect(failed.reasons == [.invalidSessions])
            #expect(failed.problems[0].fix.contains("nightly, hourly"))
        }
    }

    @Test("Given a variable used only in a dropped session, when rendered, then it is not required")
    func givenVariableInDroppedSession_whenRendered_thenNotMissing() throws {
        let renderer = Renderer(blueprints: [try Self.blueprint(policy: "usagePolicy: {allowedNamespaces: {from: All}}")])

        let rendered = try rendering(renderer.render(Fixture.web(annotations: [BlueprintAnnotation.sessions: "nightly"])))

        #expect(rendered.configuration.spec.sessions.map(\.name) == ["nightly"])
        #expect(rendered.provenance.contains { $0.name == "hourlyKeep" } == false)
    }

    @Test("Given a session kept by the annotation and a bad value in it, when rendered, then the template index is reported")
    func givenBadValueInKeptSession_whenRendered_thenTemplateIndex() throws {
        let renderer = Renderer(blueprints: [try Self.blueprint(policy: "usagePolicy: {allowedNamespaces: {from: All}}")])
        let target = Fixture.web(annotations: [BlueprintAnnotation.sessions: "hourly", "variables.cairn.dev/hourlyKeep": "many"])

        let failed = try failure(renderer.render(target))

        #expect(failed.problems.map(\.paths) == [["spec.template.sessions[1].retention.keepLast"]])
        #expect(failed.problems.first?.variable == "hourlyKeep")
    }
}
