import CairnAPI
import Foundation
import YAML

/// A declared variable's checks, compiled.
struct Declaration: Sendable {
    /// Its index in `spec.variables`.
    var index: Int
    var defaultValue: String?
    var required: Bool
    var pattern: Pattern?
    var allowed: [String]?

    /// `spec.variables[i]`.
    var path: String { "spec.variables[\(index)]" }
}

/// An unanchored regular expression, compiled once per blueprint.
///
/// NSRegularExpression rather than `Regex`: it is Sendable (`Regex<AnyRegexOutput>` is not) and
/// measured about 30% faster here (2.0 µs against 2.8 µs per match of a short value).
struct Pattern: Sendable {
    /// The text as the blueprint wrote it.
    var source: String
    /// Compiled from `source`.
    var regex: NSRegularExpression

    /// Compiles a pattern.
    init(_ source: String) throws {
        self.source = source
        regex = try NSRegularExpression(pattern: source)
    }

    /// Whether the pattern matches anywhere in the value, as OpenAPI `pattern` does.
    func matches(_ value: String) -> Bool {
        regex.firstMatch(in: value, range: NSRange(location: 0, length: value.utf16.count)) != nil
    }
}

/// Everything the renderer knows about one variable of one blueprint.
struct VariableInfo: Sendable {
    var name: String
    /// `variables.cairn.dev/<name>`.
    var annotationKey: String
    var builtin: Builtin?
    var declaration: Declaration?
    /// Indices into the template's sites, in template order.
    var sites: [Int]
}

/// A blueprint compiled for fast rendering: template, variables, patterns and policy.
struct CompiledBlueprint: Sendable {
    var key: BlueprintKey
    var template: CompiledTemplate
    /// Declared variables first, in declaration order, then undeclared ones in template order.
    var variables: [VariableInfo]
    var subjects: [Subject]
    var allowedNamespaces: UsagePolicy.AllowedNamespaces
    /// Problems with the blueprint itself, reported for every target that uses it.
    var problems: [Problem]

    /// The kinds a blueprint targets when it lists no subjects.
    static let defaultSubjects = [
        Subject(apiGroup: "apps", kind: "Deployment"),
        Subject(apiGroup: "apps", kind: "StatefulSet"),
        Subject(apiGroup: "apps", kind: "DaemonSet"),
        Subject(apiGroup: "", kind: "PersistentVolumeClaim"),
    ]

    /// Compiles a blueprint; what is wrong with it lands in `problems`.
    init(_ blueprint: BackupBlueprint) {
        key = BlueprintKey(
            namespace: blueprint.metadata.namespace ?? "default", name: blueprint.metadata.name ?? "")
        let declared = blueprint.spec.variables ?? []
        var compiler = TemplateCompiler(declared: declared.map(\.name), blueprintName: key.displayName)
        template = compiler.compile(template: blueprint.spec.template)
        subjects = blueprint.spec.subjects ?? Self.defaultSubjects
        allowedNamespaces = blueprint.spec.usagePolicy?.allowedNamespaces ?? .init(from: .same)
        var declarationProblems: [Problem] = []
        let declarations = Self.compileDeclarations(declared, key: key, problems: &declarationProblems)
        variables = Self.variableTable(template: template, declarations: declarations)
        problems = template.problems + declarationProblems
    }

    private static func variableTable(template: CompiledTemplate, declarations: [Declaration?]) -> [VariableInfo] {
        var sitesByVariable = Array(repeating: [Int](), count: template.variableNames.count)
        for (index, site) in template.sites.enumerated() { sitesByVariable[site.variable].append(index) }
        return template.variableNames.enumerated().map { index, name in
            VariableInfo(
                name: name, annotationKey: BlueprintAnnotation.variable(name), builtin: Builtin(variable: name),
                declaration: index < declarations.count ? declarations[index] : nil,
                sites: sitesByVariable[index])
        }
    }

    private static func compileDeclarations(
        _ declared: [VariableSpec], key: BlueprintKey, problems: inout [Problem]
    ) -> [Declaration?] {
        var seen = Set<String>()
        return declared.enumerated().map { index, spec in
            let path = "spec.variables[\(index)]"
            guard Interpolation.isValidName(spec.name) else {
                problems.append(invalid(path + ".name", key, "variable name \"\(spec.name)\" is not valid: use letters, digits, '_', '-', '.' and '/'"))
                return nil
            }
            guard seen.insert(spec.name).inserted else {
                problems.append(invalid(path + ".name", key, "variable \(spec.name) is declared twice"))
                return nil
            }
            return Declaration(
                index: index, defaultValue: spec.default, required: spec.required ?? false,
                pattern: compilePattern(spec, path: path, key: key, problems: &problems), allowed: spec.enum)
        }
    }

    private static func compilePattern(
        _ spec: VariableSpec, path: String, key: BlueprintKey, problems: inout [Problem]
    ) -> Pattern? {
        guard let source = spec.pattern else { return nil }
        do {
            return try Pattern(source)
        } catch {
            problems.append(invalid(path + ".pattern", key, "pattern \(source) of variable \(spec.name) is not a valid regular expression: \(error)", variable: spec.name))
            return nil
        }
    }

    private static func invalid(_ path: String, _ key: BlueprintKey, _ message: String, variable: String? = nil) -> Problem {
        Problem(
            reason: .invalidTemplate, variable: variable, paths: [path], message: message,
            fix: "fix \(path) in \(key.displayName)")
    }
}
