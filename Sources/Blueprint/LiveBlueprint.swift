import CairnAPI
import YAML

/// Reading a BackupBlueprint as the API server returns it, so that the controller and
/// `cairn explain` (live or from manifests) type its template the same way.
public enum LiveBlueprint {
    /// The blueprint with every template string that is exactly one `${...}` reference typed by the
    /// configuration's schema: plain where the schema does not want a string, quoted where it does.
    ///
    /// The API server speaks JSON, where every string is quoted: `keepDaily: ${keepDaily}` written
    /// plain in YAML comes back as the JSON string `"${keepDaily}"`, and the engine would keep the
    /// value a string where the schema wants an integer. On the cluster the plain/quoted distinction
    /// is gone, so the BackupConfiguration schema decides instead: a lone reference in a field the
    /// schema types as a string is quoted (so `"${dbName}"` set to `0800` stays the string "0800"),
    /// anywhere else it takes the type its value has in YAML, as a plain one does in files.
    ///
    /// With a schema the result does not depend on how the blueprint was written, so a blueprint
    /// read from a YAML file and the same blueprint read back from the cluster render alike.
    /// Without a schema (the CRD could not be read), every lone reference is made plain.
    public static func plainReferences(_ blueprint: Node, configurationSchema: StructuralSchema? = nil) -> Node {
        guard let template = blueprint[path: "spec", "template"] else { return blueprint }
        var result = blueprint
        var spec = blueprint["spec"] ?? .mapping([])
        spec["template"] = plain(template, at: ["spec"], schema: configurationSchema)
        result["spec"] = spec
        return result
    }

    private static func plain(_ node: Node, at path: [String], schema: StructuralSchema?) -> Node {
        switch node.value {
        case .string(let text) where isLoneReference(text):
            let wantsString = schema?.schema(at: path)?.type == "string"
            return Node(node.value, mark: node.mark, style: wantsString ? .quoted : .plain)
        case .sequence(let items):
            return Node(.sequence(items.map { plain($0, at: path + ["[]"], schema: schema) }), mark: node.mark, style: node.style)
        case .mapping(let pairs):
            let mapped = pairs.map { Node.Pair(key: $0.key, value: plain($0.value, at: path + [$0.key.scalarText], schema: schema)) }
            return Node(.mapping(mapped), mark: node.mark, style: node.style)
        default:
            return node
        }
    }

    private static func isLoneReference(_ text: String) -> Bool {
        text.hasPrefix("${") && text.hasSuffix("}") && text.dropFirst(2).dropLast().allSatisfy { $0 != "}" && $0 != "$" }
    }
}
