import Foundation

/// Turns a failed restic call into a `FailureReason`.
///
/// restic 0.14 ends almost every failure with exit code 1 and a `Fatal: ...` line on stderr, so the
/// reason is read from its words; newer releases' codes 10, 11 and 12 are honoured first. Pure.
public enum FailureClassifier {
    /// Words restic, its S3 client or ssh print when the backend cannot be reached. Checked before
    /// "Is there a repository at the following location?", which restic appends to those too, and
    /// after refused credentials (ssh's "Permission denied" also ends the sftp session).
    static let unreachable = [
        "connection refused", "no such host", "i/o timeout", "network is unreachable", "no route to host",
        "connection reset by peer", "tls handshake timeout", "unable to start the sftp session",
        "ssh: connect to host", "host key verification failed", "could not resolve hostname",
        "context deadline exceeded", "server misbehaving",
    ]
    static let accessDenied = [
        "access denied", "accessdenied", "invalidaccesskeyid", "signaturedoesnotmatch", "permission denied (publickey",
        "the aws access key id you provided does not exist",
    ]
    static let full = ["no space left on device", "disk quota exceeded", "quotaexceeded", "quota exceeded"]
    static let missing = [
        "is there a repository at the following location", "unable to open config file",
        "the specified bucket does not exist",
    ]
    static let locked = ["repository is already locked", "unable to create lock"]
    /// What `restic check` and `restic prune` say of a repository whose data or index is damaged.
    static let damaged = ["repository contains errors", "pack size does not match", "run 'restic rebuild-index'"]

    /// The failure for a restic call that exited with `code` and printed `stderr`.
    public static func classify(code: Int32, stderr: [String]) -> AgentFailure {
        let fatal = fatalLine(stderr)
        let text = stderr.joined(separator: "\n").lowercased()
        let exitCode = Int(code)
        switch ResticExit(code: code) {
        case .wrongPassword: return AgentFailure(.wrongPassword, wrongPasswordMessage, resticExitCode: exitCode)
        case .repositoryMissing: return AgentFailure(.repositoryMissing, fatal, resticExitCode: exitCode)
        case .lockFailed: return AgentFailure(.locked, fatal, resticExitCode: exitCode)
        case .interrupted: return AgentFailure(.interrupted, "restic was interrupted", resticExitCode: exitCode)
        case .unknown(let code) where code > 128 && code < 128 + 65:
            return AgentFailure(.resticFailed, killedMessage(signal: code - 128, fatal: stderr.isEmpty ? nil : fatal), resticExitCode: exitCode)
        default: break
        }
        let reason: FailureReason
        if text.contains("wrong password or no key found") {
            return AgentFailure(.wrongPassword, wrongPasswordMessage, resticExitCode: exitCode)
        } else if full.contains(where: { text.contains($0) }) {
            reason = .destinationFull
        } else if accessDenied.contains(where: { text.contains($0) }) {
            reason = .accessDenied
        } else if unreachable.contains(where: { text.contains($0) }) {
            reason = .repositoryUnreachable
        } else if locked.contains(where: { text.contains($0) }) {
            reason = .locked
        } else if damaged.contains(where: { text.contains($0) }) {
            reason = .repositoryDamaged
        } else if missing.contains(where: { text.contains($0) }) {
            reason = .repositoryMissing
        } else {
            reason = .resticFailed
        }
        return AgentFailure(reason, fatal, resticExitCode: exitCode)
    }

    /// What a restic ended by a signal (128 + the signal, as ``Restic`` reports it) is told as.
    static func killedMessage(signal: Int32, fatal: String?) -> String {
        let names: [Int32: String] = [SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGHUP: "SIGHUP", SIGQUIT: "SIGQUIT"]
        let name = names[signal].map { " (\($0))" } ?? ""
        let cause = signal == SIGKILL ? ", most likely by the out-of-memory killer or from outside the Pod; its lock stays in the repository until it is stale" : ""
        return "restic was killed by signal \(signal)\(name)\(cause)" + (fatal.map { "; \($0)" } ?? "")
    }

    static let wrongPasswordMessage =
        "restic: wrong password or no key found: RESTIC_PASSWORD does not open this repository; check the encryption Secret"

    /// restic's last `Fatal:` line (with the lines that follow it), else its last few lines (a lock
    /// conflict comes without `Fatal:`), else a note.
    static func fatalLine(_ stderr: [String]) -> String {
        let lines = stderr.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("{") }
        if let index = lines.lastIndex(where: { $0.hasPrefix("Fatal:") }) {
            return "restic: " + lines[index...].prefix(3).joined(separator: " ")
        }
        return lines.isEmpty ? "restic failed and printed nothing on stderr" : "restic: " + lines.suffix(4).joined(separator: " ")
    }
}
