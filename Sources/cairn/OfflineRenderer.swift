import Blueprint
import CairnAPI
import YAML

/// The BackupBlueprints read from `--blueprints`, with the file each came from.
struct BlueprintCatalog {
    /// The blueprints, strictly decoded.
    private(set) var blueprints: [BackupBlueprint] = []
    /// `namespace/name` → the file that defines it, for messages.
    private(set) var files: [String: String] = [:]

    /// Reads and strictly decodes every BackupBlueprint under the paths; other kinds are skipped.
    init(paths: [String], defaultNamespace: String, report: inout ProblemReport) {
        var loader = ManifestLoader()
        loader.load(paths)
        report.add(loader.errors)
        self.init(objects: loader.objects, defaultNamespace: defaultNamespace, report: &report)
        if blueprints.isEmpty && loader.errors.isEmpty {
            report.add(InputError(file: paths.joined(separator: " "), "no BackupBlueprint found (looked for kind: BackupBlueprint in \(loader.filesRead) files)"))
        }
    }

    /// Strictly decodes the BackupBlueprints among loaded objects. With the BackupConfiguration
    /// schema, lone `${...}` references are typed by it as the controller types them
    /// (``LiveBlueprint``); without, as written.
    init(objects: [LoadedObject], defaultNamespace: String, configurationSchema: StructuralSchema? = nil, report: inout ProblemReport) {
        for object in objects where object.kind == "BackupBlueprint" {
            add(object, defaultNamespace: defaultNamespace, configurationSchema: configurationSchema, report: &report)
        }
    }

    private mutating func add(_ object: LoadedObject, defaultNamespace: String, configurationSchema: StructuralSchema?, report: inout ProblemReport) {
        guard object.apiVersion == CairnGroup.apiVersion else {
            report.add(InputError(file: object.file, mark: object.node.mark, "BackupBlueprint \(object.name) has apiVersion \"\(object.apiVersion)\"; use \(CairnGroup.apiVersion)"))
            return
        }
        do {
            let node = configurationSchema.map { LiveBlueprint.plainReferences(object.node, configurationSchema: $0) } ?? object.node
            var blueprint = try NodeDecoder(file: object.file).decode(BackupBlueprint.self, from: node)
            if blueprint.metadata.namespace == nil { blueprint.metadata.namespace = defaultNamespace }
            let key = "\(blueprint.metadata.namespace ?? defaultNamespace)/\(blueprint.metadata.name ?? "")"
            if let earlier = files[key] {
                report.add(InputError(file: object.file, mark: object.node.mark, "BackupBlueprint \(key) is also defined in \(earlier); keep one"))
                return
            }
            files[key] = object.file
            blueprints.append(blueprint)
        } catch {
            report.add(InputError(file: object.file, "BackupBlueprint \(object.name): \(error)"))
        }
    }

    /// The file that defines a blueprint.
    func file(of ref: NamespacedRef, targetNamespace: String) -> String? {
        files["\(ref.namespace ?? targetNamespace)/\(ref.name)"]
    }
}

/// Renders every target among loaded objects against a catalog, collecting problems.
struct OfflineRenderer {
    /// One rendered target.
    struct Result {
        var object: LoadedObject
        var rendering: Rendering
    }

