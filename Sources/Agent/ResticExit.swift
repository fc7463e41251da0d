/// What a restic exit code means (restic's scripting contract, `doc/075_scripting.rst`).
///
/// restic 0.14, Debian 12's, uses only 0, 1 and 3; newer releases add 10, 11, 12 and 130. Every
/// other code is a failure too: the controller never guesses that something worked.
public enum ResticExit: Equatable, Sendable {
    case success
    /// A fatal error; the command did nothing useful.
    case fatal
    /// The snapshot was written, but some source files could not be read.
    case incompleteSnapshot
    case repositoryMissing
    case lockFailed
    case wrongPassword
    /// SIGINT or SIGTERM.
    case interrupted
    /// A code outside the contract.
    case unknown(Int32)

    /// The case for an exit code.
    public init(code: Int32) {
        switch code {
        case 0: self = .success
        case 1: self = .fatal
        case 3: self = .incompleteSnapshot
        case 10: self = .repositoryMissing
        case 11: self = .lockFailed
        case 12: self = .wrongPassword
        case 130: self = .interrupted
        default: self = .unknown(code)
        }
    }

    /// Whether a snapshot exists after a backup that ended this way.
    public var wroteSnapshot: Bool {
        self == .success || self == .incompleteSnapshot
    }
}
