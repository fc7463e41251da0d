import YAML

/// One way an object breaks its schema, as kube-apiserver reports it in a 422 Invalid.
public struct SchemaProblem: Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case required = "FieldValueRequired"
            case typeInvalid = "FieldValueTypeInvalid"
            case notSupported = "FieldValueNotSupported"
            case invalid = "FieldValueInvalid"
            case tooLong = "FieldValueTooLong"
            case tooMany = "FieldValueTooMany"
            case duplicate = "FieldValueDuplicate"
            case unknownField = "UnknownField"
        }
        fileprivate let code: Code

        /// A required field is absent.
        public static let required = Kind(code: .required)
        /// A value has the wrong JSON type.
        public static let typeInvalid = Kind(code: .typeInvalid)
        /// A value is not in the schema's `enum`.
        public static let notSupported = Kind(code: .notSupported)
        /// A value breaks a pattern, bound, length or format.
        public static let invalid = Kind(code: .invalid)
        /// A string is longer than `maxLength`.
        public static let tooLong = Kind(code: .tooLong)
        /// A list or map has more than `maxItems`/`maxProperties` entries.
        public static let tooMany = Kind(code: .tooMany)
        /// A set or map list repeats an entry.
        public static let duplicate = Kind(code: .duplicate)
        /// A field the schema does not declare (strict field validation; a 400, not a 422).
        public static let unknownField = Kind(code: .unknownField)

        /// The `metav1.CauseType` of the problem; `nil` for unknown fields, which the API server
        /// reports as a BadRequest `strict decoding error` instead of a cause.
        public var causeType: String? { self == .unknownField ? nil : code.rawValue }

        public var description: String { code.rawValue }
    }

    /// What went wrong.
    public var kind: Kind
    /// The field, as Kubernetes prints it: `spec.sessions[0].method`.
    public var path: String
    /// Where the field is in the source, when the object came from one.
    public var mark: Mark?
    /// The error body after the path: `Required value`, `Unsupported value: "rsync": ...`.
    public var message: String

    /// Creates a problem.
    public init(_ kind: Kind, path: String, mark: Mark?, message: String) {
        self.kind = kind
        self.path = path
        self.mark = mark
        self.message = message
    }

    /// `path: message`, as `kubectl` prints causes; unknown fields print `unknown field "path"`.
    public var description: String { kind == .unknownField || path.isEmpty ? message : "\(path): \(message)" }
}

/// A structural OpenAPI v3 schema that validates objects the way kube-apiserver validates
/// custom resources: types, required, enum, pattern, bounds, lengths, counts, formats, unknown
/// fields, `nullable`, `x-kubernetes-preserve-unknown-fields` and `x-kubernetes-int-or-string`.
public struct StructuralSchema: Sendable {
    /// The schema as written.
    public let root: JSONSchemaProps
    /// Every `pattern`, compiled once when the schema is loaded.
    private let patterns: [String: CompiledPattern]

    /// Reads and checks an `openAPIV3Schema` node; throws a `NodeDecodingError` naming the schema
    /// path of a misspelt keyword, a missing type or a pattern that does not compile.
    public init(parsing node: Node, file: String? = nil) throws {
        try self.init(try NodeDecoder(file: file).decode(JSONSchemaProps.self, from: node), file: file)
    }

    /// Checks an already decoded schema.
    public init(_ root: JSONSchemaProps, file: String? = nil) throws {
        var checker = SchemaChecker()
        checker.check(root, at: FieldPath())
        if !checker.problems.isEmpty { throw NodeDecodingError(.invalidValue, problems: checker.problems, file: file) }
        self.root = root
        patterns = checker.patterns
    }

    /// Every problem in `object`, in document order. With `asResource` (the default), the root's
    /// `apiVersion`, `kind` and `metadata` are accepted as the API server accepts them.
    public func validate(_ object: Node, asResource: Bool = true) -> [SchemaProblem] {
        let run = ValidationRun(asResource: asResource, patterns: patterns)
        run.validate(object, against: root, at: FieldPath(), reportsUnknown: true)
        return run.problems
    }

