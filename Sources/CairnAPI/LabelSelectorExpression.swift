/// A label selector in the form the API server evaluates: a conjunction of requirements.
///
/// Built from the query-string syntax (`tier=db,env in (a,b),!legacy`) or from a
/// `metav1.LabelSelector`, with Kubernetes' key and value syntax rules.
public struct LabelSelectorExpression: Sendable, Equatable, CustomStringConvertible {
    /// How a requirement compares a label's value.
    public enum Operator: String, Sendable, Equatable, CaseIterable {
        case equals = "="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// One `key op values` clause.
    public struct Requirement: Sendable, Equatable, CustomStringConvertible {
        /// The label key, `[prefix/]name`.
        public var key: String
        /// The comparison.
        public var `operator`: Operator
        /// The values, sorted and without duplicates; empty for `exists` and `doesNotExist`.
        public var values: [String]

        /// Creates a requirement after checking its key, values and arity as the API server does.
        public init(key: String, operator: Operator, values: [String] = []) throws(LabelSelectorSyntaxError) {
            try LabelSyntax.checkKey(key, at: 0)
            try Self.checkArity(`operator`, values.count, key: key)
            for value in values {
                if `operator` == .greaterThan || `operator` == .lessThan {
                    guard Int(value) != nil else {
                        throw LabelSelectorSyntaxError(position: 0, "for 'gt', 'lt' operators, the value of '\(key)' must be an integer, not \"\(value)\"")
                    }
                } else {
                    try LabelSyntax.checkValue(value, at: 0)
                }
            }
            self.key = key
            self.operator = `operator`
            self.values = Array(Set(values)).sorted()
        }

        private static func checkArity(_ op: Operator, _ count: Int, key: String) throws(LabelSelectorSyntaxError) {
            switch op {
            case .equals, .notEquals, .greaterThan, .lessThan:
                if count != 1 { throw LabelSelectorSyntaxError(position: 0, "exactly one value is required for '\(key)' with operator '\(op.rawValue)'") }
            case .in, .notIn:
                if count == 0 { throw LabelSelectorSyntaxError(position: 0, "for 'in', 'notin' operators, values set can't be empty (key '\(key)')") }
            case .exists, .doesNotExist:
                if count != 0 { throw LabelSelectorSyntaxError(position: 0, "values set must be empty for exists and does not exist (key '\(key)')") }
            }
        }

        /// Whether a label set satisfies this requirement.
        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch `operator` {
            case .equals, .in: return value.map(values.contains) ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan: return compare(value, by: >)
            case .lessThan: return compare(value, by: <)
            }
        }

        private func compare(_ value: String?, by order: (Int, Int) -> Bool) -> Bool {
            guard let value, let have = Int(value), let bound = values.first.flatMap({ Int($0) }) else { return false }
            return order(have, bound)
        }

        /// The requirement in query-string syntax.
        public var description: String {
            switch `operator` {
            case .equals: "\(key)=\(values[0])"
            case .notEquals: "\(key)!=\(values[0])"
            case .in: "\(key) in (\(values.joined(separator: ",")))"
            case .notIn: "\(key) notin (\(values.joined(separator: ",")))"
            case .exists: key
            case .doesNotExist: "!\(key)"
            case .greaterThan: "\(key)>\(values[0])"
            case .lessThan: "\(key)<\(values[0])"
            }
        }
    }

    /// The requirements, all of which must hold; none selects everything.
    public var requirements: [Requirement]

    /// The selector that matches every label set.
    public static let everything = LabelSelectorExpression(requirements: [])

    /// Creates a selector from requirements.
    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses the query-string syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
    /// `a>1`, `a<1`, joined by commas. The empty string selects everything.
    public init(parsing text: String) throws(LabelSelectorSyntaxError) {
        var parser = LabelSelectorParser(text)
        requirements = try parser.parse()
    }

