import YAML

/// One place in the template where a variable is referenced.
struct Site: Sendable {
    /// The variable's index in the blueprint's variable table.
    var variable: Int
    /// The inline default written at this place (`${name:=default}`).
    var inlineDefault: String?
    /// The template path, such as `spec.template.sessions[0].schedule`.
    var path: String
    /// Where the scalar holding the reference starts.
    var mark: Mark?
    /// The index of the template session this place sits in, when it sits in one.
    var session: Int?
}

/// A template string ready to render: literal text and sites.
struct CompiledString: Sendable {
    /// One piece of the string.
    enum Piece: Sendable {
        case text(String)
        /// An index into the template's sites.
        case site(Int)
    }

    var pieces: [Piece]

    /// The site, when the string is exactly one reference.
    var singleSite: Int? {
        guard pieces.count == 1, case .site(let site) = pieces[0] else { return nil }
        return site
    }
}

/// A template tree with every string pre-parsed; subtrees without references stay plain nodes.
indirect enum CompiledNode: Sendable {
    case literal(Node)
    case scalar(CompiledString, mark: Mark?, style: ScalarStyle)
    case sequence([CompiledNode], mark: Mark?)
    case mapping([CompiledEntry], mark: Mark?)

    /// The node, when this subtree holds no reference.
    var literal: Node? { if case .literal(let node) = self { node } else { nil } }
}

/// One entry of a compiled mapping.
struct CompiledEntry: Sendable {
    /// The key as the template wrote it, references and all, for template paths.
    var rawKey: String
    var key: CompiledNode
    var value: CompiledNode
}

/// A blueprint's template, compiled once: the tree, the reference sites and the variable names.
struct CompiledTemplate: Sendable {
    /// The top-level entries of the spec.
    var entries: [CompiledEntry]
    /// Where the template mapping starts.
    var mark: Mark?
    /// The index in `entries` of `sessions`, when it is a sequence.
    var sessionsEntry: Int?
    /// The template sessions, compiled, when `sessions` is a sequence.
    var sessions: [CompiledNode]
    /// The variable names referenced or declared, by index.
    var variableNames: [String]
    /// Every reference, in template order.
    var sites: [Site]
    /// Malformed references and shapes, found while compiling.
    var problems: [Problem]
    /// How to hash each top-level entry's value, by entry.
    var canonicalPlans: [CanonicalPlan]
    /// The top-level entries in sorted key order; nil when a key has a reference.
    var canonicalOrder: [Int]?
    /// The same with the renderer's `target` first (index 0) and the entries after it.
    var canonicalOrderWithTarget: [Int]?
}

/// The path where the template sits in a blueprint.
let templateRoot = "spec.template"

/// Path spelling shared by template paths and rendered paths; the same as `FieldPath`, which the
/// decoder reports: `sessions[0].name`, with odd keys in brackets (`labels[app.kubernetes.io/name]`).
enum PathFormat {
    /// `path.key`, `key` at the root, or `path[key]` for a key that is not an identifier.
    static func appending(_ path: String, key: String) -> String {
        FieldPath.appending(key: key, to: path)
    }

    /// `path[index]`.
    static func appending(_ path: String, index: Int) -> String {
        path + "[\(index)]"
    }

    /// The template path for a path relative to the rendered spec.
    static func template(_ relative: String) -> String {
        if relative.isEmpty { return templateRoot }
        return relative.hasPrefix("[") ? templateRoot + relative : templateRoot + "." + relative
    }
}

/// Walks a template once, parsing every string and numbering every variable.
struct TemplateCompiler {
    private var variableIndex: [String: Int] = [:]
    private(set) var variableNames: [String] = []
    private var sites: [Site] = []
    private var problems: [Problem] = []
    private var session: Int?
    private let blueprintName: String

    /// Starts a compiler whose first variables are the declared ones, in order.
    init(declared: [String], blueprintName: String) {
        self.blueprintName = blueprintName
        for name in declared { _ = variable(named: name) }
    }

    /// The index of a variable, numbering it on first sight.
    mutating func variable(named name: String) -> Int {
        if let index = variableIndex[name] { return index }
        variableNames.append(name)
        variableIndex[name] = variableNames.count - 1
        return variableNames.count - 1
    }

