import CairnAPI
import YAML

/// The values of a blueprint's variables for one target, before inline defaults apply.
struct Resolution: Sendable {
    /// By variable index; nil when only an inline default (or nothing) can supply it.
    var values: [String?]
    /// By variable index; nil exactly where `values` is nil.
    var sources: [VariableSource?]

    /// Resolves every variable: annotation (or built-in), then declared default.
    init(blueprint: CompiledBlueprint, target: RenderTarget) {
        values = []
        sources = []
        values.reserveCapacity(blueprint.variables.count)
        sources.reserveCapacity(blueprint.variables.count)
        for info in blueprint.variables {
            let (value, source) = Self.resolve(info, target: target, blueprint: blueprint.key)
            values.append(value)
            sources.append(source)
        }
    }

    private static func resolve(
        _ info: VariableInfo, target: RenderTarget, blueprint: BlueprintKey
    ) -> (String?, VariableSource?) {
        if let builtin = info.builtin {
            if let value = builtin.value(target: target, blueprint: blueprint) { return (value, .builtin) }
        } else if let value = target.annotations[info.annotationKey] {
            return (value, .annotation(key: info.annotationKey))
        }
        if let value = info.declaration?.defaultValue { return (value, .declaredDefault) }
        return (nil, nil)
    }

    /// The text for one site: the variable's value, else the site's inline default.
    func value(at site: Site) -> String? { values[site.variable] ?? site.inlineDefault }
}

/// Which template sessions a rendering keeps; `nil` keeps them all.
struct SessionFilter: Sendable {
    /// By template session index.
    var keep: [Bool]?

    /// Keeps every session.
    static let all = SessionFilter(keep: nil)

    /// Whether a site sits outside sessions or in a kept one.
    func includes(_ site: Site) -> Bool {
        guard let keep, let session = site.session else { return true }
        return keep[session]
    }

    /// Whether a template session is kept.
    func includes(session: Int) -> Bool { keep?[session] ?? true }
}

/// Checks resolved variables against their declarations and records their provenance.
struct VariableCheck {
    let blueprint: CompiledBlueprint
    let target: RenderTarget
    let resolution: Resolution
    let sessions: SessionFilter

    /// Annotations that try to set built-in variables, in key order.
    func builtinOverrides() -> [Problem] {
        let overrides = target.annotations.keys.filter { key in
            key.hasPrefix(BlueprintAnnotation.variablePrefix)
                && Builtin(variable: String(key.dropFirst(BlueprintAnnotation.variablePrefix.count))) != nil
        }
        guard !overrides.isEmpty else { return [] }
        var problems: [Problem] = []
        for key in overrides.sorted() {
            let name = String(key.dropFirst(BlueprintAnnotation.variablePrefix.count))
            problems.append(
                Problem(
                    reason: .builtinOverride, variable: name,
                    message: "annotation \(key) tries to set the built-in variable \(name), which Cairn always supplies",
                    fix: "remove annotation \(key) from \(target.displayName)"))
        }
        return problems
    }

    /// Missing and invalid values, one problem per variable and kind.
    func problems() -> [Problem] {
        var problems: [Problem] = []
        for (index, info) in blueprint.variables.enumerated() {
            let used = usedSites(info)
            if let missing = missingProblem(index, info, used: used) {
                problems.append(missing)
            } else {
                problems += invalidValueProblems(index, info, used: used)
            }
        }
        return problems
    }

    /// Every variable used in the rendering, with its value, source and paths.
    func provenance() -> [ResolvedVariable] {
        var resolved: [ResolvedVariable] = []
        for (index, info) in blueprint.variables.enumerated() {
            let used = usedSites(info)
            guard !used.isEmpty else { continue }
            if let value = resolution.values[index], let source = resolution.sources[index] {
                let paths = sessions.keep == nil ? info.paths : used.map(\.path)
                resolved.append(ResolvedVariable(name: info.name, value: value, source: source, paths: paths))
            } else {
                resolved += inlineDefaults(info, used: used)
            }
        }
        return resolved
    }