    /// Converts a `metav1.LabelSelector`: `matchLabels` become `=` requirements and
    /// `matchExpressions` keep their operators.
    public init(_ selector: LabelSelector) throws(LabelSelectorSyntaxError) {
        var requirements: [Requirement] = []
        for (key, value) in (selector.matchLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
            requirements.append(try Requirement(key: key, operator: .equals, values: [value]))
        }
        for expression in selector.matchExpressions ?? [] {
            let op: Operator =
                switch expression.operator {
                case .in: .in
                case .notIn: .notIn
                case .exists: .exists
                case .doesNotExist: .doesNotExist
                }
            requirements.append(try Requirement(key: expression.key, operator: op, values: expression.values ?? []))
        }
        self.requirements = requirements
    }

    /// Whether every requirement holds for the labels.
    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    /// Whether the selector has no requirements.
    public var isEverything: Bool { requirements.isEmpty }

    /// The selector in query-string syntax.
    public var description: String { requirements.map(\.description).joined(separator: ",") }
}

/// A label selector or label that breaks Kubernetes' syntax, with the 1-based column it was found at.
public struct LabelSelectorSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based column in the selector text; 0 when the selector did not come from text.
    public var position: Int
    /// What is wrong and what is allowed.
    public var message: String

    /// Creates an error at a 1-based column (0: no text).
    public init(position: Int, _ message: String) {
        self.position = position
        self.message = message
    }

    /// `unable to parse requirement at column N: ...`, or just the message without a position.
    public var description: String {
        position > 0 ? "unable to parse requirement at column \(position): \(message)" : message
    }
}

/// Kubernetes' syntax for label keys and values (`IsQualifiedName`, `IsValidLabelValue`).
enum LabelSyntax {
    static func checkKey(_ key: String, at position: Int) throws(LabelSelectorSyntaxError) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw LabelSelectorSyntaxError(position: position, "invalid label key \"\(key)\": a qualified name must be a name with an optional DNS subdomain prefix and '/'")
        }
        let name = String(parts.last!)
        if parts.count == 2 {
            let prefix = String(parts[0])
            guard isDNSSubdomain(prefix) else {
                throw LabelSelectorSyntaxError(position: position, "invalid label key \"\(key)\": prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters (e.g. 'example.com')")
            }
        }
        guard !name.isEmpty, name.count <= 63, isName(name) else {
            throw LabelSelectorSyntaxError(position: position, "invalid label key \"\(key)\": name part must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric (e.g. 'MyName', 'my.name', '123-abc')")
        }
    }

    static func checkValue(_ value: String, at position: Int) throws(LabelSelectorSyntaxError) {
        guard value.isEmpty || (value.count <= 63 && isName(value)) else {
            throw LabelSelectorSyntaxError(position: position, "invalid label value \"\(value)\": must be empty or at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric")
        }
    }

    static func isName(_ s: String) -> Bool {
        guard let first = s.first, let last = s.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return s.allSatisfy { isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    static func isDNSSubdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            let lower = { (c: Character) in c.isASCII && (c.isLowercase || c.isNumber) }
            return lower(first) && lower(last) && label.allSatisfy { lower($0) || $0 == "-" }
        }
    }

    private static func isAlphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
}

/// A recursive-descent parser over the selector's characters.
struct LabelSelectorParser {
    private let chars: [Character]
    private var index = 0

    init(_ text: String) { chars = Array(text) }

    mutating func parse() throws(LabelSelectorSyntaxError) -> [LabelSelectorExpression.Requirement] {
        var requirements: [LabelSelectorExpression.Requirement] = []
        skipSpaces()
        if index == chars.count { return [] }
        while true {
            requirements.append(try requirement())
            skipSpaces()
            if index == chars.count { return requirements }
            guard chars[index] == "," else { throw error("expected ',' or the end of the selector, found '\(chars[index])'") }
            index += 1
            skipSpaces()
            if index == chars.count { throw error("expected a requirement after ','") }
        }
    }

