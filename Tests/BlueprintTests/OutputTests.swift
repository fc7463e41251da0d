import Blueprint
import CairnAPI
import Testing
import YAML

@Suite("Output: names, labels, hash, ownerReference and targets")
struct OutputTests {
    @Test(
        "Given a kind and name, when the configuration is named, then it is at most 63 characters",
        arguments: [1, 40, 52, 53, 54, 100, 290])
    func givenLength_whenNamed_thenFits(nameLength: Int) {
        let name = String(repeating: "a", count: nameLength)

        let result = Naming.configurationName(kind: "Deployment", name: name)

        let full = "deployment-" + name
        if full.count <= 63 {
            #expect(result == full)
        } else {
            #expect(result.count <= 63)
            #expect(result.hasPrefix("deployment-aaa"))
            #expect(result.suffix(11).first == "-")
            #expect(result.suffix(10).allSatisfy { $0.isHexDigit })
        }
    }

    @Test("Given names of exactly 63, 64 and 300 characters, when shortened, then 63 stays and the others fit")
    func givenBoundaryLengths_whenShortened_thenFit() {
        let exactly63 = String(repeating: "x", count: 63)
        let just64 = String(repeating: "x", count: 64)
        let long300 = String(repeating: "x", count: 300)

        #expect(Naming.shortened(exactly63) == exactly63)
        #expect(Naming.shortened(just64).count == 63)
        #expect(Naming.shortened(long300).count == 63)
        #expect(Naming.shortened(just64) != Naming.shortened(long300))
    }

    @Test("Given the same long name twice and two that differ only at the end, when shortened, then stable and distinct")
    func givenLongNames_whenShortened_thenStableAndDistinct() {
        let base = String(repeating: "payments-ledger-", count: 10)

        #expect(Naming.shortened(base + "a") == Naming.shortened(base + "a"))
        #expect(Naming.shortened(base + "a") != Naming.shortened(base + "b"))
        #expect(Naming.shortened(base + "a").hasPrefix("payments-ledger-payments"))
    }

    @Test("Given a prefix that would end in a dash, when shortened, then the prefix is trimmed to stay valid")
    func givenDashAtCut_whenShortened_thenTrimmed() {
        let name = String(repeating: "a", count: 51) + "-" + String(repeating: "b", count: 20)

        let result = Naming.shortened(name)

        #expect(!result.contains("--"))
        #expect(result.hasPrefix(String(repeating: "a", count: 51) + "-"))
        #expect(result.count == 62)
    }

