import CairnAPI
import YAML

/// The object being rendered for: a workload or PVC, reduced to what the renderer reads.
public struct RenderTarget: Sendable, Equatable, Hashable {
    /// `apps/v1`, `v1`, ...
    public var apiVersion: String
    /// `Deployment`, `PersistentVolumeClaim`, ...
    public var kind: String
    /// `metadata.name`.
    public var name: String
    /// `metadata.namespace`.
    public var namespace: String
    /// `metadata.uid`; absent in offline manifests, which then get no ownerReference.
    public var uid: String?
    /// `metadata.labels`.
    public var labels: [String: String]
    /// `metadata.annotations`, where the opt-in and the variables live.
    public var annotations: [String: String]

    /// Creates a target from its parts.
    public init(
        apiVersion: String, kind: String, name: String, namespace: String, uid: String? = nil,
        labels: [String: String] = [:], annotations: [String: String] = [:]
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.labels = labels
        self.annotations = annotations
    }

    /// The API group: `apps` for `apps/v1`, empty for the core `v1`.
    public var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// `Deployment app/db`, as messages name the object.
    public var displayName: String { "\(kind) \(namespace)/\(name)" }
}

/// A Kubernetes object that cannot be read as a render target.
public struct RenderTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field that is missing or wrong, such as `metadata.name`.
    public var field: String
    /// Where the offending node is, when known.
    public var mark: Mark?
    /// What is wrong and what to write instead.
    public var message: String

    /// `line:column: message` when the position is known.
    public var description: String {
        (mark.map { "\($0): " } ?? "") + message
    }
}

extension RenderTarget {
    /// Reads a Kubernetes object; the namespace defaults to `default` when absent, as with kubectl.
    public init(manifest: Node) throws(RenderTargetError) {
        guard manifest.mapping != nil else {
            throw RenderTargetError(
                field: "", mark: manifest.mark,
                message: "expected a Kubernetes object (a mapping), found a \(manifest.typeName)")
        }
        let metadata = manifest["metadata"] ?? Node(.mapping([]))
        self.init(
            apiVersion: try Self.requiredString(manifest, "apiVersion", in: manifest),
            kind: try Self.requiredString(manifest, "kind", in: manifest),
            name: try Self.requiredString(metadata, "name", in: manifest, prefix: "metadata."),
            namespace: try Self.optionalString(metadata, "namespace", prefix: "metadata.") ?? "default",
            uid: try Self.optionalString(metadata, "uid", prefix: "metadata."),
            labels: try Self.stringMap(metadata, "labels"),
            annotations: try Self.stringMap(metadata, "annotations"))
    }

    private static func requiredString(
        _ node: Node, _ key: String, in manifest: Node, prefix: String = ""
    ) throws(RenderTargetError) -> String {
        guard let value = try optionalString(node, key, prefix: prefix), !value.isEmpty else {
            let kind = manifest["kind"]?.string ?? "object"
            throw RenderTargetError(
                field: prefix + key, mark: node.mark ?? manifest.mark,
                message: "the \(kind) has no \(prefix + key); set \(prefix + key) to a non-empty string")
        }
        return value
    }

    private static func optionalString(_ node: Node, _ key: String, prefix: String) throws(RenderTargetError) -> String? {
        guard let value = node[key], !value.isNull else { return nil }
        guard let string = value.string else {
            throw RenderTargetError(
                field: prefix + key, mark: value.mark,
                message: "\(prefix + key) must be a string, found a \(value.typeName); quote it")
        }
        return string
    }

    private static func stringMap(_ metadata: Node, _ key: String) throws(RenderTargetError) -> [String: String] {
        guard let node = metadata[key], !node.isNull else { return [:] }
        guard let pairs = node.mapping else {
            throw RenderTargetError(
                field: "metadata.\(key)", mark: node.mark,
                message: "metadata.\(key) must be a mapping of strings, found a \(node.typeName)")
        }
        var map: [String: String] = [:]
        for pair in pairs {
            let field = "metadata.\(key).\(pair.key.scalarText)"
            guard let value = pair.value.string else {
                throw RenderTargetError(
                    field: field, mark: pair.value.mark,
                    message: "\(field) must be a string, found a \(pair.value.typeName); quote it")
            }
            map[pair.key.scalarText] = value
        }
        return map
    }
}