    /// Compiles a whole template.
    mutating func compile(template: Node) -> CompiledTemplate {
        guard let pairs = template.mapping else {
            problems.append(
                invalidTemplate(
                    path: templateRoot, mark: template.mark,
                    message: "spec.template must be a BackupConfiguration spec (a mapping), found a \(template.typeName)"))
            return finish(entries: [], mark: template.mark, sessionsEntry: nil, sessions: [])
        }
        var entries: [CompiledEntry] = []
        var sessionsEntry: Int?
        var sessions: [CompiledNode] = []
        for pair in pairs {
            let path = PathFormat.appending(templateRoot, key: pair.key.scalarText)
            let key = compile(pair.key, path: path)
            if pair.key.string == "sessions", let items = pair.value.sequence {
                sessionsEntry = entries.count
                sessions = compileSessions(items, path: path)
                entries.append(
                    CompiledEntry(rawKey: pair.key.scalarText, key: key, value: .sequence(sessions, mark: pair.value.mark)))
            } else {
                entries.append(CompiledEntry(rawKey: pair.key.scalarText, key: key, value: compile(pair.value, path: path)))
            }
        }
        return finish(entries: entries, mark: template.mark, sessionsEntry: sessionsEntry, sessions: sessions)
    }

    private mutating func compileSessions(_ items: [Node], path: String) -> [CompiledNode] {
        var compiled: [CompiledNode] = []
        for (index, item) in items.enumerated() {
            session = index
            compiled.append(compile(item, path: PathFormat.appending(path, index: index)))
        }
        session = nil
        return compiled
    }

    private func finish(
        entries: [CompiledEntry], mark: Mark?, sessionsEntry: Int?, sessions: [CompiledNode]
    ) -> CompiledTemplate {
        CompiledTemplate(
            entries: entries, mark: mark, sessionsEntry: sessionsEntry, sessions: sessions,
            variableNames: variableNames, sites: sites, problems: problems,
            canonicalPlans: entries.map { CanonicalPlan($0.value) },
            canonicalOrder: CanonicalPlan.order(entries),
            canonicalOrderWithTarget: CanonicalPlan.order(entries, extraKeys: ["target"]))
    }

    private mutating func compile(_ node: Node, path: String) -> CompiledNode {
        switch node.value {
        case .string(let text): compileScalar(text, node: node, path: path)
        case .sequence(let items): compileSequence(items, node: node, path: path)
        case .mapping(let pairs): compileMapping(pairs, node: node, path: path)
        case .null, .bool, .int, .double: .literal(node)
        }
    }

    private mutating func compileScalar(_ text: String, node: Node, path: String) -> CompiledNode {
        guard text.utf8.contains(UInt8(ascii: "$")) else { return .literal(node) }
        let interpolation: Interpolation
        do {
            interpolation = try Interpolation(parsing: text)
        } catch {
            problems.append(invalidTemplate(path: path, mark: node.mark, message: error.message))
            return .literal(node)
        }
        if let literal = interpolation.literalText {
            return .literal(Node(.string(literal), mark: node.mark, style: node.style))
        }
        let pieces = interpolation.segments.map { segment -> CompiledString.Piece in
            switch segment {
            case .text(let text): return .text(text)
            case .reference(let name, let inlineDefault):
                return .site(addSite(name: name, inlineDefault: inlineDefault, path: path, mark: node.mark))
            }
        }
        return .scalar(CompiledString(pieces: pieces), mark: node.mark, style: node.style)
    }

    private mutating func addSite(name: String, inlineDefault: String?, path: String, mark: Mark?) -> Int {
        let site = Site(
            variable: variable(named: name), inlineDefault: inlineDefault, path: path, mark: mark, session: session)
        sites.append(site)
        return sites.count - 1
    }

    private mutating func compileSequence(_ items: [Node], node: Node, path: String) -> CompiledNode {
        let compiled = items.enumerated().map { compile($1, path: PathFormat.appending(path, index: $0)) }
        guard compiled.allSatisfy({ $0.literal != nil }) else { return .sequence(compiled, mark: node.mark) }
        return .literal(Node(.sequence(compiled.map { $0.literal! }), mark: node.mark, style: node.style))
    }

    private mutating func compileMapping(_ pairs: [Node.Pair], node: Node, path: String) -> CompiledNode {
        let compiled = pairs.map { pair in
            let childPath = PathFormat.appending(path, key: pair.key.scalarText)
            return CompiledEntry(
                rawKey: pair.key.scalarText, key: compile(pair.key, path: childPath),
                value: compile(pair.value, path: childPath))
        }
        let literals = compiled.compactMap { entry -> Node.Pair? in
            guard let key = entry.key.literal, let value = entry.value.literal else { return nil }
            return Node.Pair(key: key, value: value)
        }
        guard literals.count == compiled.count else { return .mapping(compiled, mark: node.mark) }
        return .literal(Node(.mapping(literals), mark: node.mark, style: node.style))
    }

    private func invalidTemplate(path: String, mark: Mark?, message: String) -> Problem {
        Problem(
            reason: .invalidTemplate, paths: [path], mark: mark, message: message,
            fix: "fix \(path) in \(blueprintName)")
    }
}