    /// The schema at a path of property names (`["spec", "sessions"]`); `items` is entered with "[]".
    public func schema(at keys: [String]) -> JSONSchemaProps? {
        var schema: JSONSchemaProps? = root
        for key in keys { schema = key == "[]" ? schema?.items : schema?.property(key) }
        return schema
    }
}

extension JSONSchemaProps {
    /// The schema of a declared property, or of undeclared ones through `additionalProperties`.
    public func property(_ name: String) -> JSONSchemaProps? {
        if let declared = properties?[name] { return declared }
        if case .schema(let additional) = additionalProperties { return additional }
        return nil
    }

    /// Whether anything goes below this schema (`x-kubernetes-preserve-unknown-fields` or no type).
    var preservesUnknown: Bool { preserveUnknownFields == true }
}

extension Node {
    fileprivate var doubleValue: Double? { if case .double(let d) = value { d } else { nil } }
}

/// A compiled `pattern`.
///
/// `Regex` is not `Sendable` because its `Output` may hold non-Sendable captures; this one's
/// output is never read, only whether it matches. Its state is an immutable compiled program
/// (`Regex.Program` is itself `@unchecked Sendable` in _StringProcessing and lowers its matcher
/// once, with an atomic compare-and-swap), so one instance may match from many threads.
private final class CompiledPattern: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    init(_ pattern: String) throws { regex = try Regex(pattern) }

    /// Whether the pattern matches anywhere in `text`, as OpenAPI's unanchored patterns do.
    func matches(_ text: String) -> Bool { text.firstMatch(of: regex) != nil }
}

/// Structural checks on the schema itself, so a broken CRD fails when it is loaded.
private struct SchemaChecker {
    static let types: Set<String> = ["object", "array", "string", "integer", "number", "boolean"]
    var problems: [NodeDecodingError.Problem] = []
    var patterns: [String: CompiledPattern] = [:]

    mutating func check(_ schema: JSONSchemaProps, at path: FieldPath) {
        if let type = schema.type, !Self.types.contains(type) {
            let supported = Self.types.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            report(path, "type", "unsupported type \"\(type)\"; supported types: \(supported)")
        }
        if schema.type == nil, schema.intOrString != true, schema.preserveUnknownFields != true, !path.isRoot {
            report(path, "type", "a structural schema needs a type here (or x-kubernetes-int-or-string / x-kubernetes-preserve-unknown-fields)")
        }
        if let pattern = schema.pattern, patterns[pattern] == nil {
            do { patterns[pattern] = try CompiledPattern(pattern) } catch { report(path, "pattern", "pattern does not compile: \(error)") }
        }
        for (name, child) in schema.properties ?? [:] { check(child, at: path.appending("properties").appending(name)) }
        if let items = schema.items { check(items, at: path.appending("items")) }
        if case .schema(let additional) = schema.additionalProperties { check(additional, at: path.appending("additionalProperties")) }
        for (keyword, list) in [("allOf", schema.allOf), ("anyOf", schema.anyOf), ("oneOf", schema.oneOf)] {
            for (index, sub) in (list ?? []).enumerated() { checkCombined(sub, at: path.appending(keyword).appending(index: index)) }
        }
        if let not = schema.not { checkCombined(not, at: path.appending("not")) }
    }

    /// Schemas under allOf/anyOf/oneOf/not may leave out types; their patterns still compile.
    private mutating func checkCombined(_ schema: JSONSchemaProps, at path: FieldPath) {
        if let pattern = schema.pattern, patterns[pattern] == nil {
            do { patterns[pattern] = try CompiledPattern(pattern) } catch { report(path, "pattern", "pattern does not compile: \(error)") }
        }
        for (name, child) in schema.properties ?? [:] { checkCombined(child, at: path.appending("properties").appending(name)) }
        if let items = schema.items { checkCombined(items, at: path.appending("items")) }
    }

    private mutating func report(_ path: FieldPath, _ key: String, _ message: String) {
        problems.append(.init(path: "\(path.appending(key))", mark: nil, message: message))
    }
}

