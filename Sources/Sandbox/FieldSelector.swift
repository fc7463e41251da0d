import Foundation
import YAML

/// A field selector over the fields every object has: `metadata.name` and `metadata.namespace`,
/// with `=`, `==` and `!=`, joined by commas.
public struct FieldSelector: Sendable, Equatable {
    /// One `field op value` clause.
    public struct Requirement: Sendable, Equatable {
        /// `metadata.name` or `metadata.namespace`.
        public var field: String
        /// Whether the field must differ from the value rather than equal it.
        public var negated: Bool
        /// The value compared with.
        public var value: String
    }

    /// The clauses, all of which must hold.
    public var requirements: [Requirement]

    /// The selector that matches everything.
    public static let everything = FieldSelector(requirements: [])

    /// Parses `metadata.name=x,metadata.namespace!=y`; fails with the API server's 400 messages.
    public init(parsing text: String) throws(StatusError) {
        requirements = []
        for clause in text.split(separator: ",", omittingEmptySubsequences: true) {
            requirements.append(try Self.requirement(String(clause), in: text))
        }
    }

    private init(requirements: [Requirement]) { self.requirements = requirements }

    private static func requirement(_ clause: String, in text: String) throws(StatusError) -> Requirement {
        for (token, negated) in [("!=", true), ("==", false), ("=", false)] {
            guard let range = clause.range(of: token) else { continue }
            let field = clause[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let value = clause[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard ["metadata.name", "metadata.namespace"].contains(field) else {
                throw .badRequest("field label not supported: \(field)")
            }
            return Requirement(field: field, negated: negated, value: value)
        }
        throw .badRequest("invalid selector: '\(text)'; can't understand '\(clause)'")
    }

    /// Whether the object's fields satisfy every clause.
    public func matches(_ object: Node) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = requirement.field == "metadata.name" ? object.name : object.namespace
            return (actual == requirement.value) != requirement.negated
        }
    }
}
