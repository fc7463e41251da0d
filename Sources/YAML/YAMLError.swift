/// A YAML or JSON input that could not be read, with the file, line and column it failed at.
///
/// Compare with the static members to learn what went wrong: `error.kind == .duplicateKey`.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case syntax = "syntax error"
            case duplicateKey = "duplicate key"
            case undefinedAlias = "undefined alias"
            case cyclicAlias = "cyclic alias"
            case aliasLimit = "alias expansion limit"
            case depthLimit = "nesting limit"
            case notText = "not text"
            case invalidTag = "invalid tag"
            case invalidMerge = "invalid merge"
            case unrepresentable = "unrepresentable value"
        }
        fileprivate let code: Code

        /// libyaml or the JSON reader rejected the text.
        public static let syntax = Kind(code: .syntax)
        /// A mapping repeats a key.
        public static let duplicateKey = Kind(code: .duplicateKey)
        /// An alias names an anchor that was never defined.
        public static let undefinedAlias = Kind(code: .undefinedAlias)
        /// An alias refers to the node that contains it.
        public static let cyclicAlias = Kind(code: .cyclicAlias)
        /// Aliases would expand past the node limit ("billion laughs").
        public static let aliasLimit = Kind(code: .aliasLimit)
        /// Collections nest deeper than the limit.
        public static let depthLimit = Kind(code: .depthLimit)
        /// The input is binary or not UTF-8.
        public static let notText = Kind(code: .notText)
        /// A tag such as `!!int` does not fit its value.
        public static let invalidTag = Kind(code: .invalidTag)
        /// A `<<` merge key does not point at mappings.
        public static let invalidMerge = Kind(code: .invalidMerge)
        /// A value cannot be written in the target format (NaN in JSON).
        public static let unrepresentable = Kind(code: .unrepresentable)

        public var description: String { code.rawValue }
    }

    /// What went wrong.
    public let kind: Kind
    /// The file or stream name, when known (`-` for standard input).
    public var file: String?
    /// Where in the input it went wrong, when known.
    public var mark: Mark?
    /// The details: libyaml's problem text, or what Cairn found.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, file: String? = nil, mark: Mark? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.mark = mark
    }

    /// `file:line:column: message`, the form compilers and editors understand.
    public var description: String {
        var location = file ?? "<input>"
        if let mark { location += ":\(mark.line):\(mark.column)" }
        return "\(location): \(message)"
    }
}