    private mutating func requirement() throws(LabelSelectorSyntaxError) -> LabelSelectorExpression.Requirement {
        if chars[index] == "!" {
            index += 1
            skipSpaces()
            let (key, at) = try identifier(what: "a label key after '!'")
            try LabelSyntax.checkKey(key, at: at)
            return try make(key, .doesNotExist, [], at: at)
        }
        let (key, at) = try identifier(what: "a label key")
        try LabelSyntax.checkKey(key, at: at)
        skipSpaces()
        if index == chars.count || chars[index] == "," { return try make(key, .exists, [], at: at) }
        let op = try operatorToken()
        switch op {
        case .in, .notIn: return try make(key, op, try valueSet(), at: at)
        default:
            skipSpaces()
            let valueStart = index + 1
            let value = word()
            if op == .greaterThan || op == .lessThan, Int(value) == nil {
                throw LabelSelectorSyntaxError(position: valueStart, "expected an integer after '\(op == .greaterThan ? ">" : "<")', found \"\(value)\"")
            }
            return try make(key, op, [value], at: valueStart)
        }
    }

    private func make(
        _ key: String, _ op: LabelSelectorExpression.Operator, _ values: [String], at position: Int
    ) throws(LabelSelectorSyntaxError) -> LabelSelectorExpression.Requirement {
        do {
            return try LabelSelectorExpression.Requirement(key: key, operator: op, values: values)
        } catch {
            throw LabelSelectorSyntaxError(position: position, error.message)
        }
    }

    private mutating func operatorToken() throws(LabelSelectorSyntaxError) -> LabelSelectorExpression.Operator {
        let rest = String(chars[index...])
        for (token, op) in [("==", .equals), ("!=", .notEquals), ("=", .equals), (">", .greaterThan), ("<", .lessThan)] as [(String, LabelSelectorExpression.Operator)]
        where rest.hasPrefix(token) {
            index += token.count
            return op
        }
        let at = index + 1
        let name = word()
        switch name {
        case "in": return .in
        case "notin": return .notIn
        default:
            throw LabelSelectorSyntaxError(position: at, "expected an operator ('=', '==', '!=', 'in', 'notin', '>', '<'), found \(name.isEmpty ? "'\(chars[at - 1])'" : "\"\(name)\"")")
        }
    }

    private mutating func valueSet() throws(LabelSelectorSyntaxError) -> [String] {
        skipSpaces()
        guard index < chars.count, chars[index] == "(" else { throw error("expected '(' to open the set of values") }
        index += 1
        var values: [String] = []
        while true {
            skipSpaces()
            let start = index + 1
            let value = word()
            try LabelSyntax.checkValue(value, at: start)
            values.append(value)
            skipSpaces()
            guard index < chars.count else { throw error("expected ')' to close the set of values") }
            if chars[index] == ")" { index += 1; break }
            guard chars[index] == "," else { throw error("expected ',' or ')' in the set of values, found '\(chars[index])'") }
            index += 1
        }
        if values == [""] { throw LabelSelectorSyntaxError(position: index, "for 'in', 'notin' operators, values set can't be empty") }
        return values
    }

    private mutating func identifier(what: String) throws(LabelSelectorSyntaxError) -> (String, Int) {
        let at = index + 1
        let name = word()
        guard !name.isEmpty else {
            throw LabelSelectorSyntaxError(position: at, "expected \(what), found \(at > chars.count ? "the end" : "'\(chars[at - 1])'")")
        }
        return (name, at)
    }

    /// The characters up to whitespace or one of `,()=!<>`.
    private mutating func word() -> String {
        let start = index
        while index < chars.count, !chars[index].isWhitespace, !",()=!<>".contains(chars[index]) { index += 1 }
        return String(chars[start..<index])
    }

    private mutating func skipSpaces() { while index < chars.count, chars[index].isWhitespace { index += 1 } }

    private func error(_ message: String) -> LabelSelectorSyntaxError {
        LabelSelectorSyntaxError(position: index + 1, message)
    }
}
