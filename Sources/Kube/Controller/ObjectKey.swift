import YAML

/// The key controllers work on: `namespace/name`, or `name` for cluster-scoped objects, as
/// client-go's `MetaNamespaceKeyFunc` spells it.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The namespace; empty for cluster-scoped objects.
    public var namespace: String
    /// The object's name.
    public var name: String

    /// Creates a key; pass an empty namespace for cluster-scoped objects.
    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// The key of an object, from its `metadata.namespace` and `metadata.name`.
    public init(_ object: Node) {
        self.init(namespace: object[path: "metadata", "namespace"]?.string ?? "",
                  name: object[path: "metadata", "name"]?.string ?? "")
    }

    /// Parses `namespace/name` or `name`; nil for anything with more than one slash or no name.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where !parts[0].isEmpty: self.init(namespace: "", name: String(parts[0]))
        case 2 where !parts[1].isEmpty: self.init(namespace: String(parts[0]), name: String(parts[1]))
        default: return nil
        }
    }

    /// `namespace/name`, or `name` when cluster-scoped.
    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    /// Orders by namespace, then name.
    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name) }
}
