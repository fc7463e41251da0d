import ArgumentParser
import Blueprint
import CairnAPI
import Foundation
import YAML

/// `cairn render`: BackupConfigurations from blueprints and manifests, offline, for GitOps and CI.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render the BackupConfigurations that annotated manifests generate, offline.",
        discussion: """
            Reads BackupBlueprints from --blueprints and Kubernetes manifests (Deployments, \
            StatefulSets, DaemonSets, PersistentVolumeClaims; other kinds are skipped) from \
            --manifests, and writes the BackupConfigurations the annotated ones generate. \
            Directories are read recursively (*.yaml, *.yml, *.json; kustomization.yaml is \
            skipped); - reads standard input.

            Offline, manifests carry no uid, so the output has no ownerReferences; the \
            controller adds them in the cluster.

            Exit codes: 0 everything rendered; 1 some input or target failed (every problem is \
            printed to stderr, and the configurations that did render are still written); \
            2 bad usage.
            """)

    /// The output formats.
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case yaml, json
    }

    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp("Files or directories holding BackupBlueprints.", valueName: "dir|file"))
    var blueprints: [String] = []

    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp("Files or directories holding manifests, or - for standard input.", valueName: "dir|file|-"))
    var manifests: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Output format: yaml or json.")
    var output: OutputFormat = .yaml

    @Flag(help: "Show where every value came from instead of the configurations.")
    var explain = false

    @Option(name: [.short, .long], help: "The namespace of manifests that name none.")
    var namespace = "default"

    func validate() throws {
        guard !blueprints.isEmpty else {
            throw ValidationError("Missing --blueprints: name the files or directories that hold your BackupBlueprints.")
        }
        guard !manifests.isEmpty else {
            throw ValidationError("Missing --manifests: name the files or directories that hold your workloads, or - for standard input.")
        }
        guard (blueprints + manifests).filter({ $0 == "-" }).count <= 1 else {
            throw ValidationError("Standard input (-) can be read only once.")
        }
        for path in blueprints + manifests where path != "-" {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("\(path): no such file or directory.")
            }
        }
    }

    func run() throws {
        var report = ProblemReport()
        let catalog = BlueprintCatalog(paths: blueprints, defaultNamespace: namespace, report: &report)
        var inputs = ManifestLoader()
        inputs.load(manifests)
        report.add(inputs.errors)
        let results = OfflineRenderer(catalog: catalog, defaultNamespace: namespace).render(inputs.objects, report: &report)
        if inputs.objects.isEmpty && inputs.errors.isEmpty {
            report.add(InputError(file: manifests.joined(separator: " "), "no Kubernetes objects found"))
        }
        try write(results)
        report.printSummary(rendered: results.count)
        if report.count > 0 { throw ExitCode(ExitStatus.problems) }
    }

    /// Writes the rendered configurations, or their explanation.
    private func write(_ results: [OfflineRenderer.Result]) throws {
        if explain {
            print(Explanation.text(for: results), terminator: "")
            return
        }
        let nodes = try results.map { try NodeEncoder().encode($0.rendering.configuration) }
        switch output {
        case .yaml:
            if !nodes.isEmpty { print(YAML.emitStream(nodes), terminator: "") }
        case .json:
            print(try JSON.emit(Self.jsonDocument(nodes), pretty: true))
        }
    }

    /// One object as itself, several as a `v1` List, as kubectl prints them.
    static func jsonDocument(_ nodes: [Node]) -> Node {
        if nodes.count == 1 { return nodes[0] }
        return .mapping(["apiVersion": "v1", "kind": "List", "items": .sequence(nodes)])
    }
}
