import Foundation
import Sandbox
import Synchronization
import YAML

/// A store with a fixed clock, predictable generated names and uids.
enum Fixture {
    static let now = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let pods = ResourceID(version: "v1", plural: "pods")
    static let configMaps = ResourceID(version: "v1", plural: "configmaps")
    static let deployments = ResourceID(group: "apps", version: "v1", plural: "deployments")
    static let replicaSets = ResourceID(group: "apps", version: "v1", plural: "replicasets")

    static func store(historyLimit: Int = 1000, watcherBufferLimit: Int = 1000, suffixes: [String] = []) -> ObjectStore {
        let counter = Mutex(0)
        let names = Mutex(suffixes)
        let configuration = ObjectStore.Configuration(
            clock: { now },
            nameSuffix: {
                names.withLock { list in list.isEmpty ? "zzzzz" : list.removeFirst() }
            },
            uid: {
                counter.withLock { value in
                    value += 1
                    return "uid-\(value)"
                }
            },
            historyLimit: historyLimit, watcherBufferLimit: watcherBufferLimit)
        return ObjectStore(configuration: configuration)
    }

    /// A store that already has namespace `ns`.
    static func storeWithNamespace(historyLimit: Int = 1000, watcherBufferLimit: Int = 1000, suffixes: [String] = []) async throws -> ObjectStore {
        let store = store(historyLimit: historyLimit, watcherBufferLimit: watcherBufferLimit, suffixes: suffixes)
        _ = try await store.create(namespace("ns"), in: .namespaces)
        return store
    }

    static func namespace(_ name: String) -> Node { .mapping(["metadata": .mapping(["name": .string(name)])]) }

    static func object(_ name: String, labels: [String: String] = [:], spec: Node = .mapping([]), finalizers: [String] = [], owners: [Node] = []) -> Node {
        var metadata: Node = .mapping(["name": .string(name)])
        if !labels.isEmpty {
            metadata["labels"] = .mapping(labels.sorted { $0.key < $1.key }.map { Node.Pair(key: .string($0.key), value: .string($0.value)) })
        }
        if !finalizers.isEmpty { metadata["finalizers"] = .sequence(finalizers.map { .string($0) }) }
        if !owners.isEmpty { metadata["ownerReferences"] = .sequence(owners) }
        return .mapping(["metadata": metadata, "spec": spec])
    }

    static func owner(_ object: Node, block: Bool = false) -> Node {
        var reference: Node = .mapping([
            "apiVersion": object["apiVersion"] ?? "v1", "kind": object["kind"] ?? "", "name": object["metadata"]?["name"] ?? "",
            "uid": object["metadata"]?["uid"] ?? "",
        ])
        if block { reference["blockOwnerDeletion"] = true }
        return reference
    }
}

extension Node {
    var rv: String { self["metadata"]?["resourceVersion"]?.string ?? "" }
    func meta(_ key: String) -> Node? { self["metadata"]?[key] }
}

/// Reads up to `count` events from a stream without waiting for more.
func take(_ count: Int, from stream: AsyncStream<WatchEvent>) async -> [WatchEvent] {
    var events: [WatchEvent] = []
    var iterator = stream.makeAsyncIterator()
    while events.count < count, let event = await iterator.next() { events.append(event) }
    return events
}

func json(_ node: Node) throws -> String { try JSON.emit(node) }
