import Foundation
import YAML

/// A container's `env` resolved as the kubelet resolves it: literal values, and values taken from
/// Secrets and ConfigMaps in the pod's namespace. A missing object or key fails with the kubelet's
/// wording (which names it), unless the reference is `optional`.
struct ContainerEnvironment: Sendable {
    static let secrets = ResourceID(version: "v1", plural: "secrets")
    static let configMaps = ResourceID(version: "v1", plural: "configmaps")

    /// The container spec (`spec.containers[i]`).
    var container: Node
    /// The pod's namespace.
    var namespace: String

    /// The variables in order of declaration; a later one of the same name wins.
    func resolve(in store: ObjectStore) async throws(ContainerEnvironmentError) -> [String: String] {
        var variables: [String: String] = [:]
        for entry in container["env"]?.sequence ?? [] {
            guard let name = entry["name"]?.string else { continue }
            if let value = try await value(of: entry, in: store) { variables[name] = value }
        }
        return variables
    }

    private func value(of entry: Node, in store: ObjectStore) async throws(ContainerEnvironmentError) -> String? {
        if let secret = entry[path: "valueFrom", "secretKeyRef"] {
            return try await reference(secret, kind: "Secret", resource: Self.secrets, in: store) { data in
                guard let text = data.string, let decoded = Data(base64Encoded: text) else { return nil }
                return String(decoding: decoded, as: UTF8.self)
            }
        }
        if let configMap = entry[path: "valueFrom", "configMapKeyRef"] {
            return try await reference(configMap, kind: "ConfigMap", resource: Self.configMaps, in: store) { $0.string }
        }
        return entry["value"]?.string ?? ""
    }

    /// The value under `key` of the object a `secretKeyRef` or `configMapKeyRef` names; `nil` for an
    /// optional reference to something missing.
    private func reference(
        _ ref: Node, kind: String, resource: ResourceID, in store: ObjectStore, decode: (Node) -> String?
    ) async throws(ContainerEnvironmentError) -> String? {
        let name = ref["name"]?.string ?? "", key = ref["key"]?.string ?? ""
        let optional = ref["optional"]?.bool ?? false
        let object: Node
        do {
            object = try await store.get(resource, namespace: namespace, name: name)
        } catch {
            guard error.reason == "NotFound" else { throw ContainerEnvironmentError(message: error.message) }
            if optional { return nil }
            throw ContainerEnvironmentError(message: "\(kind.lowercased()) \"\(name)\" not found")
        }
        guard let stored = object[path: "data", key], let value = decode(stored) else {
            if optional { return nil }
            throw ContainerEnvironmentError(message: "couldn't find key \(key) in \(kind) \(namespace)/\(name)")
        }
        return value
    }
}

/// A container's environment names a Secret, ConfigMap or key that does not exist.
struct ContainerEnvironmentError: Error, Sendable, CustomStringConvertible {
    /// The kubelet's message: `secret "db" not found`, `couldn't find key password in Secret app/db`.
    let message: String

    var description: String { message }
}
