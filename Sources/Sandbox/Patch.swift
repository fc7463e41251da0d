import YAML

/// Why a JSON patch could not be applied.
struct PatchFailure: Error, Equatable {
    var message: String
}

/// RFC 7386 merge patch and RFC 6902 JSON patch over `Node` trees.
enum Patch {
    /// Applies a merge patch: mappings merge key by key, `null` deletes, anything else replaces.
    static func merge(_ target: Node, _ patch: Node) -> Node {
        guard let pairs = patch.mapping else { return patch }
        var result = target.mapping == nil ? Node.mapping([]) : target
        for pair in pairs {
            guard let key = pair.key.string else { continue }
            if pair.value.isNull {
                result[key] = nil
            } else {
                result[key] = merge(result[key] ?? .null, pair.value)
            }
        }
        return result
    }

    /// Applies a JSON patch, operation by operation.
    static func json(_ target: Node, _ operations: Node) throws(PatchFailure) -> Node {
        guard let operations = operations.sequence else { throw PatchFailure(message: "a JSON patch must be an array of operations") }
        var document = target
        for operation in operations { document = try apply(operation, to: document) }
        return document
    }

    private static func apply(_ operation: Node, to document: Node) throws(PatchFailure) -> Node {
        let op = operation["op"]?.string ?? ""
        let path = try pointer(operation, "path")
        switch op {
        case "add": return try add(try value(operation), at: path, in: document)
        case "remove": return try remove(at: path, in: document).document
        case "replace":
            let removed = try remove(at: path, in: document).document
            return try add(try value(operation), at: path, in: removed)
        case "move":
            let from = try pointer(operation, "from")
            let (removed, moved) = try remove(at: from, in: document)
            return try add(moved, at: path, in: removed)
        case "copy":
            return try add(try get(try pointer(operation, "from"), in: document), at: path, in: document)
        case "test":
            let expected = try value(operation)
            guard try get(path, in: document) == expected else {
                throw PatchFailure(message: "testing value /\(path.joined(separator: "/")) failed")
            }
            return document
        default: throw PatchFailure(message: "unexpected operation \"\(op)\"")
        }
    }

    private static func value(_ operation: Node) throws(PatchFailure) -> Node {
        guard let value = operation["value"] else { throw PatchFailure(message: "operation \"\(operation["op"]?.string ?? "")\" has no value") }
        return value
    }

    /// An RFC 6901 pointer, unescaped into reference tokens.
    private static func pointer(_ operation: Node, _ field: String) throws(PatchFailure) -> [String] {
        guard let text = operation[field]?.string else { throw PatchFailure(message: "operation has no \"\(field)\"") }
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw PatchFailure(message: "invalid JSON pointer \"\(text)\"") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences("~1", "/").replacingOccurrences("~0", "~")
        }
    }

    private static func get(_ path: [String], in node: Node) throws(PatchFailure) -> Node {
        var current = node
        for token in path { current = try child(token, of: current, path: path) }
        return current
    }

    private static func child(_ token: String, of node: Node, path: [String]) throws(PatchFailure) -> Node {
        if node.mapping != nil, let value = node[token] { return value }
        if let items = node.sequence, let index = Int(token), items.indices.contains(index) { return items[index] }
        throw PatchFailure(message: "path /\(path.joined(separator: "/")) does not exist")
    }

    private static func add(_ value: Node, at path: [String], in node: Node) throws(PatchFailure) -> Node {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        if node.mapping != nil {
            if rest.isEmpty { var copy = node; copy[token] = value; return copy }
            var copy = node
            copy[token] = try add(value, at: rest, in: try child(token, of: node, path: path))
            return copy
        }
        guard var items = node.sequence else { throw PatchFailure(message: "cannot add at \"\(token)\": parent is a \(node.typeName)") }
        if rest.isEmpty {
            let index = token == "-" ? items.count : Int(token) ?? -1
            guard (0...items.count).contains(index) else { throw PatchFailure(message: "index \"\(token)\" is out of bounds") }
            items.insert(value, at: index)
        } else {
            guard let index = Int(token), items.indices.contains(index) else { throw PatchFailure(message: "index \"\(token)\" is out of bounds") }
            items[index] = try add(value, at: rest, in: items[index])
        }
        return .sequence(items)
    }

    private static func remove(at path: [String], in node: Node) throws(PatchFailure) -> (document: Node, removed: Node) {
        guard let token = path.first else { throw PatchFailure(message: "cannot remove the whole document") }
        let rest = Array(path.dropFirst())
        let current = try child(token, of: node, path: path)
        var copy = node
        if rest.isEmpty {
            if var items = node.sequence, let index = Int(token) { items.remove(at: index); copy = .sequence(items) } else { copy[token] = nil }
            return (copy, current)
        }
        let (inner, removed) = try remove(at: rest, in: current)
        if var items = node.sequence, let index = Int(token) { items[index] = inner; copy = .sequence(items) } else { copy[token] = inner }
        return (copy, removed)
    }
}

extension Substring {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        String(self).replacingOccurrences(target, replacement)
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
