import Foundation
import Kube
import YAML

/// The resource types the simulated components read and write.
enum Resources {
    static let nodes = Resource(group: "", version: "v1", plural: "nodes", namespaced: false)
    static let pods = Resource(group: "", version: "v1", plural: "pods", namespaced: true)
    static let secrets = Resource(group: "", version: "v1", plural: "secrets", namespaced: true)
    static let configMaps = Resource(group: "", version: "v1", plural: "configmaps", namespaced: true)
    static let claims = Resource(group: "", version: "v1", plural: "persistentvolumeclaims", namespaced: true)
    static let volumes = Resource(group: "", version: "v1", plural: "persistentvolumes", namespaced: false)
    static let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)
    static let statefulSets = Resource(group: "apps", version: "v1", plural: "statefulsets", namespaced: true)
    static let daemonSets = Resource(group: "apps", version: "v1", plural: "daemonsets", namespaced: true)
    static let jobs = Resource(group: "batch", version: "v1", plural: "jobs", namespaced: true)
    static let snapshots = Resource(group: "snapshot.storage.k8s.io", version: "v1", plural: "volumesnapshots", namespaced: true)
    static let snapshotContents = Resource(group: "snapshot.storage.k8s.io", version: "v1", plural: "volumesnapshotcontents", namespaced: false)
    static let snapshotClasses = Resource(group: "snapshot.storage.k8s.io", version: "v1", plural: "volumesnapshotclasses", namespaced: false)

    /// Every type a component may cache.
    static let all = [pods, claims, volumes, deployments, statefulSets, daemonSets, jobs, snapshots, snapshotContents, snapshotClasses]
}

/// Reading the fields of JSON-shaped objects.
extension Node {
    var name: String { self[path: "metadata", "name"]?.string ?? "" }
    var namespace: String { self[path: "metadata", "namespace"]?.string ?? "" }
    var uid: String { self[path: "metadata", "uid"]?.string ?? "" }
    var generation: Int { self[path: "metadata", "generation"]?.int ?? 0 }
    var isDeleting: Bool { self[path: "metadata", "deletionTimestamp"].map { !$0.isNull } ?? false }

    /// The string entries of a mapping (labels, annotations, data).
    var stringMap: [String: String] {
        var result: [String: String] = [:]
        for pair in mapping ?? [] {
            if let key = pair.key.string, let value = pair.value.string { result[key] = value }
        }
        return result
    }

    /// Whether `owner` is this object's controller (by uid).
    func isControlled(by owner: Node) -> Bool {
        (self[path: "metadata", "ownerReferences"]?.sequence ?? []).contains {
            $0["uid"]?.string == owner.uid && $0["controller"]?.bool == true
        }
    }

    /// The uid of this object's controller, if it has one.
    var controllerUID: String? {
        (self[path: "metadata", "ownerReferences"]?.sequence ?? []).first { $0["controller"]?.bool == true }?["uid"]?.string
    }

    /// The kind of this object's controller, if it has one.
    var controllerKind: String? {
        (self[path: "metadata", "ownerReferences"]?.sequence ?? []).first { $0["controller"]?.bool == true }?["kind"]?.string
    }

    /// Sets the value at a path of keys, creating mappings on the way.
    mutating func set(_ keys: [String], _ newValue: Node?) {
        guard let first = keys.first else { return }
        if keys.count == 1 {
            self[first] = newValue
            return
        }
        var child = self[first] ?? .mapping([])
        child.set(Array(keys.dropFirst()), newValue)
        self[first] = child
    }

    /// A mapping from string pairs, sorted by key.
    static func strings(_ values: [String: String]) -> Node {
        .mapping(values.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })
    }
}

/// An `ownerReference` naming `owner` as the controller.
func controllerReference(to owner: Node, apiVersion: String, kind: String) -> Node {
    .mapping(["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(owner.name),
              "uid": .string(owner.uid), "controller": true, "blockOwnerDeletion": true])
}

/// Deterministic short names: the same input always gives the same suffix, so a component that
/// acts twice on a stale cache asks for the same name and gets AlreadyExists, not a duplicate.
enum ShortHash {
    /// Kubernetes' `generateName` alphabet (no vowels, no look-alikes).
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// `count` characters of the alphabet derived from `text` (FNV-1a, 64 bits).
    static func suffix(_ text: String, count: Int = 5) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        var characters: [Character] = []
        for _ in 0..<count {
            characters.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
            if hash == 0 { hash = 0x9e37_79b9_7f4a_7c15 }
        }
        return String(characters)
    }
}

/// RFC 3339 time as Kubernetes writes it (seconds precision, UTC), as a node.
func timestamp(_ date: Date) -> Node { .string(KubeTime.time(date)) }

/// An error of a simulated component, with a message that says what to do.
public struct NodesError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A condition as Kubernetes writes it.
func condition(_ type: String, _ status: Bool, reason: String? = nil, message: String? = nil, at time: Date) -> Node {
    var node: Node = .mapping(["type": .string(type), "status": .string(status ? "True" : "False"),
                               "lastTransitionTime": timestamp(time)])
    if let reason { node["reason"] = .string(reason) }
    if let message { node["message"] = .string(message) }
    return node
}
