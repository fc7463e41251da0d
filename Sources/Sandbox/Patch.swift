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

// MARK: - Strategic merge patch

/// What strategic merge patch needs to know about a built-in type: which lists merge by a key
/// (`patchMergeKey` in the Kubernetes API types), which lists of scalars merge as sets, and the
/// schemas of nested objects. Every other list is replaced, every other mapping merged.
struct MergeSchema: Sendable {
    /// A list merged element by element, matched on `key`.
    struct KeyedList: Sendable {
        var key: String
        var element: MergeSchema
    }

    var keyedLists: [String: KeyedList] = [:]
    var setLists: Set<String> = []
    var fields: [String: MergeSchema] = [:]

    static let plain = MergeSchema()

    /// The schema of a built-in kind; kinds not listed merge maps and replace lists.
    static func of(kind: String) -> MergeSchema { byKind[kind] ?? object(spec: .plain) }

    private static func keyed(_ key: String, _ element: MergeSchema = .plain) -> KeyedList { KeyedList(key: key, element: element) }

    private static let container = MergeSchema(keyedLists: [
        "env": keyed("name"), "volumeMounts": keyed("mountPath"), "ports": keyed("containerPort"),
    ])
    private static let podSpec = MergeSchema(keyedLists: [
        "containers": keyed("name", container), "initContainers": keyed("name", container),
        "ephemeralContainers": keyed("name", container), "volumes": keyed("name"), "imagePullSecrets": keyed("name"),
    ])
    private static let metadata = MergeSchema(keyedLists: ["ownerReferences": keyed("uid")], setLists: ["finalizers"])
    private static let podTemplate = MergeSchema(fields: ["metadata": metadata, "spec": podSpec])
    private static let workload = object(spec: MergeSchema(fields: ["template": podTemplate]))

    private static func object(spec: MergeSchema) -> MergeSchema { MergeSchema(fields: ["metadata": metadata, "spec": spec]) }

    private static let byKind: [String: MergeSchema] = [
        "Pod": object(spec: podSpec),
        "Deployment": workload, "StatefulSet": workload, "DaemonSet": workload, "ReplicaSet": workload, "Job": workload,
        "CronJob": object(spec: MergeSchema(fields: ["jobTemplate": MergeSchema(fields: ["spec": MergeSchema(fields: ["template": podTemplate])])])),
        "Service": object(spec: MergeSchema(keyedLists: ["ports": keyed("port")])),
    ]
}

extension Patch {
    /// Applies a Kubernetes strategic merge patch: mappings merge recursively (`null` deletes), lists
    /// the schema keys merge element by element, other lists are replaced; `$patch: replace|delete`,
    /// `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` are honoured.
    static func strategicMerge(_ target: Node, _ patch: Node, schema: MergeSchema) throws(StatusError) -> Node {
        guard var pairs = patch.mapping else { return patch }
        switch patch["$patch"]?.string {
        case nil, "merge"?: break
        case "replace":
            pairs.removeAll { $0.key.string == "$patch" }
            return .mapping(pairs)
        case "delete": return .null
        case let other?: throw .badRequest("unknown patch type: \(other) in map: \(describe(patch))")
        }
        var result = target.mapping == nil ? Node.mapping([]) : target
        var order: [(field: String, order: [Node])] = []
        for pair in pairs {
            guard let key = pair.key.string else { continue }
            if key == "$patch" || key == "$retainKeys" { continue }
            if let field = key.dropPrefix("$setElementOrder/") {
                guard let items = pair.value.sequence else { throw .badRequest("invalid type for $setElementOrder list: \(describe(pair.value))") }
                order.append((field, items))
            } else if let field = key.dropPrefix("$deleteFromPrimitiveList/") {
                guard let doomed = pair.value.sequence else { throw .badRequest("invalid type for $deleteFromPrimitiveList list: \(describe(pair.value))") }
                if let items = result[field]?.sequence { result[field] = .sequence(items.filter { !doomed.contains($0) }) }
            } else if key.hasPrefix("$") {
                throw .badRequest("unknown strategic merge patch directive \(key)")
            } else if pair.value.isNull {
                result[key] = nil
            } else {
                result[key] = try mergeField(key, result[key], pair.value, schema: schema)
            }
        }
        for (field, items) in order { result[field] = ordered(result[field], by: items, key: schema.keyedLists[field]?.key) }
        if let retained = patch["$retainKeys"] {
            guard let names = retained.sequence?.compactMap(\.string) else { throw .badRequest("invalid type for $retainKeys: \(describe(retained))") }
            result = .mapping((result.mapping ?? []).filter { $0.key.string.map(names.contains) ?? false })
        }
        return result
    }

