import YAML

/// Reading a BackupBlueprint as the API server returns it.
enum LiveBlueprint {
    /// The blueprint with every template string that is exactly one `${...}` reference made plain.
    ///
    /// The API server speaks JSON, where every string is quoted: `keepDaily: ${keepDaily}` written
    /// plain in YAML comes back as the JSON string `"${keepDaily}"`, and the engine would keep the
    /// value a string where the schema wants an integer. On the cluster the plain/quoted distinction
    /// is gone, so a lone reference takes the type its value has in YAML, as a plain one does in files.
    static func plainReferences(_ blueprint: Node) -> Node {
        guard let template = blueprint[path: "spec", "template"] else { return blueprint }
        var result = blueprint
        var spec = blueprint["spec"] ?? .mapping([])
        spec["template"] = plain(template)
        result["spec"] = spec
        return result
    }

    private static func plain(_ node: Node) -> Node {
        switch node.value {
        case .string(let text) where isLoneReference(text):
            return Node(node.value, mark: node.mark, style: .plain)
        case .sequence(let items):
            return Node(.sequence(items.map(plain)), mark: node.mark, style: node.style)
        case .mapping(let pairs):
            return Node(.mapping(pairs.map { Node.Pair(key: $0.key, value: plain($0.value)) }), mark: node.mark, style: node.style)
        default:
            return node
        }
    }

    private static func isLoneReference(_ text: String) -> Bool {
        text.hasPrefix("${") && text.hasSuffix("}") && text.dropFirst(2).dropLast().allSatisfy { $0 != "}" && $0 != "$" }
    }
}
