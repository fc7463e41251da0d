/// A document that does not fit the type it was decoded into, with every problem found.
///
/// Compare with the static members to learn what went wrong: `error.kind == .unknownField`.
public struct NodeDecodingError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, without the details.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case unknownField = "unknown field"
            case typeMismatch = "type mismatch"
            case missingField = "missing field"
            case invalidValue = "invalid value"
        }
        fileprivate let code: Code

        /// A mapping has keys the type does not declare.
        public static let unknownField = Kind(code: .unknownField)
        /// A value has the wrong type: a string where an integer belongs, ...
        public static let typeMismatch = Kind(code: .typeMismatch)
        /// A required field is absent.
        public static let missingField = Kind(code: .missingField)
        /// A value has the right type but is not allowed: an unsupported enum value, ...
        public static let invalidValue = Kind(code: .invalidValue)

        public var description: String { code.rawValue }
    }

    /// One problem at one place in the document.
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        /// The field the problem is about (`spec.sessions[0].method`); for a missing field, the
        /// mapping that lacks it.
        public var path: String
        /// Where the field is in the source, when the node came from one.
        public var mark: Mark?
        /// What is wrong: `expected integer, got string "seven"`.
        public var message: String

        /// Creates a problem.
        public init(path: String, mark: Mark?, message: String) {
            self.path = path
            self.mark = mark
            self.message = message
        }

        /// `path: message`, or the message alone when there is no path.
        public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    /// What went wrong.
    public let kind: Kind
    /// The problems, in document order; more than one only for unknown fields.
    public var problems: [Problem]
    /// The file the document came from, when known.
    public var file: String?

    /// Creates an error.
    public init(_ kind: Kind, problems: [Problem], file: String? = nil) {
        self.kind = kind
        self.problems = problems
        self.file = file
    }

    /// One `file:line:column: path: message` line per problem.
    public var description: String {
        problems.map { problem in
            var location = file ?? (problem.mark == nil ? "" : "<input>")
            if let mark = problem.mark { location += ":\(mark)" }
            let text = kind == .unknownField ? problem.message : problem.description
            return location.isEmpty ? text : "\(location): \(text)"
        }.joined(separator: "\n")
    }
}
