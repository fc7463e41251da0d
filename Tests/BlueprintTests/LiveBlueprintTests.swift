import Blueprint
import CairnAPI
import Foundation
import Testing
import YAML

/// Blueprints as the API server returns them: JSON, where a plain `${ref}` comes back quoted.
@Suite struct LiveBlueprintTests {
    /// The package root, found from this file.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func fromFile() throws -> Node {
        let url = repository.appendingPathComponent("blueprints/postgres-pgdump.yaml")
        var blueprint = try YAML.parse(try String(contentsOf: url, encoding: .utf8))
        var metadata = try #require(blueprint["metadata"])
        metadata["namespace"] = "app"
        blueprint["metadata"] = metadata
        return blueprint
    }

    static func fromServer() throws -> Node {
        try JSON.parse(try JSON.emit(try fromFile()))
    }

    static func render(_ node: Node, variables: [String: String] = [:]) throws -> RenderOutcome {
        let blueprint = try NodeDecoder().decode(BackupBlueprint.self, from: node)
        var annotations = [BlueprintAnnotation.name: "postgres-nightly", BlueprintAnnotation.variable("dbName"): "orders"]
        for (name, value) in variables { annotations[BlueprintAnnotation.variable(name)] = value }
        let target = RenderTarget(
            apiVersion: "apps/v1", kind: "Deployment", name: "db", namespace: "app", uid: "uid-db", annotations: annotations)
        return Renderer(blueprints: [blueprint]).render(target)
    }

    @Test func givenABlueprintReadAsJSON_WhenRenderedAsIs_ThenALoneIntegerReferenceFails() throws {
        let failure = try #require(try Self.render(try Self.fromServer()).failure)
        #expect(failure.problems.contains { $0.variable == "keepDaily" })
    }

    @Test func givenABlueprintReadAsJSON_WhenLoneReferencesAreMadePlain_ThenItRendersIntegersAndKeepsStrings() throws {
        let rendering = try #require(try Self.render(LiveBlueprint.plainReferences(try Self.fromServer())).rendering)
        let session = try #require(rendering.configuration.spec.sessions.first)
        #expect(session.retention?.keepDaily == 7)
        #expect(session.schedule == "30 1 * * *")
        #expect(rendering.configuration.spec.storage.name == "default")
    }

    /// The schema the BackupConfiguration CRD in `crds/` declares, as the controller reads it from the cluster.
    static func configurationSchema() throws -> StructuralSchema {
        let url = Self.repository.appendingPathComponent("crds/cairn.dev_backupconfigurations.yaml")
        let crd = try CRDDocument(yaml: try String(contentsOf: url, encoding: .utf8))
        return try #require(crd.version(CairnGroup.version)?.schema)
    }

    @Test func givenTheSchema_WhenAStringFieldsValueLooksLikeANumber_ThenItStaysAString() throws {
        let live = LiveBlueprint.plainReferences(try Self.fromServer(), configurationSchema: try Self.configurationSchema())

        let rendering = try #require(try Self.render(live, variables: ["storage": "0800", "keepDaily": "14"]).rendering)

        #expect(rendering.configuration.spec.storage.name == "0800", "a string field keeps the text as written")
        #expect(rendering.configuration.spec.sessions.first?.retention?.keepDaily == 14, "an integer field still gets an integer")
    }

    @Test func givenNoSchema_WhenAStringFieldsValueLooksLikeANumber_ThenTheRenderFailsNamingTheVariable() throws {
        let live = LiveBlueprint.plainReferences(try Self.fromServer())

        let failure = try #require(try Self.render(live, variables: ["storage": "0800"]).failure)

        #expect(failure.problems.contains { $0.variable == "storage" }, "\(failure.problems)")
    }

    @Test func givenTheSchema_WhenABlueprintIsReadFromYAMLAndFromJSON_ThenQuotingAsWrittenDoesNotMatter() throws {
        let schema = try Self.configurationSchema()
        // Quoted where the schema wants an integer, plain where it wants a string: the cluster cannot
        // tell these apart from the usual way round, so a file must not render differently either.
        let text = try String(contentsOf: Self.repository.appendingPathComponent("blueprints/postgres-pgdump.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "keepDaily: ${keepDaily}", with: "keepDaily: \"${keepDaily}\"")
            .replacingOccurrences(of: "name: \"${storage:=default}\"", with: "name: ${storage:=default}")
        var file = try YAML.parse(text)
        var metadata = try #require(file["metadata"])
        metadata["namespace"] = "app"
        file["metadata"] = metadata
        let served = try JSON.parse(try JSON.emit(file))
        let variables = ["storage": "0800", "keepDaily": "14"]

        let fromFile = try Self.render(LiveBlueprint.plainReferences(file, configurationSchema: schema), variables: variables)
        let fromServer = try Self.render(LiveBlueprint.plainReferences(served, configurationSchema: schema), variables: variables)

        let rendering = try #require(fromFile.rendering, "\(String(describing: fromFile.failure))")
        #expect(rendering.configuration.spec.storage.name == "0800")
        #expect(rendering.configuration.spec.sessions.first?.retention?.keepDaily == 14)
        #expect(fromFile == fromServer)
    }
}
