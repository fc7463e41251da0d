import ArgumentParser

/// The `cairn` command: blueprint-driven auto-backup for Kubernetes.
@main
struct Cairn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Blueprint-driven auto-backup for Kubernetes.",
        version: "0.1.0",
        subcommands: [])
}
