import ArgumentParser
import CairnAPI
import Executor
import Foundation
import Kube

/// `cairn restore <config>`: creates a RestoreSession, and with `--wait` follows it to its end.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a Snapshot of a BackupConfiguration into an existing or a new PVC.",
        discussion: """
            Creates RestoreSession <config>-restore-<yyyyMMddHHmmss> (UTC, or --name); the \
            executor picks the Snapshot (the newest, a named one, or the newest before --before), \
            refuses one of another PVC unless --allow-different-pvc, and runs the restore Job. \
            Backups of the configuration wait while it runs.

            Exit codes: 0 created (with --wait: restored); 1 the configuration does not exist, the \
            server refused, or (with --wait) the restore failed or did not finish in time (printed); \
            2 bad usage.
            """)

    @Argument(help: ArgumentHelp("The BackupConfiguration whose snapshots to restore.", valueName: "config"))
    var configurationName: String

    @Option(help: ArgumentHelp("latest, or a Snapshot's name (kubectl get snapshots).", valueName: "latest|snapshot"))
    var snapshot = "latest"

    @Option(help: ArgumentHelp("With latest: the newest snapshot taken before this RFC 3339 time.", valueName: "time"))
    var before: String?

    @Option(help: ArgumentHelp("The PVC whose snapshots to choose from (default: the target PVC, or the configuration's only one).", valueName: "pvc"))
    var pvc: String?

    @Option(help: ArgumentHelp("Restore into this existing PVC.", valueName: "pvc"))
    var toPvc: String?

    @Option(help: ArgumentHelp("Restore into a new PVC of this name; needs --size.", valueName: "name"))
    var newPvc: String?

    @Option(help: ArgumentHelp("The new PVC's size, as in 10Gi.", valueName: "quantity"))
    var size: String?

    @Option(help: ArgumentHelp("The new PVC's StorageClass (default: the cluster's).", valueName: "class"))
    var storageClass: String?

    @Flag(help: "Allow restoring one PVC's snapshot into another PVC.")
    var allowDifferentPvc = false

    @Option(help: "The RestoreSession's name (default: <config>-restore-<yyyyMMddHHmmss>).")
    var name: String?

    @Flag(help: "Wait until the restore succeeds or fails, and print how it ended.")
    var wait = false

    @Option(help: ArgumentHelp("How long --wait waits, in seconds.", valueName: "seconds"))
    var waitTimeout = 3600

    @OptionGroup var cluster: ConfigurationCommandOptions

    func validate() throws { _ = try request() }

    /// The request the flags make, or the first contradiction, with what to do.
    private func request() throws -> ManualRestore.Request {
        guard !configurationName.isEmpty else { throw ValidationError("Name the BackupConfiguration: cairn restore <config> --to-pvc <pvc>.") }
        let target: ManualRestore.Target
        switch (toPvc, newPvc) {
        case (.some, .some):
            throw ValidationError("--to-pvc and --new-pvc contradict each other: restore into an existing PVC (--to-pvc) or a new one (--new-pvc with --size), not both.")
        case (nil, nil):
            throw ValidationError("Name where to restore: --to-pvc <existing pvc>, or --new-pvc <name> --size <quantity> for a new PVC.")
        case (let existing?, nil):
            guard size == nil, storageClass == nil else {
                throw ValidationError("--size and --storage-class describe a new PVC; use them with --new-pvc, not --to-pvc.")
            }
            target = .existing(existing)
        case (nil, let new?):
            guard let size, !size.isEmpty else { throw ValidationError("--new-pvc \(new) needs --size, as in --size 10Gi.") }
            target = .new(name: new, size: size, storageClass: storageClass)
        }
        if before != nil, snapshot != "latest" {
            throw ValidationError("--before picks the newest snapshot before a time, so it goes with --snapshot latest, not --snapshot \(snapshot); drop one of them.")
        }
        if let before, KubeTime.date(before) == nil {
            throw ValidationError("--before \(before) is not an RFC 3339 time; write it like 2026-11-21T01:30:00Z.")
        }
        guard waitTimeout > 0 else { throw ValidationError("--wait-timeout must be at least 1 second.") }
        var request = ManualRestore.Request(configuration: configurationName, target: target)
        (request.snapshot, request.before, request.sourcePVC, request.allowDifferentPVC, request.name) = (snapshot, before, pvc, allowDifferentPvc, name)
        return request
    }

    func run() async throws {
        do {
            let (client, namespace) = try cluster.client()
            _ = try await ConfigurationCommandOptions.configuration(configurationName, namespace: namespace, client: client)
            let object = ManualRestore.make(try request(), namespace: namespace, at: Date())
            let created = try await client.create(ExecutorResource.restores, namespace: namespace, object)
            let name = created.metadata.name ?? ""
            print("restoresession.cairn.dev/\(name) created")
            if wait { try await follow(client, namespace: namespace, name: name) }
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("cairn restore: \(error)")
            throw ExitCode(ExitStatus.problems)
        }
    }

    /// Polls the restore until it ends or `--wait-timeout` passes.
    private func follow(_ client: KubeClient, namespace: String, name: String) async throws {
        let deadline = ContinuousClock.now + .seconds(waitTimeout)
        while ContinuousClock.now < deadline {
            let restore = try await client.get(RestoreSession.self, ExecutorResource.restores, namespace: namespace, name: name)
            switch restore.status?.phase {
            case "Succeeded":
                print("restoresession.cairn.dev/\(name) Succeeded: \(restore.status?.message ?? "")")
                return
            case "Failed":
                printError("cairn restore: restoresession.cairn.dev/\(name) Failed (\(restore.status?.reason ?? "")): \(restore.status?.message ?? "")")
                throw ExitCode(ExitStatus.problems)
            default:
                try await Task.sleep(for: .seconds(1))
            }
        }
        printError("cairn restore: restoresession.cairn.dev/\(name) did not finish within \(waitTimeout) s; follow it with kubectl get restoresession \(name) -n \(namespace) -w")
        throw ExitCode(ExitStatus.problems)
    }
}
