@testable import Blueprint
import CairnAPI
import Testing
import YAML

@Suite("Renderer internals: fast paths agree with the reference implementations")
struct FastPathTests {
    static let specs: [String] = [
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nstorage: {name: s3}\nsessions: [{name: d, schedule: \"@daily\"}]",
        "target: {apiVersion: v1, kind: PersistentVolumeClaim, name: data}\nstorage: {name: s3, namespace: cs}\nencryptionSecret: {name: pw}\nsessions:\n  - {name: d, schedule: \"@daily\", timeZone: UTC, method: snapshot-restic, paused: true, volumeSnapshotClassName: csi, retention: {keepLast: 1, keepHourly: 2, keepDaily: 3, keepWeekly: 4, keepMonthly: 5, keepYearly: 6}}\nhooks:\n  preBackup: [{name: a, exec: {container: c, command: [x, z]}, onError: Continue, timeout: 5m, when: Always}]\n  postBackup: [{name: b, job: {template: {spec: {containers: [{name: x}]}}}, when: OnFailure}]\nvolumes: {pvcs: [a], include: [b], exclude: [c]}\nconcurrencyPolicy: Replace\nstartingDeadline: 1h\nretries: 3\ntimeout: 2h\nhistoryLimit: 5\nrpo: 26h",
        // Each of these must be declined by the fast path and rejected by the decoder.
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nstorage: {name: s3}\nsessions: [{name: d, schedule: \"@daily\", method: tape}]",
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nstorage: {name: s3}\nsessions: [{name: d, schedule: \"@daily\", retention: {keepLast: \"7\"}}]",
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nstorage: {name: s3}\nsessions: [{name: d, schedule: \"@daily\", extra: 1}]",
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nsessions: [{name: d, schedule: \"@daily\"}]",
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nstorage: {name: 5}\nsessions: []",
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nstorage: {name: s3}\nsessions: [{name: d, schedule: \"@daily\"}]\nhooks: {preBackup: [{name: a, exec: {command: x}}]}",
        // Nulls and integral floats go to the decoder, which accepts them.
        "target: {apiVersion: apps/v1, kind: Deployment, name: db}\nstorage: {name: s3, namespace: ~}\nsessions: [{name: d, schedule: \"@daily\", retention: {keepLast: 7.0}}]",
    ]

    @Test("Given a rendered spec, when read by the fast path, then it agrees with NodeDecoder or declines", arguments: specs)
    func givenSpec_whenFastPath_thenAgreesWithDecoder(_ yaml: String) throws {
        let node = try YAML.parse(yaml)

        let fast = SpecBuilder.spec(node)
        let decoded = Result { try NodeDecoder().decode(BackupConfigurationSpec.self, from: node) }

        switch decoded {
        case .success(let spec): if let fast { #expect(fast == spec) }
        case .failure: #expect(fast == nil)
        }
    }

    @Test("Given the full valid spec, when read by the fast path, then it is accepted")
    func givenFullSpec_whenFastPath_thenAccepted() throws {
        #expect(SpecBuilder.spec(try YAML.parse(Self.specs[1])) != nil)
    }

    @Test(
        "Given renderings with and without session filters and templated keys, when hashed, then the fast hash equals the reference",
        arguments: ["", "nightly", "hourly"])
    func givenRendering_whenHashed_thenFastEqualsReference(sessions: String) throws {
        let blueprint = try Fixture.blueprint(Fixture.postgres)
        let compiled = CompiledBlueprint(blueprint)
        let target = Fixture.deployment(annotations: sessions.isEmpty ? [:] : [BlueprintAnnotation.sessions: sessions])
        let resolution = Resolution(blueprint: compiled, target: target)
        let pass = RenderPass(blueprint: compiled, target: target, namespaceLabels: nil)
        let (filter, problems) = pass.selectSessions(resolution)
        #expect(problems.isEmpty)
        let spec = Substitution(template: compiled.template, resolution: resolution, sessions: filter).renderSpec()
        let labels = [(key: "a", value: "1"), (key: "b", value: "2")]

        let fast = CanonicalHash.rendered(spec: spec, template: compiled.template, sortedLabels: labels)
        let reference = CanonicalHash.rendered(spec: spec, labels: ["b": "2", "a": "1"])

        #expect(fast == reference)
    }

    @Test("Given a failure, when described, then it names the target, the blueprint and each problem with its fix")
    func givenFailure_whenDescribed_thenReadable() throws {
        let renderer = Renderer(blueprints: [try Fixture.blueprint(Fixture.postgres)])
        var target = Fixture.deployment()
        target.annotations["variables.cairn.dev/dbName"] = nil

        let failed = try failure(renderer.render(target))

        #expect(failed.description == """
            Deployment app/db: 1 problem rendering BackupBlueprint cairn-system/postgres-nightly:
              - MissingVariable: variable dbName is required but not set \
            (at spec.template.hooks.preBackup[0].exec.command[2] (41:35)); \
            fix: set annotation variables.cairn.dev/dbName on Deployment app/db
            """)
    }
}