    @Test(
        "Given a label value, when made valid, then it is a valid label value",
        arguments: ["db", "", String(repeating: "n", count: 63), String(repeating: "n", count: 64),
                    String(repeating: "long-name.", count: 30), "-leading", "trailing.", "has space", "ünïcode", "---"])
    func givenLabelValue_whenMadeValid_thenValid(value: String) {
        let result = Naming.labelValue(value)

        #expect(Naming.isValidLabelValue(result), "\(result)")
        if Naming.isValidLabelValue(value) { #expect(result == value) }
        #expect(Naming.labelValue(value) == result)
    }

    @Test("Given a target with a 100-character name, when rendered, then its name label is shortened and valid")
    func givenLongTargetName_whenRendered_thenLabelsValid() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])
        let name = String(repeating: "orders-", count: 14) + "db"

        let rendered = try rendering(renderer.render(Fixture.deployment(name: name)))

        let metadata = rendered.configuration.metadata
        #expect(metadata.name == Naming.configurationName(kind: "Deployment", name: name))
        #expect((metadata.name?.count ?? 99) <= 63)
        for (_, value) in metadata.labels ?? [:] { #expect(Naming.isValidLabelValue(value)) }
        #expect(metadata.labels?[CairnLabel.targetName] == Naming.labelValue(name))
        #expect(rendered.configuration.spec.target.name == name)
    }

    @Test("Given a rendered configuration, then its metadata names, labels and annotates it")
    func givenRendering_thenMetadata() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])

        let rendered = try rendering(renderer.render(Fixture.deployment(name: "postgres")))

        let metadata = rendered.configuration.metadata
        #expect(metadata.name == "deployment-postgres")
        #expect(metadata.namespace == "app")
        #expect(metadata.labels == [
            "app.kubernetes.io/managed-by": "cairn",
            "cairn.dev/blueprint": "postgres-nightly",
            "cairn.dev/blueprint-namespace": "cairn-system",
            "cairn.dev/target-kind": "Deployment",
            "cairn.dev/target-name": "postgres",
        ])
        #expect(metadata.annotations?["cairn.dev/rendered-hash"]?.count == 16)
        #expect(rendered.configuration.status == nil)
        #expect(rendered.blueprint == NamespacedRef(name: "postgres-nightly", namespace: "cairn-system"))
    }

    @Test("Given the same inputs on two renderers, when rendered, then the hash is the same; a changed spec changes it")
    func givenSameInputs_whenRendered_thenStableHash() throws {
        let hash = { (renderer: Renderer, target: RenderTarget) throws -> String? in
            try rendering(renderer.render(target)).configuration.metadata.annotations?[CairnLabel.renderedHash]
        }
        let first = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])
        let second = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])

        let a = try hash(first, Fixture.deployment())
        let b = try hash(second, Fixture.deployment())
        let changed = try hash(first, Fixture.deployment(annotations: ["variables.cairn.dev/keep": "8"]))
        let otherName = try hash(first, Fixture.deployment(name: "db2"))

        #expect(a != nil)
        #expect(a == b)
        #expect(a == "a028d45d8bf69fc3", "the canonical form changed; re-record only on purpose")
        #expect(changed != a)
        #expect(otherName != a)
    }

    @Test("Given templates that differ only in key order, when rendered, then the hash is the same")
    func givenReorderedKeys_whenRendered_thenSameHash() throws {
        let one = try Fixture.blueprint(spec: "usagePolicy: {allowedNamespaces: {from: All}}\ntemplate:\n  storage: {name: s3, namespace: x}\n  sessions: [{name: d, schedule: \"@daily\"}]")
        let two = try Fixture.blueprint(spec: "usagePolicy: {allowedNamespaces: {from: All}}\ntemplate:\n  sessions: [{schedule: \"@daily\", name: d}]\n  storage: {namespace: x, name: s3}")

        let a = try rendering(Renderer(blueprints: [one]).render(Fixture.web())).configuration.metadata.annotations
        let b = try rendering(Renderer(blueprints: [two]).render(Fixture.web())).configuration.metadata.annotations

        #expect(a == b)
    }

    @Test("Given a target with a uid, when rendered, then the configuration is owned by it; without one, not")
    func givenUID_whenRendered_thenOwnerReference() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])

        let owned = try rendering(renderer.render(Fixture.deployment(uid: "u-1")))
        let offline = try rendering(renderer.render(Fixture.deployment(uid: nil)))

        #expect(owned.configuration.metadata.ownerReferences == [
            OwnerReference(
                apiVersion: "apps/v1", kind: "Deployment", name: "db", uid: "u-1", controller: true, blockOwnerDeletion: true)
        ])
        #expect(offline.configuration.metadata.ownerReferences == nil)
        #expect(owned.configuration.spec == offline.configuration.spec)
    }

    @Test("Given a Deployment manifest, when read as a target, then every field is taken and the namespace defaults")
    func givenManifest_whenRead_thenTarget() throws {
        let manifest = try YAML.parse(
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: db
              labels: {app: postgres}
              annotations:
                blueprint.cairn.dev/name: postgres-nightly
            """)

        let target = try RenderTarget(manifest: manifest)

        #expect(target == RenderTarget(
            apiVersion: "apps/v1", kind: "Deployment", name: "db", namespace: "default", uid: nil,
            labels: ["app": "postgres"], annotations: ["blueprint.cairn.dev/name": "postgres-nightly"]))
    }

    @Test(
        "Given a manifest missing or mistyping a field, when read, then the error names the field",
        arguments: [
            ("kind: Deployment\napiVersion: apps/v1\nmetadata: {namespace: app}", "metadata.name"),
            ("kind: Deployment\nmetadata: {name: db}", "apiVersion"),
            ("kind: Deployment\napiVersion: apps/v1\nmetadata: {name: db, labels: {version: 1}}", "metadata.labels.version"),
            ("- not an object", ""),
        ])
    func givenBadManifest_whenRead_thenError(yaml: String, field: String) throws {
        let manifest = try YAML.parse(yaml)

        let error = try #require(throws: RenderTargetError.self) { try RenderTarget(manifest: manifest) }

        #expect(error.field == field)
        if !field.isEmpty { #expect(error.message.contains(field)) }
    }
}
