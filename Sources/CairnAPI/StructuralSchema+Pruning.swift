import YAML

extension StructuralSchema {
    /// What pruning removed and kept.
    public struct Pruning: Sendable {
        /// The object without the fields its schema does not declare.
        public var object: Node
        /// The removed fields' paths (`spec.foo`, `spec.items[0].bar`), in document order.
        public var removed: [String]
    }

    /// Drops every field the schema does not declare, as kube-apiserver prunes custom resources:
    /// undeclared properties go unless `additionalProperties` or
    /// `x-kubernetes-preserve-unknown-fields` keeps them. With `asResource`, the root's
    /// `apiVersion`, `kind` and `metadata` stay (the API server handles ObjectMeta itself).
    public func pruned(_ object: Node, asResource: Bool = true) -> Pruning {
        var removed: [String] = []
        let result = Self.prune(object, root, at: FieldPath(), isRoot: asResource, removed: &removed)
        return Pruning(object: result, removed: removed)
    }

    private static func prune(_ node: Node, _ schema: JSONSchemaProps, at path: FieldPath, isRoot: Bool, removed: inout [String]) -> Node {
        switch node.value {
        case .mapping(let pairs):
            var kept: [Node.Pair] = []
            for pair in pairs {
                let key = pair.key.scalarText
                let childPath = path.appending(key)
                if isRoot, ["apiVersion", "kind", "metadata"].contains(key) {
                    kept.append(pair)
                } else if let declared = schema.property(key) {
                    kept.append(Node.Pair(key: pair.key, value: prune(pair.value, declared, at: childPath, isRoot: false, removed: &removed)))
                } else if schema.preservesUnknown || schema.additionalProperties.map(Self.allowsAny) == true {
                    kept.append(pair)
                } else {
                    removed.append("\(childPath)")
                }
            }
            return Node(.mapping(kept), mark: node.mark, style: node.style)
        case .sequence(let items):
            guard let itemSchema = schema.items else { return node }
            let pruned = items.enumerated().map { index, item in
                prune(item, itemSchema, at: path.appending(index: index), isRoot: false, removed: &removed)
            }
            return Node(.sequence(pruned), mark: node.mark, style: node.style)
        default:
            return node
        }
    }

    private static func allowsAny(_ additional: SchemaOrBool) -> Bool {
        if case .allows(true) = additional { return true }
        return false
    }
}
