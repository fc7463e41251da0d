/// A session's `schedule` or `timeZone` that Cairn cannot use, with the field, the value and the fix.
///
/// Its description reads `sessions[0].schedule "61 * * * *": minute 61 is out of range 0-59`.
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Code: String {
            case fieldCount = "wrong number of fields"
            case syntax = "syntax error"
            case outOfRange = "value out of range"
            case unknownName = "unknown name"
            case unknownMacro = "unknown macro"
            case neverFires = "never fires"
            case timeZone = "unknown time zone"
        }
        fileprivate let code: Code

        /// Not 5 fields.
        public static let fieldCount = Kind(code: .fieldCount)
        /// A field that does not parse (`1-`, `*/0`, `a,b`).
        public static let syntax = Kind(code: .syntax)
        /// A number outside its field's range.
        public static let outOfRange = Kind(code: .outOfRange)
        /// A month or weekday name that is not one.
        public static let unknownName = Kind(code: .unknownName)
        /// An `@` word that is not a known macro.
        public static let unknownMacro = Kind(code: .unknownMacro)
        /// A valid expression no date matches (`0 0 30 2 *`).
        public static let neverFires = Kind(code: .neverFires)
        /// A `timeZone` that is not an IANA name.
        public static let timeZone = Kind(code: .timeZone)

        public var description: String { code.rawValue }
    }

    /// What kind of problem it is.
    public let kind: Kind
    /// The field's path: `sessions[0].schedule`, `sessions[0].timeZone`, or `schedule` alone.
    public var path: String
    /// The value as written.
    public let value: String
    /// What is wrong and what to write instead.
    public let reason: String

    init(_ kind: Kind, path: String, value: String, reason: String) {
        self.kind = kind
        self.path = path
        self.value = value
        self.reason = reason
    }

    /// `<path> "<value>": <reason>`.
    public var description: String { "\(path) \"\(value)\": \(reason)" }
}
