import ArgumentParser
import CairnAPI
import Executor
import Foundation
import Kube

/// `cairn backup`: commands about backups.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Start backups by hand.", subcommands: [BackupNow.self])
}

/// `cairn backup now <config> [--session NAME]`: creates a manual BackupSession.
struct BackupNow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "now",
        abstract: "Create a manual BackupSession of a BackupConfiguration's session.",
        discussion: """
            Creates BackupSession <config>-<session>-manual-<yyyyMMddHHmmss> (UTC) with trigger \
            Manual, owned by the configuration; the executor runs it like a scheduled one. \
            --session may be left out when the configuration has a single session.

            Exit codes: 0 created; 1 the configuration or session does not exist, or the server \
            refused (printed); 2 bad usage.
            """)

    @Argument(help: ArgumentHelp("The BackupConfiguration's name.", valueName: "config"))
    var configurationName: String

    @Option(help: "The session of the configuration to run (default: its only session).")
    var session: String?

    @OptionGroup var cluster: ConfigurationCommandOptions

    func validate() throws {
        guard !configurationName.isEmpty else { throw ValidationError("Name the BackupConfiguration: cairn backup now <config>.") }
    }

    func run() async throws {
        do {
            let (client, namespace) = try cluster.client()
            let configuration = try await ConfigurationCommandOptions.configuration(configurationName, namespace: namespace, client: client)
            let object = try ManualSession.make(for: configuration, session: session, at: Date())
            let created = try await client.create(ExecutorResource.sessions, namespace: namespace, object)
            print("backupsession.cairn.dev/\(created.metadata.name ?? "") created")
        } catch let error as KubeError where error.kind == .alreadyExists {
            printError("cairn backup now: \(error); a manual session of this second exists already, try again in a second")
            throw ExitCode(ExitStatus.problems)
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("cairn backup now: \(error)")
            throw ExitCode(ExitStatus.problems)
        }
    }
}
