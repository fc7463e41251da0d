import AutoBackup
import BenchSupport
import ClusterBench
import Blueprint
import CairnAPI
import Foundation
import Kube
import YAML

/// The benchmark's cluster content: blueprints copied from the repository's own, annotated
/// Deployments spread over namespaces, and which blueprint each Deployment names.
struct Fixtures {
    static let blueprintNamespace = "cairn-system"
    static let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)
    static let storages = Resource(group: CairnGroup.group, version: CairnGroup.version, plural: "backupstorages", namespaced: true)
    static let secrets = Resource(group: "", version: "v1", plural: "secrets", namespaced: true)
    /// The repository's blueprints that may target a Deployment; each needs at most `dbName` and `schedule`.
    static let sources = ["mysql-mysqldump.yaml", "postgres-pgdump.yaml", "restic-workload.yaml"]

    let workloads: Int
    let namespaces: Int
    /// The blueprints as the files spell them (plain `${...}` scalars keep their YAML style).
    let blueprints: [Node]

    init(repository: URL, workloads: Int, namespaces: Int, blueprints count: Int) throws {
        self.workloads = workloads
        self.namespaces = namespaces
        let originals = try Self.sources.map { file in
            let url = repository.appendingPathComponent("blueprints").appendingPathComponent(file)
            return try YAML.parse(try String(contentsOf: url, encoding: .utf8), file: file)
        }
        blueprints = (0..<count).map { index in
            var copy = originals[index % originals.count]
            var metadata = copy["metadata"] ?? .mapping([])
            metadata["name"] = .string("\(metadata["name"]?.string ?? "bp")-\(index)")
            metadata["namespace"] = .string(Self.blueprintNamespace)
            copy["metadata"] = metadata
            return copy
        }
    }

    /// Which blueprint Deployment `index` names: every fifth the first (the one the edit touches,
    /// so one edit reaches a fifth of the targets: 2,000 of 10,000), the rest spread over the others.
    func blueprintIndex(of index: Int) -> Int {
        guard index % 5 != 0 else { return 0 }
        return 1 + (index - index / 5 - 1) % (blueprints.count - 1)
    }

    /// How many Deployments name the first blueprint.
    var editedTargets: Int { (workloads + 4) / 5 }

    func namespace(of index: Int) -> String { "team-\(index % namespaces)" }

    func deploymentName(_ index: Int) -> String { "workload-\(index)" }

    static func blueprintName(_ blueprint: Node) -> String { blueprint[path: "metadata", "name"]?.string ?? "" }

    /// Deployment `index`, opted in to its blueprint with a database name and a schedule.
    func deployment(_ index: Int) -> Node {
        let name = deploymentName(index)
        let labels: Node = .mapping(["app": .string(name)])
        let annotations: Node = .mapping([
            Node.Pair(key: .string(BlueprintAnnotation.name), value: .string(Self.blueprintName(blueprints[blueprintIndex(of: index)]))),
            Node.Pair(key: .string(BlueprintAnnotation.namespace), value: .string(Self.blueprintNamespace)),
            Node.Pair(key: .string(BlueprintAnnotation.variable("dbName")), value: .string("db_\(index)")),
            Node.Pair(key: .string(BlueprintAnnotation.variable("schedule")), value: .string("\(index % 60) \(index % 24) * * *")),
        ])
        let container: Node = .mapping(["name": "postgres", "image": "postgres:16"])
        return .mapping([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace(of: index)), "labels": labels, "annotations": annotations]),
            "spec": .mapping([
                "replicas": 0, "selector": .mapping(["matchLabels": labels]),
                "template": .mapping(["metadata": .mapping(["labels": labels]), "spec": .mapping(["containers": .sequence([container])])]),
            ]),
        ])
    }

    /// The first blueprint with its template's `timeout` changed: every configuration rendered from it changes.
    func editedFirstBlueprint(_ live: Node) -> Node {
        var blueprint = live
        var spec = blueprint["spec"] ?? .mapping([])
        var template = spec["template"] ?? .mapping([])
        template["timeout"] = "5h"
        spec["template"] = template
        blueprint["spec"] = spec
        return blueprint
    }

    /// A renderer over these blueprints as decoded from their files, independent of the controller's
    /// reading of the live objects; `editFirst` applies ``editedFirstBlueprint(_:)`` first.
    func renderer(editFirst: Bool) throws -> Renderer {
        let decoded = try blueprints.enumerated().map { index, node in
            try NodeDecoder().decode(BackupBlueprint.self, from: index == 0 && editFirst ? editedFirstBlueprint(node) : node)
        }
        return Renderer(blueprints: decoded)
    }
}

/// Creates every object in `examples/storage` (namespace cairn-system, the credentials Secret, BackupStorage `default`).
func createStorage(client: KubeClient, repository: URL) async throws {
    let url = repository.appendingPathComponent("examples/storage/storage.yaml")
    for object in try YAML.parseStream(try String(contentsOf: url, encoding: .utf8), file: "storage.yaml") where !object.isNull {
        let resource: Resource
        switch object["kind"]?.string {
        case "Namespace": resource = CairnResource.namespaces
        case "Secret": resource = Fixtures.secrets
        case "BackupStorage": resource = Fixtures.storages
        case let other: throw BenchError("examples/storage/storage.yaml holds a \(other ?? "kindless object"); the benchmark knows Namespace, Secret and BackupStorage")
        }
        _ = try await client.create(resource, object)
    }
}
