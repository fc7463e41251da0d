import CairnAPI
import Foundation
import Testing
import YAML

/// The same broken manifest through the strict decoder (what `cairn render` reports) and through
/// the CRD schema (what the API server reports): both name the path.
@Suite struct StrictDecodingTests {
    static let manifest = """
        apiVersion: cairn.dev/v1alpha1
        kind: BackupConfiguration
        metadata:
          name: statefulset-postgres
          namespace: app
        spec:
          target: {apiVersion: apps/v1, kind: StatefulSet, name: postgres}
          storage:
            name: s3
          sessions:
          - name: nightly
            schedule: "30 1 * * *"
            method: restic
            retention:
              keepLast: 7
        """

    static let schema: StructuralSchema = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../crds/cairn.dev_backupconfigurations.yaml").standardizedFileURL
        do {
            return try #require(try CRDDocument(yaml: String(contentsOf: url, encoding: .utf8)).storageVersion.schema)
        } catch { fatalError("\(error)") }
    }()

    static func edited(_ old: String, _ new: String) -> String {
        precondition(manifest.contains(old), old)
        return manifest.replacingOccurrences(of: old, with: new)
    }

    @Test func givenAValidManifest_whenDecodedAndValidated_thenBothAccept() throws {
        let node = try YAML.parse(Self.manifest, file: "bc.yaml")
        let config = try NodeDecoder(file: "bc.yaml").decode(BackupConfiguration.self, from: node)
        #expect(config.spec.sessions.first?.retention?.keepLast == 7)
        #expect(Self.schema.validate(node).isEmpty)
    }

    @Test(arguments: [
        (edited("keepLast: 7", "keepLast: seven"), NodeDecodingError.Kind.typeMismatch,
         #"bc.yaml:15:17: spec.sessions[0].retention.keepLast: expected integer, got string "seven""#,
         #"spec.sessions[0].retention.keepLast: Invalid value: "string": spec.sessions[0].retention.keepLast in body must be of type integer: "string""#),
        (edited("keepLast: 7", "keepLast: \"7\""), .typeMismatch,
         #"bc.yaml:15:17: spec.sessions[0].retention.keepLast: expected integer, got string "7""#,
         #"spec.sessions[0].retention.keepLast: Invalid value: "string": spec.sessions[0].retention.keepLast in body must be of type integer: "string""#),
        (edited("retention:", "retension:"), .unknownField,
         #"bc.yaml:14:5: unknown field "spec.sessions[0].retension""#,
         #"unknown field "spec.sessions[0].retension""#),
        (edited("    name: s3", "    namespace: cairn-system"), .missingField,
         #"bc.yaml:9:5: spec.storage: required field "name" is missing"#,
         "spec.storage.name: Required value"),
        (edited("method: restic", "method: rsync"), .invalidValue,
         #"bc.yaml:13:13: spec.sessions[0].method: unsupported value "rsync"; supported values: "restic", "snapshot", "snapshot-restic""#,
         #"spec.sessions[0].method: Unsupported value: "rsync": supported values: "restic", "snapshot", "snapshot-restic""#),
    ])
    func givenABrokenManifest_whenDecodedAndValidated_thenBothNameThePath(
        text: String, kind: NodeDecodingError.Kind, decoderMessage: String, serverMessage: String
    ) throws {
        let node = try YAML.parse(text, file: "bc.yaml")
        let error = try #require(throws: NodeDecodingError.self) {
            try NodeDecoder(file: "bc.yaml").decode(BackupConfiguration.self, from: node)
        }
        #expect(error.kind == kind)
        #expect(error.description == decoderMessage)
        #expect(Self.schema.validate(node).map(\.description) == [serverMessage])
    }

    @Test func givenSeveralUnknownFields_whenDecoded_thenOneErrorListsThemAllInDocumentOrder() throws {
        let text = Self.edited("retention:", "retension:") + "\n  rpoo: 26h\nstatus: {phasee: Ready}"
        let error = try #require(throws: NodeDecodingError.self) {
            try NodeDecoder(file: "bc.yaml").decode(BackupConfiguration.self, from: try YAML.parse(text, file: "bc.yaml"))
        }
        #expect(error.description == """
            bc.yaml:14:5: unknown field "spec.sessions[0].retension"
            bc.yaml:16:3: unknown field "spec.rpoo"
            bc.yaml:17:10: unknown field "status.phasee"
            """)
    }
}