/// The state of one `validate` call. Not Sendable: one call, one thread.
private final class ValidationRun {
    let asResource: Bool
    let patterns: [String: CompiledPattern]
    var problems: [SchemaProblem] = []

    init(asResource: Bool, patterns: [String: CompiledPattern]) {
        self.asResource = asResource
        self.patterns = patterns
    }

    func report(_ kind: SchemaProblem.Kind, _ node: Node, at path: FieldPath, _ message: String) {
        problems.append(SchemaProblem(kind, path: "\(path)", mark: node.mark, message: message))
    }

    func validate(_ node: Node, against schema: JSONSchemaProps, at path: FieldPath, reportsUnknown: Bool) {
        if node.isNull, schema.nullable == true { return }
        guard checkType(node, schema, at: path) else { return }
        checkEnum(node, schema, at: path)
        switch node.value {
        case .string(let s): checkString(s, node, schema, at: path)
        case .int(let i): checkNumber(Double(i), node, schema, at: path)
        case .double(let d): checkNumber(d, node, schema, at: path)
        case .sequence(let items): checkSequence(items, node, schema, at: path, reportsUnknown: reportsUnknown)
        case .mapping(let pairs): checkMapping(pairs, node, schema, at: path, reportsUnknown: reportsUnknown)
        case .null, .bool: break
        }
        checkCombinators(node, schema, at: path)
    }

    // MARK: Types

    private func checkType(_ node: Node, _ schema: JSONSchemaProps, at path: FieldPath) -> Bool {
        let accepted: Bool
        let expected: String
        switch schema.type {
        case nil where schema.intOrString == true:
            (accepted, expected) = (node.int != nil || node.string != nil || isIntegral(node), "integer or string")
        case nil: return true
        case "object": (accepted, expected) = (node.mapping != nil, "object")
        case "array": (accepted, expected) = (node.sequence != nil, "array")
        case "string": (accepted, expected) = (node.string != nil || (schema.intOrString == true && node.int != nil), "string")
        case "integer": (accepted, expected) = (node.int != nil || isIntegral(node), "integer")
        case "number": (accepted, expected) = (node.int != nil || node.doubleValue != nil, "number")
        case "boolean": (accepted, expected) = (node.bool != nil, "boolean")
        case let other?: (accepted, expected) = (false, other)
        }
        if !accepted {
            let got = Self.jsonType(node)
            report(.typeInvalid, node, at: path, #"Invalid value: "\#(got)": \#(path) in body must be of type \#(expected): "\#(got)""#)
        }
        return accepted
    }

    private func isIntegral(_ node: Node) -> Bool {
        guard let d = node.doubleValue else { return false }
        return d.rounded() == d && d.isFinite
    }

    static func jsonType(_ node: Node) -> String {
        switch node.value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .sequence: "array"
        case .mapping: "object"
        }
    }

    /// A value as Kubernetes quotes it in messages: strings in quotes, numbers bare.
    static func shown(_ node: Node) -> String {
        switch node.value {
        case .string(let s): "\"\(s)\""
        case .sequence, .mapping: jsonType(node)
        default: node.scalarText
        }
    }

    // MARK: Scalars

    private func checkEnum(_ node: Node, _ schema: JSONSchemaProps, at path: FieldPath) {
        guard let allowed = schema.enum, !allowed.contains(where: { Self.sameValue($0, node) }) else { return }
        let list = allowed.map(Self.shown).joined(separator: ", ")
        report(.notSupported, node, at: path, "Unsupported value: \(Self.shown(node)): supported values: \(list)")
    }

    private static func sameValue(_ a: Node, _ b: Node) -> Bool {
        switch (a.value, b.value) {
        case let (.int(i), .double(d)), let (.double(d), .int(i)): Double(i) == d
        default: a == b
        }
    }

