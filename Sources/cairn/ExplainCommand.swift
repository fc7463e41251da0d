import ArgumentParser
import Foundation
import Kube

/// `cairn explain <kind>/<name>`: which blueprint applies to one target, where each value came
/// from, what stops it rendering, and how the live configuration differs from the rendered one.
struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain how one workload or PVC is backed up: blueprint, variables, problems and drift.",
        discussion: """
            Renders the BackupConfiguration of one target as the controller does and compares it \
            with the live one. <kind> is deployment (deploy), statefulset (sts), daemonset (ds) or \
            persistentvolumeclaim (pvc), in any case, singular or plural.

            Against a cluster (--kubeconfig and --context, else $KUBECONFIG, the pod's service account in a cluster, or ~/.kube/config) it \
            reads the target, its namespace, its blueprint, the BackupConfiguration CRD and the \
            live configuration. With --manifests it reads files and directories instead, as cairn \
            render does: the live configuration is then one in the manifests with the generated \
            name, and a BackupConfiguration CRD among them (crds/) types lone ${...} references as \
            the cluster does.

            The diff is unified, - live + rendered, with keys sorted as the API server sorts them.

            Exit codes: 0 it renders and the live configuration is in step; 1 the target is not \
            found, opts into nothing, does not render, or its live configuration is missing or \
            differs (all printed); 2 bad usage.
            """)

    @Argument(help: ArgumentHelp("The target: deployment/db, sts/orders-db, pvc/data.", valueName: "kind/name"))
    var target: String

    @Option(name: [.short, .long], help: "The target's namespace (default: the context's; offline, default).")
    var namespace: String?

    @Option(help: ArgumentHelp("The kubeconfig to use (default: $KUBECONFIG, then in-cluster, then ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: the current one).")
    var context: String?

    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp("Read files or directories (or - for standard input) instead of a cluster.", valueName: "dir|file|-"))
    var manifests: [String] = []

    func validate() throws {
        _ = try TargetReference(parsing: target)
        guard !manifests.isEmpty else { return }
        guard kubeconfig == nil, context == nil else {
            throw ValidationError("--manifests reads files, not a cluster: drop --kubeconfig and --context, or drop --manifests.")
        }
        guard manifests.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("Standard input (-) can be read only once.") }
        for path in manifests where path != "-" && !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path): no such file or directory.")
        }
    }

    func run() async throws {
        let reference = try TargetReference(parsing: target)
        var report = ProblemReport()
        let inputs: ExplainInputs
        do {
            if manifests.isEmpty {
                let connection = try connection()
                inputs = try await LiveSource(client: KubeClient(connection: connection), namespace: namespace ?? connection.namespace).read(reference)
            } else {
                inputs = try OfflineSource(paths: manifests, namespace: namespace ?? "default").read(reference, report: &report)
            }
        } catch let error as ExplainError {
            printError("cairn explain: \(error)")
            throw ExitCode(ExitStatus.problems)
        }
        let explanation = ExplainReport(inputs)
        print(explanation.text, terminator: "")
        if !explanation.isInStep || report.count > 0 { throw ExitCode(ExitStatus.problems) }
    }

    private func connection() throws -> ClusterConnection {
        do {
            return try ClusterAccess.connection(kubeconfig: kubeconfig, context: context).0
        } catch {
            throw ExplainError("cannot use the kubeconfig\(kubeconfig.map { " \($0)" } ?? ""): \(error)")
        }
    }
}
