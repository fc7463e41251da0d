import Foundation
import YAML

/// A container's environment resolved as kubelet resolves it: `envFrom` first, then `env`, later
/// entries winning; literal values with `$(VAR)` expansion, Secret and ConfigMap keys, and
/// `fieldRef`. A missing object or key fails with kubelet's wording (which names it), unless the
/// reference is `optional`. Shared by the simulated kubelet and the sandbox's `pods/exec`.
public enum ContainerEnvironment {
    /// Reads a `secrets` or `configmaps` object in the Pod's namespace; nil when it does not exist.
    public typealias Lookup = @Sendable (_ plural: String, _ name: String) async throws -> Node?

    /// The variables of `container` (a `spec.containers[i]`) of `pod`, in kubelet's order.
    public static func resolve(_ container: Node, in pod: Node, lookup: Lookup) async throws(ContainerEnvironmentError) -> [(String, String)] {
        var result: [(String, String)] = []
        for source in container["envFrom"]?.sequence ?? [] {
            result += try await fromSource(source, lookup: lookup, namespace: pod.namespace)
        }
        var values = Dictionary(result, uniquingKeysWith: { _, last in last })
        for entry in container["env"]?.sequence ?? [] {
            guard let name = entry["name"]?.string else { continue }
            let value: String?
            if let literal = entry["value"]?.string {
                value = expand(literal, values)
            } else if let from = entry["valueFrom"] {
                value = try await valueFrom(from, pod: pod, lookup: lookup)
            } else {
                value = ""
            }
            if let value {
                result.append((name, value))
                values[name] = value
            }
        }
        return result
    }

    private static func valueFrom(_ from: Node, pod: Node, lookup: Lookup) async throws(ContainerEnvironmentError) -> String? {
        if let ref = from["secretKeyRef"] {
            return try await key(ref, plural: "secrets", kind: "Secret", namespace: pod.namespace, lookup: lookup)
        }
        if let ref = from["configMapKeyRef"] {
            return try await key(ref, plural: "configmaps", kind: "ConfigMap", namespace: pod.namespace, lookup: lookup)
        }
        if let path = from[path: "fieldRef", "fieldPath"]?.string {
            switch path {
            case "metadata.name": return pod.name
            case "metadata.namespace": return pod.namespace
            case "metadata.uid": return pod.uid
            case "spec.nodeName": return pod[path: "spec", "nodeName"]?.string ?? ""
            case "status.podIP", "status.hostIP": return "127.0.0.1"
            default: throw ContainerEnvironmentError(message: "the sandbox does not support fieldRef \(path)")
            }
        }
        throw ContainerEnvironmentError(message: "the sandbox supports valueFrom secretKeyRef, configMapKeyRef and fieldRef only")
    }

    /// One key of a Secret or ConfigMap; nil when optional and missing.
    private static func key(_ ref: Node, plural: String, kind: String, namespace: String, lookup: Lookup) async throws(ContainerEnvironmentError) -> String? {
        let name = ref["name"]?.string ?? ""
        let key = ref["key"]?.string ?? ""
        let optional = ref["optional"]?.bool == true
        guard let object = try await fetch(plural, name, lookup: lookup) else {
            if optional { return nil }
            throw ContainerEnvironmentError(message: "\(plural.dropLast()) \"\(name)\" not found")
        }
        guard let value = data(of: object, plural: plural)[key] else {
            if optional { return nil }
            throw ContainerEnvironmentError(message: "couldn't find key \(key) in \(kind) \(namespace)/\(name)")
        }
        return value
    }

    private static func fromSource(_ source: Node, lookup: Lookup, namespace: String) async throws(ContainerEnvironmentError) -> [(String, String)] {
        let prefix = source["prefix"]?.string ?? ""
        let (ref, plural) = if let ref = source["secretRef"] { (ref, "secrets") } else { (source["configMapRef"] ?? .null, "configmaps") }
        let name = ref["name"]?.string ?? ""
        guard let object = try await fetch(plural, name, lookup: lookup) else {
            if ref["optional"]?.bool == true { return [] }
            throw ContainerEnvironmentError(message: "\(plural.dropLast()) \"\(name)\" not found")
        }
        return data(of: object, plural: plural).sorted { $0.key < $1.key }.map { (prefix + $0.key, $0.value) }
    }

    private static func fetch(_ plural: String, _ name: String, lookup: Lookup) async throws(ContainerEnvironmentError) -> Node? {
        do { return try await lookup(plural, name) } catch {
            throw ContainerEnvironmentError(message: "could not read \(plural.dropLast()) \"\(name)\": \(error)")
        }
    }

    /// A Secret's decoded `data` (and `stringData`, which a real API server folds into `data`), or
    /// a ConfigMap's `data`.
    public static func data(of object: Node, plural: String) -> [String: String] {
        guard plural == "secrets" else { return object["data"]?.stringMap ?? [:] }
        var values = object["stringData"]?.stringMap ?? [:]
        for (key, encoded) in object["data"]?.stringMap ?? [:] {
            if let data = Data(base64Encoded: encoded) { values[key] = String(decoding: data, as: UTF8.self) }
        }
        return values
    }

    /// Kubernetes' `$(VAR)` expansion: known variables are replaced, `$$` is a literal `$`, and
    /// unknown references stay as written.
    public static func expand(_ text: String, _ values: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("$") {
                result += "$"
                rest = after.dropFirst()
            } else if after.hasPrefix("("), let close = after.firstIndex(of: ")"), let value = values[String(after[after.index(after: after.startIndex)..<close])] {
                result += value
                rest = after[after.index(after: close)...]
            } else {
                result += "$"
                rest = after
            }
        }
        return result + rest
    }

}

/// A container's environment names a Secret, ConfigMap, key or field the sandbox cannot provide.
public struct ContainerEnvironmentError: Error, Sendable, CustomStringConvertible {
    /// kubelet's message: `secret "db" not found`, `couldn't find key password in Secret app/db`.
    public let message: String

    /// Creates the error with kubelet's message.
    public init(message: String) { self.message = message }

    public var description: String { message }
}