    private func checkString(_ s: String, _ node: Node, _ schema: JSONSchemaProps, at path: FieldPath) {
        let length = s.unicodeScalars.count
        if let max = schema.maxLength, length > max {
            report(.tooLong, node, at: path, "Too long: may not be more than \(max) characters")
        }
        if let min = schema.minLength, length < min {
            report(.invalid, node, at: path, "Invalid value: \(Self.shown(node)): \(path) in body should be at least \(min) chars long")
        }
        if let pattern = schema.pattern, patterns[pattern]?.matches(s) == false {
            report(.invalid, node, at: path, "Invalid value: \(Self.shown(node)): \(path) in body should match '\(pattern)'")
        }
        if schema.format == "date-time", !DateTimeFormat.isValid(s) {
            report(.invalid, node, at: path, "Invalid value: \(Self.shown(node)): \(path) in body must be of type date-time: \(Self.shown(node))")
        }
    }

    private func checkNumber(_ value: Double, _ node: Node, _ schema: JSONSchemaProps, at path: FieldPath) {
        let shown = Self.shown(node)
        if let min = schema.minimum {
            let exclusive = schema.exclusiveMinimum == true
            if exclusive ? value <= min : value < min {
                let bound = exclusive ? "greater than" : "greater than or equal to"
                report(.invalid, node, at: path, "Invalid value: \(shown): \(path) in body should be \(bound) \(Self.number(min))")
            }
        }
        if let max = schema.maximum {
            let exclusive = schema.exclusiveMaximum == true
            if exclusive ? value >= max : value > max {
                let bound = exclusive ? "less than" : "less than or equal to"
                report(.invalid, node, at: path, "Invalid value: \(shown): \(path) in body should be \(bound) \(Self.number(max))")
            }
        }
        if let factor = schema.multipleOf, factor > 0, (value / factor).rounded() != value / factor {
            report(.invalid, node, at: path, "Invalid value: \(shown): \(path) in body should be a multiple of \(Self.number(factor))")
        }
    }

    private static func number(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }

    // MARK: Collections

    private func checkSequence(_ items: [Node], _ node: Node, _ schema: JSONSchemaProps, at path: FieldPath, reportsUnknown: Bool) {
        if let min = schema.minItems, items.count < min {
            report(.invalid, node, at: path, "Invalid value: \(items.count): \(path) in body should have at least \(min) items")
        }
        if let max = schema.maxItems, items.count > max {
            report(.tooMany, node, at: path, "Too many: \(items.count): must have at most \(max) items")
        }
        if schema.uniqueItems == true || schema.listType == "set" { checkUnique(items, at: path) }
        if schema.listType == "map", let keys = schema.listMapKeys { checkUnique(items, by: keys, at: path) }
        guard let itemSchema = schema.items else { return }
        for (index, item) in items.enumerated() {
            validate(item, against: itemSchema, at: path.appending(index: index), reportsUnknown: reportsUnknown)
        }
    }

    private func checkUnique(_ items: [Node], at path: FieldPath) {
        for (index, item) in items.enumerated() where items[..<index].contains(item) {
            report(.duplicate, item, at: path.appending(index: index), "Duplicate value: \(Self.shown(item))")
        }
    }

    /// Map lists (`x-kubernetes-list-type: map`) may not repeat a key tuple.
    private func checkUnique(_ items: [Node], by keys: [String], at path: FieldPath) {
        var seen: Set<[String]> = []
        for (index, item) in items.enumerated() where item.mapping != nil {
            let tuple = keys.map { item[$0].map(Self.shown) ?? "null" }
            if !seen.insert(tuple).inserted {
                let shown = zip(keys, tuple).map { "\"\($0)\":\($1)" }.joined(separator: ", ")
                report(.duplicate, item, at: path.appending(index: index), "Duplicate value: map[string]interface {}{\(shown)}")
            }
        }
    }

