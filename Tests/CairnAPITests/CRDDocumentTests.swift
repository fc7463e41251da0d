import CairnAPI
import Testing
import YAML

@Suite struct CRDDocumentTests {
    static func crd(name: String = "widgets.example.com", storage: String = "true", jsonPath: String = ".spec.size", extra: String = "") -> String {
        """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: \(name)}
        spec:
          group: example.com
          names: {kind: Widget, plural: widgets, shortNames: [wd]}
          scope: Cluster
          versions:
          - name: v1
            served: true
            storage: \(storage)
            subresources: {status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
            additionalPrinterColumns:
            - {name: Size, type: integer, jsonPath: "\(jsonPath)"}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {type: object, properties: {size: {type: integer}, replicas: {type: integer}}}
          \(extra)
        """
    }

    @Test func givenAValidCRD_whenLoaded_thenNamesVersionsColumnsAndSubresourcesAreExposed() throws {
        let crd = try CRDDocument(yaml: Self.crd())
        #expect(crd.group == "example.com")
        #expect(crd.names.kind == "Widget")
        #expect(crd.singular == "widget")
        #expect(crd.scope == .cluster)
        #expect(crd.storageVersion.name == "v1")
        #expect(crd.storageVersion.hasStatusSubresource)
        #expect(crd.storageVersion.scale?.specReplicasPath == ".spec.replicas")
        #expect(crd.storageVersion.printerColumns.map(\.name) == ["Size"])
        #expect(crd.storageVersion.columnPaths.first?.evaluate(.mapping(["spec": .mapping(["size": 3])])) == [3])
        let problems = try #require(crd.version("v1")?.schema).validate(.mapping(["spec": .mapping(["size": "big"])]))
        #expect(problems.map(\.path) == ["spec.size"])
    }

    @Test(arguments: [
        (crd(name: "widgets"), #"metadata.name: must be "widgets.example.com" (<plural>.<group>)"#),
        (crd(storage: "false"), "spec.versions: exactly one version must have storage: true; 0 do"),
        (crd(jsonPath: "spec.size"), #"additionalPrinterColumns[0].jsonPath: invalid JSONPath "spec.size""#),
        (crd(extra: "conversion: {strategy: None}\n  bogus: 1"), #"unknown field "spec.bogus""#),
    ])
    func givenABrokenCRD_whenLoaded_thenTheErrorSaysWhatToFix(text: String, expected: String) throws {
        let error = try #require(throws: NodeDecodingError.self) { try CRDDocument(yaml: text, file: "crd.yaml") }
        #expect(error.description.contains(expected), "\(error)")
    }
}
