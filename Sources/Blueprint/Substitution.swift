import YAML

/// Builds the rendered spec tree from a compiled template and resolved values.
///
/// Values are substituted into scalars of the parsed tree, never into text, so a value can never
/// add structure: `{x: 1}` stays the string `{x: 1}`.
struct Substitution {
    let template: CompiledTemplate
    let resolution: Resolution
    let sessions: SessionFilter

    /// The rendered spec: every entry of the template, with only the kept sessions.
    func renderSpec() -> Node {
        var pairs: [Node.Pair] = []
        pairs.reserveCapacity(template.entries.count + 1)
        for (index, entry) in template.entries.enumerated() {
            let value = index == template.sessionsEntry ? renderSessions(entry.value) : render(entry.value)
            pairs.append(Node.Pair(key: renderKey(entry.key), value: value))
        }
        return Node(.mapping(pairs), mark: template.mark)
    }

    private func renderSessions(_ node: CompiledNode) -> Node {
        var items: [Node] = []
        items.reserveCapacity(template.sessions.count)
        for (index, session) in template.sessions.enumerated() where sessions.includes(session: index) {
            items.append(render(session))
        }
        if case .sequence(_, let mark) = node { return Node(.sequence(items), mark: mark) }
        return Node(.sequence(items))
    }

    /// The rendered node for a compiled subtree.
    func render(_ node: CompiledNode) -> Node {
        switch node {
        case .literal(let literal):
            return literal
        case .scalar(let string, let mark, let style):
            return renderScalar(string, mark: mark, style: style)
        case .sequence(let items, let mark):
            return Node(.sequence(items.map(render)), mark: mark)
        case .mapping(let entries, let mark):
            return Node(.mapping(entries.map { Node.Pair(key: renderKey($0.key), value: render($0.value)) }), mark: mark)
        }
    }

    /// A plain scalar that is exactly one reference takes its value's YAML type; all else is a string.
    private func renderScalar(_ string: CompiledString, mark: Mark?, style: ScalarStyle) -> Node {
        if style == .plain, let site = string.singleSite {
            return Node(YAML.resolveScalar(text(at: site)), mark: mark, style: .plain)
        }
        return Node(.string(text(of: string)), mark: mark, style: style)
    }

    /// Keys always stay strings, even when a plain key is one reference.
    private func renderKey(_ key: CompiledNode) -> Node {
        guard case .scalar(let string, let mark, let style) = key else { return render(key) }
        return Node(.string(text(of: string)), mark: mark, style: style)
    }

    /// The concatenated text of a compiled string.
    func text(of string: CompiledString) -> String {
        if let site = string.singleSite { return text(at: site) }
        var result = ""
        for piece in string.pieces {
            switch piece {
            case .text(let text): result += text
            case .site(let site): result += text(at: site)
            }
        }
        return result
    }

    /// The value at a site; callers check for missing values first, so "" never shows in practice.
    private func text(at site: Int) -> String {
        resolution.value(at: template.sites[site]) ?? ""
    }

    /// Each template session's `name`, rendered; nil where it is absent or its variables are unset.
    func sessionNames() -> [String?] {
        template.sessions.map { session in
            switch session {
            case .literal(let node):
                return node["name"]?.string
            case .mapping(let entries, _):
                guard let entry = entries.first(where: { $0.key.literal?.string == "name" }) else { return nil }
                return renderedName(entry.value)
            case .scalar, .sequence:
                return nil
            }
        }
    }

    private func renderedName(_ node: CompiledNode) -> String? {
        switch node {
        case .literal(let literal): return literal.string
        case .scalar(let string, _, _):
            for piece in string.pieces {
                if case .site(let site) = piece, resolution.value(at: template.sites[site]) == nil { return nil }
            }
            return text(of: string)
        case .sequence, .mapping: return nil
        }
    }
}

/// Where a node of the rendered spec came from in the template.
struct Origin {
    /// The template path, such as `spec.template.sessions[2].retention.keepLast`.
    var templatePath: String
    var mark: Mark?
    /// The sites whose values make up this scalar.
    var sites: [Int]
}

