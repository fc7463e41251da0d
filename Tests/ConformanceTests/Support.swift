import CairnTesting
import Kube
import YAML

/// Resource types and objects the conformance tests share.
enum Conformance {
    static let configMaps = Resource(group: "", version: "v1", plural: "configmaps", namespaced: true)
    static let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)
    static let backupConfigurations = Resource(group: "cairn.dev", version: "v1alpha1", plural: "backupconfigurations", namespaced: true)
    static let noSuchResource = Resource(group: "widgets.example.invalid", version: "v1", plural: "widgets", namespaced: true)

    /// A ConfigMap with labels and data.
    static func configMap(_ name: String, in namespace: String, labels: [String: String] = [:], data: [String: String] = [:]) -> Node {
        var metadata: Node = .mapping(["name": .string(name), "namespace": .string(namespace)])
        if !labels.isEmpty { metadata["labels"] = mapping(labels) }
        return .mapping(["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": mapping(data)])
    }

    static func mapping(_ values: [String: String]) -> Node {
        .mapping(values.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })
    }

    /// A valid BackupConfiguration (its CRD must be installed).
    static func backupConfiguration(_ name: String, in namespace: String, schedule: String = "0 3 * * *", method: String = "restic") -> Node {
        .mapping([
            "apiVersion": "cairn.dev/v1alpha1", "kind": "BackupConfiguration",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]),
            "spec": .mapping([
                "target": .mapping(["apiVersion": "apps/v1", "kind": "StatefulSet", "name": "postgres"]),
                "storage": .mapping(["name": "default", "namespace": "cairn-system"]),
                "sessions": [.mapping(["name": "nightly", "schedule": .string(schedule), "method": .string(method)])],
            ]),
        ])
    }

    /// A Deployment running `containers` (name, image) pairs.
    static func deployment(_ name: String, in namespace: String, containers: KeyValuePairs<String, String>) -> Node {
        let labels: Node = .mapping(["app": .string(name)])
        return .mapping([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]),
            "spec": .mapping([
                "replicas": 0, "selector": .mapping(["matchLabels": labels]),
                "template": .mapping([
                    "metadata": .mapping(["labels": labels]),
                    "spec": .mapping(["containers": .sequence(containers.map { .mapping(["name": .string($0.key), "image": .string($0.value)]) })]),
                ]),
            ]),
        ])
    }

    /// An owner reference to `owner`.
    static func ownerReference(to owner: Node, blockOwnerDeletion: Bool = false) -> Node {
        var reference: Node = .mapping([
            "apiVersion": owner["apiVersion"] ?? "v1", "kind": owner["kind"] ?? "",
            "name": owner[path: "metadata", "name"] ?? "", "uid": owner[path: "metadata", "uid"] ?? "",
        ])
        if blockOwnerDeletion { reference["blockOwnerDeletion"] = true }
        return reference
    }
}

/// A JSON document as a `Node`, for patches and expected values.
func node(_ json: String) throws -> Node { try JSON.parse(json) }

extension TestCluster {
    /// Whether the object is gone (404).
    func isGone(_ resource: Resource, namespace: String? = nil, name: String) async throws -> Bool {
        do {
            _ = try await client.get(resource, namespace: namespace, name: name)
            return false
        } catch let error as KubeError where error.kind == .notFound {
            return true
        }
    }
}

extension Node {
    /// `metadata.name`.
    var name: String { self[path: "metadata", "name"]?.string ?? "" }
    /// `metadata.resourceVersion`.
    var resourceVersion: String { self[path: "metadata", "resourceVersion"]?.string ?? "" }
}


/// Reads watch events (skipping bookmarks unless asked for) until `stop` says enough.
func collect(_ stream: AsyncThrowingStream<WatchEvent, any Error>, bookmarks: Bool = false,
             until stop: @Sendable ([WatchEvent]) -> Bool) async throws -> [WatchEvent] {
    var events: [WatchEvent] = []
    for try await event in stream {
        if case .bookmark = event, !bookmarks { continue }
        events.append(event)
        if stop(events) { break }
    }
    return events
}

extension WatchEvent {
    /// `ADDED name`, `MODIFIED name`, ..., for comparing sequences of events.
    var summary: String {
        switch self {
        case .added(let object): "ADDED \(object.name)"
        case .modified(let object): "MODIFIED \(object.name)"
        case .deleted(let object): "DELETED \(object.name)"
        case .bookmark: "BOOKMARK"
        case .error(let status): "ERROR \(status.code ?? 0)"
        }
    }
}