    private func checkMapping(
        _ pairs: [Node.Pair], _ node: Node, _ schema: JSONSchemaProps, at path: FieldPath, reportsUnknown: Bool
    ) {
        checkCount(pairs.count, node, schema, at: path)
        for name in schema.required ?? [] where node[name] == nil {
            problems.append(SchemaProblem(.required, path: "\(path.appending(name))", mark: node.mark, message: "Required value"))
        }
        for pair in pairs {
            let key = pair.key.scalarText
            let childPath = path.appending(key)
            if path.isRoot, asResource, let special = resourceField(key) {
                if let declared = schema.properties?[key] {
                    validate(pair.value, against: declared, at: childPath, reportsUnknown: special == .checked)
                }
            } else if let declared = schema.property(key) {
                validate(pair.value, against: declared, at: childPath, reportsUnknown: reportsUnknown)
            } else if reportsUnknown, !allowsUnknown(schema) {
                problems.append(SchemaProblem(.unknownField, path: "\(childPath)", mark: pair.key.mark ?? pair.value.mark,
                                              message: "unknown field \"\(childPath)\""))
            }
        }
    }

    private enum ResourceField { case checked, free }

    /// The root fields every resource has: `metadata` is ObjectMeta, checked by the API server
    /// itself, so a schema may only narrow it and never makes its fields unknown.
    private func resourceField(_ key: String) -> ResourceField? {
        switch key {
        case "apiVersion", "kind": .checked
        case "metadata": .free
        default: nil
        }
    }

    private func allowsUnknown(_ schema: JSONSchemaProps) -> Bool {
        if schema.preservesUnknown { return true }
        if case .allows(true) = schema.additionalProperties { return true }
        return false
    }

    private func checkCount(_ count: Int, _ node: Node, _ schema: JSONSchemaProps, at path: FieldPath) {
        if let min = schema.minProperties, count < min {
            report(.invalid, node, at: path, "Invalid value: \(count): \(path) in body should have at least \(min) properties")
        }
        if let max = schema.maxProperties, count > max {
            report(.tooMany, node, at: path, "Too many: \(count): must have at most \(max) items")
        }
    }

    // MARK: Combinators

    private func checkCombinators(_ node: Node, _ schema: JSONSchemaProps, at path: FieldPath) {
        for sub in schema.allOf ?? [] { validate(node, against: sub, at: path, reportsUnknown: false) }
        if let anyOf = schema.anyOf, !anyOf.contains(where: { passes(node, $0, at: path) }) {
            report(.invalid, node, at: path, "Invalid value: \(Self.shown(node)): \(path) in body must validate at least one schema (anyOf)")
        }
        if let oneOf = schema.oneOf, oneOf.filter({ passes(node, $0, at: path) }).count != 1 {
            report(.invalid, node, at: path, "Invalid value: \(Self.shown(node)): \(path) in body must validate one and only one schema (oneOf)")
        }
        if let not = schema.not, passes(node, not, at: path) {
            report(.invalid, node, at: path, "Invalid value: \(Self.shown(node)): \(path) in body must not validate the schema (not)")
        }
    }

    private func passes(_ node: Node, _ schema: JSONSchemaProps, at path: FieldPath) -> Bool {
        let trial = ValidationRun(asResource: false, patterns: patterns)
        trial.validate(node, against: schema, at: path, reportsUnknown: false)
        return trial.problems.isEmpty
    }
}

/// RFC 3339 date-times, as OpenAPI's `date-time` format requires (`2026-11-21T01:30:00Z`).
enum DateTimeFormat {
    static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return false }
        func number(_ range: Range<Int>, _ limit: ClosedRange<Int>) -> Bool {
            guard range.upperBound <= b.count else { return false }
            var value = 0
            for i in range {
                guard (48...57).contains(b[i]) else { return false }
                value = value * 10 + Int(b[i] - 48)
            }
            return limit.contains(value)
        }
        guard number(0..<4, 0...9999), b[4] == 45, number(5..<7, 1...12), b[7] == 45, number(8..<10, 1...31),
              [84, 116, 32].contains(b[10]), number(11..<13, 0...23), b[13] == 58, number(14..<16, 0...59),
              b[16] == 58, number(17..<19, 0...60)
        else { return false }
        var i = 19
        if b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, (48...57).contains(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == 90 || b[i] == 122 { return i + 1 == b.count }
        guard b[i] == 43 || b[i] == 45, i + 6 == b.count, b[i + 3] == 58 else { return false }
        return number(i + 1..<i + 3, 0...23) && number(i + 4..<i + 6, 0...59)
    }
}
