import CairnAPI
import YAML

/// One reason a target could not be rendered, with where it is and how to fix it.
public struct Problem: Sendable, Equatable, CustomStringConvertible {
    /// A CamelCase reason, as conditions, Events and blueprint status report it.
    public struct Reason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The CamelCase text: `MissingVariable`, ...
        public let rawValue: String

        /// Creates a reason from its CamelCase text.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A referenced or required variable has no value.
        public static let missingVariable = Reason(rawValue: "MissingVariable")
        /// A variable's value breaks its pattern or enum, or does not fit the field it lands in.
        public static let invalidValue = Reason(rawValue: "InvalidValue")
        /// The annotated blueprint does not exist.
        public static let blueprintNotFound = Reason(rawValue: "BlueprintNotFound")
        /// The blueprint's usage policy does not allow the target's namespace.
        public static let namespaceNotAllowed = Reason(rawValue: "NamespaceNotAllowed")
        /// The blueprint's subjects do not include the target's kind.
        public static let subjectNotAllowed = Reason(rawValue: "SubjectNotAllowed")
        /// The blueprint itself is wrong: a bad reference, pattern, field or type.
        public static let invalidTemplate = Reason(rawValue: "InvalidTemplate")
        /// The sessions annotation names a session the template does not have.
        public static let invalidSessions = Reason(rawValue: "InvalidSessions")
        /// An annotation tries to set a built-in variable.
        public static let builtinOverride = Reason(rawValue: "BuiltinOverride")

        /// The CamelCase text.
        public var description: String { rawValue }
    }

    /// Why rendering failed.
    public var reason: Reason
    /// The variable concerned, when there is one.
    public var variable: String?
    /// Every place in the blueprint concerned, such as `spec.template.sessions[0].schedule`.
    public var paths: [String]
    /// Where in the blueprint's source the first of those places is, when known.
    public var mark: Mark?
    /// What is wrong.
    public var message: String
    /// What to do about it, naming the annotation or field and the object that holds it.
    public var fix: String

    /// Creates a problem.
    public init(
        reason: Reason, variable: String? = nil, paths: [String] = [], mark: Mark? = nil,
        message: String, fix: String
    ) {
        self.reason = reason
        self.variable = variable
        self.paths = paths.withoutRepeats()
        self.mark = mark
        self.message = message
        self.fix = fix
    }

    /// `Reason: message (at path (line:column), ...); fix: ...`, on one line.
    public var description: String {
        var text = "\(reason): \(message)"
        if !paths.isEmpty {
            let location = mark.map { " (\($0))" } ?? ""
            text += " (at \(paths.joined(separator: ", "))\(location))"
        } else if let mark {
            text += " (at \(mark))"
        }
        return text + "; fix: \(fix)"
    }
}

/// Why a target could not be rendered: every problem found, all at once.
public struct RenderFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The object that was being rendered.
    public var target: RenderTarget
    /// The blueprint it asked for, when the annotations named one.
    public var blueprint: NamespacedRef?
    /// Every problem, in the order found; never empty.
    public var problems: [Problem]

    /// Creates a failure.
    public init(target: RenderTarget, blueprint: NamespacedRef?, problems: [Problem]) {
        self.target = target
        self.blueprint = blueprint
        self.problems = problems
    }

    /// The reasons, without duplicates, in the order first found.
    public var reasons: [Problem.Reason] {
        var seen = Set<Problem.Reason>()
        return problems.map(\.reason).filter { seen.insert($0).inserted }
    }

    /// A multi-line report naming the target, the blueprint and every problem with its fix.
    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        var header = "\(target.displayName): \(count)"
        if let blueprint {
            header += " rendering BackupBlueprint \(blueprint.namespace ?? target.namespace)/\(blueprint.name)"
        }
        return ([header + ":"] + problems.map { "  - \($0)" }).joined(separator: "\n")
    }
}

extension Array where Element == String {
    /// The paths without repeats, in first-seen order: a variable used twice in one string was
    /// used at one path.
    func withoutRepeats() -> [String] {
        // Lists are a handful of paths long, so a scan beats hashing.
        var unique: [String] = []
        unique.reserveCapacity(count)
        for path in self where !unique.contains(path) { unique.append(path) }
        return unique
    }
}