    private func usedSites(_ info: VariableInfo) -> [Site] {
        guard sessions.keep != nil else { return info.sites }
        return info.sites.filter(sessions.includes)
    }

    /// Distinct inline defaults of a variable with no other value, in template order.
    private func inlineDefaults(_ info: VariableInfo, used: [Site]) -> [ResolvedVariable] {
        var groups: [ResolvedVariable] = []
        for site in used {
            guard let value = site.inlineDefault else { continue }
            if let group = groups.firstIndex(where: { $0.value == value }) {
                if !groups[group].paths.contains(site.path) { groups[group].paths.append(site.path) }
            } else {
                groups.append(ResolvedVariable(name: info.name, value: value, source: .inlineDefault, paths: [site.path]))
            }
        }
        return groups
    }

    private func missingProblem(_ index: Int, _ info: VariableInfo, used: [Site]) -> Problem? {
        let hasValue = resolution.values[index] != nil
        let required = info.declaration?.required ?? false
        let unset = !hasValue && used.contains { $0.inlineDefault == nil }
        guard (required && !hasValue) || unset else { return nil }
        let paths = used.isEmpty ? info.declaration.map { [$0.path] } ?? [] : used.map(\.path)
        let message = required && !hasValue
            ? "variable \(info.name) is required but not set"
            : "variable \(info.name) is used but not set, and has no default"
        return Problem(
            reason: .missingVariable, variable: info.name, paths: paths, mark: used.first?.mark,
            message: message, fix: setFix(info))
    }

    private func setFix(_ info: VariableInfo) -> String {
        info.builtin?.missingFix(target: target) ?? "set annotation \(info.annotationKey) on \(target.displayName)"
    }

    private func invalidValueProblems(_ index: Int, _ info: VariableInfo, used: [Site]) -> [Problem] {
        guard let declaration = info.declaration, declaration.pattern != nil || declaration.allowed != nil else {
            return []
        }
        if let value = resolution.values[index], let source = resolution.sources[index] {
            let paths = used.isEmpty ? [declaration.path] : used.map(\.path)
            return invalidValue(value, source: source, info, declaration, paths: paths, mark: used.first?.mark).map { [$0] } ?? []
        }
        return inlineDefaults(info, used: used).compactMap { group in
            invalidValue(group.value, source: .inlineDefault, info, declaration, paths: group.paths, mark: nil)
        }
    }

    private func invalidValue(
        _ value: String, source: VariableSource, _ info: VariableInfo, _ declaration: Declaration,
        paths: [String], mark: Mark?
    ) -> Problem? {
        var broken: [String] = []
        if let pattern = declaration.pattern, !pattern.matches(value) {
            broken.append("does not match pattern \(pattern.source)")
        }
        if let allowed = declaration.allowed, !allowed.contains(value) {
            broken.append("is not one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        guard !broken.isEmpty else { return nil }
        return Problem(
            reason: .invalidValue, variable: info.name, paths: paths, mark: mark,
            message: "value \"\(value)\" of variable \(info.name) (from \(source)) \(broken.joined(separator: " and "))",
            fix: valueFix(info, source: source, declaration: declaration))
    }

    /// How to change a value, depending on where it came from.
    func valueFix(_ info: VariableInfo, source: VariableSource, declaration: Declaration?) -> String {
        let annotation = "set annotation \(info.annotationKey) on \(target.displayName) to a valid value"
        switch source {
        case .annotation(let key):
            return "change annotation \(key) on \(target.displayName) to a valid value"
        case .builtin:
            let where_ = declaration.map { "\($0.path) in " } ?? "the template in "
            return "the built-in value cannot be changed; fix \(where_)\(blueprint.key.displayName)"
        case .declaredDefault:
            let path = declaration.map { "\($0.path).default" } ?? "the default"
            return "\(annotation), or fix \(path) in \(blueprint.key.displayName)"
        case .inlineDefault:
            return "\(annotation), or fix the inline default in \(blueprint.key.displayName)"
        }
    }
}