    /// The kinds Cairn targets without being told: workloads in `apps` and core PVCs.
    static let workloadKinds: Set<String> = ["apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "/PersistentVolumeClaim"]

    let catalog: BlueprintCatalog
    let defaultNamespace: String

    /// Renders every object that is a target kind; skips the rest.
    func render(_ objects: [LoadedObject], report: inout ProblemReport) -> [Result] {
        let renderer = Renderer(blueprints: catalog.blueprints)
        let targetKinds = Self.workloadKinds.union(subjectKinds)
        let namespaceLabels = Self.namespaceLabels(objects)
        var results: [Result] = []
        for object in objects where targetKinds.contains(Self.groupKind(object)) {
            guard let target = target(for: object, report: &report) else { continue }
            switch renderer.render(target, namespaceLabels: namespaceLabels[target.namespace]) {
            case .notOptedIn: continue
            case .rendered(let rendering): results.append(Result(object: object, rendering: rendering))
            case .failed(let failure): report.add(failure, object: object, catalog: catalog)
            }
        }
        return results
    }

    /// `group/Kind`, with an empty group for the core API.
    static func groupKind(_ object: LoadedObject) -> String {
        let version = object.apiVersion
        let group = version.contains("/") ? String(version.split(separator: "/")[0]) : ""
        return "\(group)/\(object.kind)"
    }

    private var subjectKinds: Set<String> {
        Set(catalog.blueprints.flatMap { $0.spec.subjects ?? [] }.map { "\($0.apiGroup ?? "")/\($0.kind)" })
    }

    /// Labels of the Namespace objects in the input, for `Selector` usage policies.
    static func namespaceLabels(_ objects: [LoadedObject]) -> [String: [String: String]] {
        var labels: [String: [String: String]] = [:]
        for object in objects where object.kind == "Namespace" && object.apiVersion == "v1" {
            var values: [String: String] = [:]
            for pair in object.node[path: "metadata", "labels"]?.mapping ?? [] {
                values[pair.key.scalarText] = pair.value.scalarText
            }
            labels[object.name] = values
        }
        return labels
    }

    func target(for object: LoadedObject, report: inout ProblemReport) -> RenderTarget? {
        var node = object.node
        if node[path: "metadata", "namespace"]?.string == nil {
            var metadata = node["metadata"] ?? .mapping([])
            metadata["namespace"] = .string(defaultNamespace)
            node["metadata"] = metadata
        }
        do {
            return try RenderTarget(manifest: node)
        } catch {
            report.add(InputError(file: object.file, mark: error.mark ?? object.node.mark, "\(object.kind): \(error.message)"))
            return nil
        }
    }
}

/// Every problem a run met, printed to stderr as it is found.
struct ProblemReport {
    /// Input problems: unreadable files, bad YAML, bad blueprints.
    private(set) var inputErrors = 0
    /// Targets that did not render.
    private(set) var failedTargets = 0
    /// Whether anything went wrong.
    var count: Int { inputErrors + failedTargets }

    /// Reports input problems.
    mutating func add(_ errors: [InputError]) {
        for error in errors { add(error) }
    }

    /// Reports one input problem.
    mutating func add(_ error: InputError) {
        inputErrors += 1
        printError("error: \(error)")
    }

    /// Reports a target that failed, with each problem located in its blueprint file.
    mutating func add(_ failure: RenderFailure, object: LoadedObject, catalog: BlueprintCatalog) {
        failedTargets += 1
        let file = failure.blueprint.flatMap { catalog.file(of: $0, targetNamespace: failure.target.namespace) }
        var header = "error: \(failure.target.displayName) (\(object.location))"
        if let blueprint = failure.blueprint {
            header += ": BackupBlueprint \(blueprint.namespace ?? failure.target.namespace)/\(blueprint.name)"
            if let file { header += " (\(file))" }
        }
        let count = failure.problems.count
        let lines = [header + ": \(count) problem\(count == 1 ? "" : "s"):"] + Self.lines(for: failure.problems, file: file)
        printError(lines.joined(separator: "\n"))
    }

    /// Each problem, where it is in the blueprint (`file` when known) and its fix, indented under a
    /// header; places sorted, as the API server sorts a blueprint's keys.
    static func lines(for problems: [Problem], file: String?, indent: String = "  ") -> [String] {
        var lines: [String] = []
        for problem in problems {
            lines.append("\(indent)- \(problem.reason): \(problem.message)")
            if !problem.paths.isEmpty {
                let location = problem.mark.map { " (\(file ?? "blueprint"):\($0.line):\($0.column))" } ?? ""
                lines.append("\(indent)    at \(problem.paths.sorted().joined(separator: ", "))\(location)")
            }
            lines.append("\(indent)    fix: \(problem.fix)")
        }
        return lines
    }

    /// A closing line when anything went wrong.
    func printSummary(rendered: Int) {
        guard count > 0 else { return }
        var parts: [String] = []
        if failedTargets > 0 { parts.append(Self.plural(failedTargets, "target") + " failed to render") }
        if inputErrors > 0 { parts.append(Self.plural(inputErrors, "input error")) }
        parts.append(Self.plural(rendered, "BackupConfiguration") + " rendered")
        printError(parts.joined(separator: "; "))
    }

    private static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