/// Maps every path of a rendered spec back to the template, for error reports.
///
/// Only used when a rendered spec fails validation, so it favours clarity over speed.
struct OriginMap {
    private(set) var origins: [String: Origin] = [:]
    private let template: CompiledTemplate

    /// Walks the template the way `Substitution` renders it.
    init(template: CompiledTemplate, substitution: Substitution) {
        self.template = template
        origins[""] = Origin(templatePath: templateRoot, mark: template.mark, sites: [])
        for (index, entry) in template.entries.enumerated() {
            let key = substitution.keyText(entry.key)
            let templateKey = PathFormat.appending(templateRoot, key: entry.rawKey)
            if index == template.sessionsEntry {
                addSessions(rendered: key, templatePath: templateKey, filter: substitution.sessions, substitution)
            } else {
                add(entry.value, rendered: key, templatePath: templateKey, substitution)
            }
        }
    }

    /// The origin of a rendered path, or of its nearest recorded ancestor with the rest appended.
    func origin(of path: String) -> Origin {
        var prefix = path
        while !prefix.isEmpty {
            if let origin = origins[prefix] {
                var found = origin
                found.templatePath += path.dropFirst(prefix.count)
                return found
            }
            prefix = Self.parent(of: prefix)
        }
        let root = origins[""] ?? Origin(templatePath: templateRoot, mark: nil, sites: [])
        return Origin(templatePath: PathFormat.template(path), mark: root.mark, sites: [])
    }

    private static func parent(of path: String) -> String {
        guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return "" }
        return String(path[..<cut])
    }

    private mutating func addSessions(rendered: String, templatePath: String, filter: SessionFilter, _ substitution: Substitution) {
        origins[rendered] = Origin(templatePath: templatePath, mark: nil, sites: [])
        var renderedIndex = 0
        for (index, session) in template.sessions.enumerated() where filter.includes(session: index) {
            add(
                session, rendered: PathFormat.appending(rendered, index: renderedIndex),
                templatePath: PathFormat.appending(templatePath, index: index), substitution)
            renderedIndex += 1
        }
    }

    private mutating func add(_ node: CompiledNode, rendered: String, templatePath: String, _ substitution: Substitution) {
        switch node {
        case .literal(let literal):
            addLiteral(literal, rendered: rendered, templatePath: templatePath)
        case .scalar(let string, let mark, _):
            origins[rendered] = Origin(templatePath: templatePath, mark: mark, sites: string.sites)
        case .sequence(let items, let mark):
            origins[rendered] = Origin(templatePath: templatePath, mark: mark, sites: [])
            for (index, item) in items.enumerated() {
                add(item, rendered: PathFormat.appending(rendered, index: index),
                    templatePath: PathFormat.appending(templatePath, index: index), substitution)
            }
        case .mapping(let entries, let mark):
            origins[rendered] = Origin(templatePath: templatePath, mark: mark, sites: [])
            for entry in entries {
                add(entry.value, rendered: PathFormat.appending(rendered, key: substitution.keyText(entry.key)),
                    templatePath: PathFormat.appending(templatePath, key: entry.rawKey), substitution)
            }
        }
    }

    private mutating func addLiteral(_ node: Node, rendered: String, templatePath: String) {
        origins[rendered] = Origin(templatePath: templatePath, mark: node.mark, sites: [])
        switch node.value {
        case .sequence(let items):
            for (index, item) in items.enumerated() {
                addLiteral(item, rendered: PathFormat.appending(rendered, index: index),
                           templatePath: PathFormat.appending(templatePath, index: index))
            }
        case .mapping(let pairs):
            for pair in pairs {
                let key = pair.key.scalarText
                addLiteral(pair.value, rendered: PathFormat.appending(rendered, key: key),
                           templatePath: PathFormat.appending(templatePath, key: key))
            }
        default:
            break
        }
    }
}

extension Substitution {
    /// The rendered text of a key.
    func keyText(_ key: CompiledNode) -> String {
        guard case .scalar(let string, _, _) = key else { return key.literal?.scalarText ?? "" }
        return text(of: string)
    }
}

extension CompiledString {
    /// The sites in this string, in order.
    var sites: [Int] {
        pieces.compactMap { if case .site(let site) = $0 { site } else { nil } }
    }
}
