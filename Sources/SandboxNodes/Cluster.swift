import Foundation
import Kube
import YAML

/// What a simulated component sees and writes: the shared caches for reading, the client for
/// writing. Writes go to the API server only; the caches catch up through their watches.
struct Cluster: Sendable {
    let client: KubeClient
    let caches: [Resource: ObjectCache]

    /// The cached objects of `resource` (empty when it is not watched).
    func objects(_ resource: Resource) -> [Node] { caches[resource]?.objects ?? [] }

    /// The cached object, if any.
    func object(_ resource: Resource, namespace: String?, name: String) -> Node? {
        caches[resource]?.object(namespace: namespace, name: name)
    }

    /// Creates `object`; an object of that name already there is success (the component acted on
    /// a cache that had not seen it yet, and names are deterministic).
    func create(_ resource: Resource, _ object: Node) async throws {
        do {
            _ = try await client.create(resource, object)
        } catch let error as KubeError where error.kind == .alreadyExists {
            return
        }
    }

    /// Deletes an object; one already gone is success.
    func delete(_ resource: Resource, namespace: String?, name: String) async throws {
        do {
            try await client.delete(resource, namespace: namespace, name: name, propagationPolicy: .background)
        } catch let error as KubeError where error.kind == .notFound {
            return
        }
    }

    /// Writes `status` through the status subresource with a merge patch (no resourceVersion, so
    /// no conflict with the object's other writers); an object already gone is success.
    func patchStatus(_ resource: Resource, namespace: String?, name: String, _ status: Node) async throws {
        do {
            _ = try await client.patch(resource, namespace: namespace, name: name, .mapping(["status": status]), type: .merge, subresource: "status")
        } catch let error as KubeError where error.kind == .notFound {
            return
        }
    }

    /// Reads an object from the server (not the cache); nil when it does not exist.
    func read(_ resource: Resource, namespace: String?, name: String) async throws -> Node? {
        do {
            return try await client.get(resource, namespace: namespace, name: name)
        } catch let error as KubeError where error.kind == .notFound {
            return nil
        }
    }
}

/// One simulated control loop: level-based, it looks at the whole cached state each pass.
protocol Component: Sendable {
    /// For logs.
    var name: String { get }
    /// The resource types it reads from the caches; a change to any of them wakes it.
    var watches: [Resource] { get }
    /// One pass; returns how soon to look again even without a change (nil: only on a change or
    /// at the periodic resync).
    func reconcile() async throws -> Duration?
    /// Stops what the component started (processes); called once its loop has ended.
    func stop() async
}

extension Component {
    func stop() async {}
}
