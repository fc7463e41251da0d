import CairnTesting
import Kube
import Testing
import YAML

/// A Cairn custom resource: generation, the status subresource and schema validation.
@Suite struct CustomResourceTests {
    static let resource = Conformance.backupConfigurations

    @Test func givenACustomResource_WhenSpecMetadataAndStatusChange_ThenOnlySpecChangesBumpGeneration() async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            var object = try await cluster.client.create(Self.resource, Conformance.backupConfiguration("db", in: cluster.namespace))
            #expect(object[path: "metadata", "generation"] == 1)

            object["metadata"]?["labels"] = .mapping(["tier": "gold"])
            object = try await cluster.client.update(Self.resource, object)
            #expect(object[path: "metadata", "generation"] == 1, "a metadata change")

            object["status"] = .mapping(["phase": "Ready"])
            object = try await cluster.client.updateStatus(Self.resource, object)
            #expect(object[path: "metadata", "generation"] == 1, "a status change")

            object["spec"]?["rpo"] = "26h"
            object = try await cluster.client.update(Self.resource, object)
            #expect(object[path: "metadata", "generation"] == 2, "a spec change")
        }
    }

    @Test func givenAStatusSubresource_WhenTheMainEndpointChangesStatus_ThenTheChangeIsIgnored() async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            var object = Conformance.backupConfiguration("db", in: cluster.namespace)
            object["status"] = .mapping(["phase": "Ready"])
            object = try await cluster.client.create(Self.resource, object)
            #expect(object["status"] == nil || object[path: "status", "phase"] == nil, "create drops status")

            object["status"] = .mapping(["phase": "Ready"])
            object["spec"]?["rpo"] = "26h"
            let updated = try await cluster.client.update(Self.resource, object)

            #expect(updated[path: "spec", "rpo"] == "26h")
            #expect(updated[path: "status", "phase"] == nil)
        }
    }

    @Test func givenAStatusSubresource_WhenStatusIsWrittenWithOtherChanges_ThenOnlyStatusIsStored() async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            var object = try await cluster.client.create(Self.resource, Conformance.backupConfiguration("db", in: cluster.namespace))

            object["status"] = .mapping(["phase": "Ready"])
            object["spec"]?["rpo"] = "26h"
            object["metadata"]?["labels"] = .mapping(["tier": "gold"])
            let written = try await cluster.client.updateStatus(Self.resource, object)

            #expect(written[path: "status", "phase"] == "Ready")
            #expect(written[path: "spec", "rpo"] == nil)
            #expect(written[path: "metadata", "labels"] == nil)
            let read = try await cluster.client.get(Self.resource, namespace: cluster.namespace, name: "db")
            #expect(read[path: "status", "phase"] == "Ready")
            #expect(read[path: "spec", "rpo"] == nil)
        }
    }

    @Test func givenASchemaViolation_WhenCreated_ThenInvalidNamesTheFieldInItsCauses() async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()

            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.create(Self.resource, Conformance.backupConfiguration("db", in: cluster.namespace, method: "tape"))
            }
            #expect(error?.kind == .invalid)
            #expect(error?.httpCode == 422)
            #expect(error?.status?.kind == "BackupConfiguration")
            #expect(error?.status?.group == "cairn.dev")
            let cause = try #require(error?.status?.causes.first)
            #expect(cause.reason == "FieldValueNotSupported")
            #expect(cause.field == "spec.sessions[0].method")
            #expect(cause.message?.contains(#""tape""#) == true)
            #expect(error?.message.hasPrefix(#"BackupConfiguration.cairn.dev "db" is invalid: spec.sessions[0].method: Unsupported value: "tape""#) == true,
                    "\(error?.message ?? "")")
        }
    }
}
