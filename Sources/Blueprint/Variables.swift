import CairnAPI

/// Where a variable's value came from.
public enum VariableSource: Sendable, Hashable, CustomStringConvertible {
    /// The target's annotation with this key (`variables.cairn.dev/<name>`).
    case annotation(key: String)
    /// A built-in: the target's namespace, name, kind, labels, ... or the blueprint's name.
    case builtin
    /// The `default` of the variable declared in the blueprint's `spec.variables`.
    case declaredDefault
    /// The inline default of the reference, `${name:=default}`.
    case inlineDefault

    /// `annotation variables.cairn.dev/x`, `built-in`, `declared default`, `inline default`.
    public var description: String {
        switch self {
        case .annotation(let key): "annotation \(key)"
        case .builtin: "built-in"
        case .declaredDefault: "declared default"
        case .inlineDefault: "inline default"
        }
    }
}

/// One variable's value in a rendering, where it came from and where it was used.
public struct ResolvedVariable: Sendable, Equatable {
    /// The variable name.
    public var name: String
    /// The text substituted.
    public var value: String
    /// Where the text came from.
    public var source: VariableSource
    /// The template paths where it was substituted, such as `spec.template.sessions[0].schedule`.
    public var paths: [String]

    /// Creates a provenance entry.
    public init(name: String, value: String, source: VariableSource, paths: [String]) {
        self.name = name
        self.value = value
        self.source = source
        self.paths = paths.withoutRepeats()
    }
}

/// A variable whose value the renderer supplies from the target or the blueprint.
enum Builtin: Sendable, Equatable {
    case namespace, targetName, targetKind, targetAPIVersion, blueprintName, blueprintNamespace
    /// `labels.<key>`: one of the target's labels.
    case label(String)
    /// `annotations.<key>`: one of the target's annotations.
    case annotation(String)

    /// The built-in a variable name stands for, if any.
    init?(variable name: String) {
        switch name {
        case "namespace": self = .namespace
        case "targetName": self = .targetName
        case "targetKind": self = .targetKind
        case "targetAPIVersion": self = .targetAPIVersion
        case "blueprintName": self = .blueprintName
        case "blueprintNamespace": self = .blueprintNamespace
        default:
            if name.hasPrefix("labels.") {
                self = .label(String(name.dropFirst("labels.".count)))
            } else if name.hasPrefix("annotations.") {
                self = .annotation(String(name.dropFirst("annotations.".count)))
            } else {
                return nil
            }
        }
    }

    /// The value for a target; nil for a label or annotation the target does not have.
    func value(target: RenderTarget, blueprint: BlueprintKey) -> String? {
        switch self {
        case .namespace: target.namespace
        case .targetName: target.name
        case .targetKind: target.kind
        case .targetAPIVersion: target.apiVersion
        case .blueprintName: blueprint.name
        case .blueprintNamespace: blueprint.namespace
        case .label(let key): target.labels[key]
        case .annotation(let key): target.annotations[key]
        }
    }

    /// What to do when a label or annotation built-in is missing on the target.
    func missingFix(target: RenderTarget) -> String? {
        switch self {
        case .label(let key): "set label \(key) on \(target.displayName)"
        case .annotation(let key): "set annotation \(key) on \(target.displayName)"
        default: nil
        }
    }
}

/// A blueprint by namespace and name: the key blueprints are looked up by.
struct BlueprintKey: Hashable, Sendable {
    var namespace: String
    var name: String

    /// The public reference.
    var ref: NamespacedRef { NamespacedRef(name: name, namespace: namespace) }
    /// `BackupBlueprint ns/name`.
    var displayName: String { "BackupBlueprint \(namespace)/\(name)" }
}