    private static func mergeField(_ key: String, _ current: Node?, _ patch: Node, schema: MergeSchema) throws(StatusError) -> Node? {
        if let items = patch.sequence {
            if let list = schema.keyedLists[key] { return try mergeKeyed(current?.sequence ?? [], items, list) }
            if schema.setLists.contains(key) { return mergeSet(current?.sequence ?? [], items) }
            return try replaced(items, schema: .plain)
        }
        if patch.mapping != nil {
            let merged = try strategicMerge(current ?? .null, patch, schema: schema.fields[key] ?? .plain)
            if merged.isNull { return nil }  // `$patch: delete`; not `? nil :`, which would build Node.null
            return merged
        }
        return patch
    }

    /// A list merged by key: patch elements update the element with their key, or are appended;
    /// `{$patch: delete, key: v}` removes one and `{$patch: replace}` makes the patch the list.
    private static func mergeKeyed(_ current: [Node], _ patch: [Node], _ list: MergeSchema.KeyedList) throws(StatusError) -> Node {
        if patch.contains(where: { $0["$patch"]?.string == "replace" }) { return try replaced(patch, schema: list.element) }
        var result = current
        for element in patch {
            guard element.mapping != nil, let value = element[list.key] else {
                throw .internalError("map: \(describe(element)) does not contain declared merge key: \(list.key)")
            }
            let index = result.firstIndex { $0[list.key] == value }
            switch element["$patch"]?.string {
            case "delete":
                result.removeAll { $0[list.key] == value }
            case nil, "merge"?:
                if let index { result[index] = try strategicMerge(result[index], element, schema: list.element) } else {
                    result.append(try strategicMerge(.null, element, schema: list.element))
                }
            case let other?:
                throw .badRequest("unknown patch type: \(other) in map: \(describe(element))")
            }
        }
        return .sequence(result)
    }

    /// The patch's list as the new value, without directive elements and with directives inside
    /// its elements applied.
    private static func replaced(_ items: [Node], schema: MergeSchema) throws(StatusError) -> Node {
        var result: [Node] = []
        for item in items where item["$patch"] == nil { result.append(try strategicMerge(.null, item, schema: schema)) }
        return .sequence(result)
    }

    /// A list of scalars merged as a set, keeping the current order and appending what is new.
    private static func mergeSet(_ current: [Node], _ patch: [Node]) -> Node {
        var result = current
        for item in patch where !result.contains(item) { result.append(item) }
        return .sequence(result)
    }

    /// `$setElementOrder`: the listed elements first, in the given order, then the rest.
    private static func ordered(_ list: Node?, by order: [Node], key: String?) -> Node? {
        guard var items = list?.sequence else { return list }
        func identity(_ node: Node) -> Node? { key.map { node[$0] } ?? node }
        var sorted: [Node] = []
        for wanted in order {
            guard let id = identity(wanted), let index = items.firstIndex(where: { identity($0) == id }) else { continue }
            sorted.append(items.remove(at: index))
        }
        return .sequence(sorted + items)
    }

    private static func describe(_ node: Node) -> String {
        do { return try JSON.emit(node) } catch { return node.typeName }
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil }
}
