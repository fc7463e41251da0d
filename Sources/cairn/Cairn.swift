import ArgumentParser
import Foundation

/// The `cairn` command: blueprint-driven auto-backup for Kubernetes.
@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Blueprint-driven auto-backup for Kubernetes.",
        discussion: """
            Exit codes: 0 success, 1 the command ran and found problems (printed to stderr), \
            2 bad usage.
            """,
        version: "0.1.0",
        subcommands: [Render.self, Explain.self, BackupCommand.self, Restore.self, SandboxCommand.self, ControllerCommand.self, AgentCommand.self])

    /// Runs a subcommand with Cairn's exit codes: usage errors exit 2, not sysexits' 64.
    static func main() async {
        do {
            var command = try parseAsRoot(ControllerCommand.normalized(Array(CommandLine.arguments.dropFirst())))
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

/// The exit codes every Cairn command documents.
enum ExitStatus {
    /// Everything worked.
    static let success: Int32 = 0
    /// The command ran and found problems; they were printed to stderr.
    static let problems: Int32 = 1
    /// The command line was wrong.
    static let usage: Int32 = 2
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
