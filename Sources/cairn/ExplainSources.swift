import ArgumentParser
import AutoBackup
import Blueprint
import CairnAPI
import Kube
import YAML

/// `deployment/db` from the command line: a kind and a name. The kind is a built-in one, or any
/// other as kubectl spells it (`postgrescluster`, `pg.db.example.com`), found through discovery or
/// among the manifests.
struct TargetReference {
    /// The built-in kind meant, if it is one.
    var known: TargetKind?
    /// The kind as typed.
    var typed: String
    /// `metadata.name`.
    var name: String

    /// The names of the built-in kinds, lowercased, as kubectl spells them: singular, plural, short.
    static let kindNames: [String: String] = [
        "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
        "statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
        "daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
        "persistentvolumeclaim": "PersistentVolumeClaim", "persistentvolumeclaims": "PersistentVolumeClaim",
        "pvc": "PersistentVolumeClaim",
    ]

    /// Parses `<kind>/<name>`; the kind in any case.
    init(parsing text: String) throws {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains("/") else {
            throw ValidationError("\"\(text)\" is not <kind>/<name>: name the target like deployment/db, pvc/data or postgrescluster/main.")
        }
        guard parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
            throw ValidationError("\"\(parts[0])\" in \(text) is not a kind: use deployment (deploy), statefulset (sts), daemonset (ds), "
                + "persistentvolumeclaim (pvc), or a custom resource's name as kubectl api-resources lists it.")
        }
        typed = parts[0]
        known = Self.kindNames[typed.lowercased()].flatMap { kind in TargetKind.builtIn.first { $0.kind == kind } }
        name = parts[1]
    }

    /// `Deployment app/db`; a custom kind as typed until it is resolved.
    func displayName(namespace: String) -> String { "\(known?.kind ?? typed) \(namespace)/\(name)" }

    /// Whether `object` (of `apiVersion`'s group and `kind`) is of the kind meant: a built-in kind
    /// by group and kind; a typed one by its kind, or by any name a CRD among `crds` gives it.
    func means(group: String, kind: String, crds: [CRDNames]) -> Bool {
        if let known { return group == known.resource.group && kind == known.kind }
        let wanted = typed.lowercased()
        let names = [kind.lowercased()] + crds.filter { $0.group == group && $0.kind == kind }.flatMap(\.names)
        return names.contains { $0 == wanted || "\($0).\(group)" == wanted }
    }
}

/// The names a CustomResourceDefinition gives its kind: plural, singular and short names.
struct CRDNames {
    var group: String
    var kind: String
    var names: [String]

    /// The names of a CustomResourceDefinition manifest; nil for anything else.
    init?(_ object: Node) {
        guard object["kind"]?.string == "CustomResourceDefinition", let spec = object["spec"], let kind = spec[path: "names", "kind"]?.string else { return nil }
        group = spec["group"]?.string ?? ""
        self.kind = kind
        let names = spec["names"]
        self.names = ([names?["plural"]?.string, names?["singular"]?.string].compactMap { $0 } + (names?["shortNames"]?.sequence?.compactMap(\.string) ?? []))
            .map { $0.lowercased() }
    }
}

/// Why `cairn explain` could not explain: the target is missing, or the cluster could not be read.
struct ExplainError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Everything an explanation is made from, read from a cluster or from manifests.
struct ExplainInputs {
    /// The target, with its namespace filled in.
    var target: RenderTarget
    /// `file:line:column` of the target when read from a file; nil when read from a cluster.
    var location: String?
    /// The labels of the target's namespace, for `Selector` usage policies; nil when unknown.
    var namespaceLabels: [String: String]?
    /// The blueprints the target may use, typed as the controller types them.
    var blueprints: [BackupBlueprint]
    /// The file that defines a blueprint, when read from files.
    var blueprintFile: (NamespacedRef) -> String? = { _ in nil }
    /// The configuration with the generated name, if there is one.
    var live: Node?
    /// Where "live" was looked for, for the report: `in the cluster`, `in the manifests`.
    var liveSource: String
    /// Input problems that make the explanation incomplete; each makes the run fail.
    var errors: [String] = []
    /// Remarks on how the explanation was made.
    var notes: [String] = []
}

/// Reads the inputs of an explanation from manifests, as `cairn render` reads them.
struct OfflineSource {
    let paths: [String]
    let namespace: String

    /// The inputs for `reference`; input problems go to `report` (stderr).
    func read(_ reference: TargetReference, report: inout ProblemReport) throws -> ExplainInputs {
        var loader = ManifestLoader()
        loader.load(paths)
        report.add(loader.errors)
        let objects = loader.objects
        var notes: [String] = []
        let schema = configurationSchema(objects, report: &report)
        if schema == nil {
            notes.append("no BackupConfiguration CRD (\(Self.configurationCRD)) among the manifests: lone ${...} references are typed "
                + "as written; add crds/ to --manifests to type them as the cluster does")
        }
        let catalog = BlueprintCatalog(objects: objects, defaultNamespace: namespace, configurationSchema: schema, report: &report)
        let renderer = OfflineRenderer(catalog: catalog, defaultNamespace: namespace)
        let crds = objects.compactMap { CRDNames($0.node) }
        guard let object = objects.first(where: { object in
            let groupKind = OfflineRenderer.groupKind(object).split(separator: "/", maxSplits: 1).map(String.init)
            return groupKind.count == 2 && reference.means(group: groupKind[0], kind: groupKind[1], crds: crds)
                && object.name == reference.name && namespace(of: object) == namespace
        }) else {
            throw ExplainError("\(reference.displayName(namespace: namespace)) not found in the manifests "
                + "(\(objects.count) objects read from \(loader.filesRead) files); check the name, -n and --manifests")
        }
        guard let target = renderer.target(for: object, report: &report) else {
            throw ExplainError("\(reference.displayName(namespace: namespace)) (\(object.location)) cannot be read as a target")
        }
        let generated = Naming.configurationName(kind: target.kind, name: target.name)
        let live = objects.first { $0.kind == "BackupConfiguration" && $0.name == generated && namespace(of: $0) == namespace }
        return ExplainInputs(
            target: target, location: object.location, namespaceLabels: OfflineRenderer.namespaceLabels(objects)[namespace],
            blueprints: catalog.blueprints, blueprintFile: { catalog.file(of: $0, targetNamespace: target.namespace) },
            live: live?.node, liveSource: "in the manifests", notes: notes)
    }

    /// `backupconfigurations.cairn.dev`.
    static let configurationCRD = "backupconfigurations.\(CairnGroup.group)"

    private func namespace(of object: LoadedObject) -> String {
        object.node[path: "metadata", "namespace"]?.string ?? namespace
    }

    /// The BackupConfiguration schema from a CRD among the manifests, if one is there.
    private func configurationSchema(_ objects: [LoadedObject], report: inout ProblemReport) -> StructuralSchema? {
        guard let object = objects.first(where: { $0.kind == "CustomResourceDefinition" && $0.name == Self.configurationCRD }) else { return nil }
        do {
            return try CRDDocument(object.node, file: object.file).version(CairnGroup.version)?.schema
        } catch {
            report.add(InputError(file: object.file, mark: object.node.mark, "CustomResourceDefinition \(Self.configurationCRD): \(error)"))
            return nil
        }
    }
}

/// Reads the inputs of an explanation from a cluster, as the controller sees them.
struct LiveSource {
    let client: KubeClient
    let namespace: String

    /// The inputs for `reference`; throws when the target is missing or cannot be read.
    func read(_ reference: TargetReference) async throws -> ExplainInputs {
        let kind = try await resolve(reference)
        let display = "\(kind.kind) \(namespace)/\(reference.name)"
        var object: Node
        do {
            object = try await client.get(kind.resource, namespace: kind.resource.namespaced ? namespace : nil, name: reference.name)
        } catch let error as KubeError where error.kind == .notFound {
            throw ExplainError("\(display) not found in the cluster (\(client.connection.server)); check the name and -n")
        } catch {
            throw ExplainError("cannot read \(display): \(error)")
        }
        object["apiVersion"] = .string(kind.apiVersion)
        object["kind"] = .string(kind.kind)
        let target: RenderTarget
        do {
            target = try RenderTarget(manifest: object)
        } catch {
            throw ExplainError("\(display) cannot be read as a target: \(error.message)")
        }
        var inputs = ExplainInputs(target: target, blueprints: [], liveSource: "in the cluster")
        let labels = await namespaceLabels(&inputs)
        inputs.namespaceLabels = labels
        let schema = await configurationSchema(&inputs)
        await readBlueprint(for: target, schema: schema, into: &inputs)
        inputs.live = try await optional(CairnResource.configurations, name: Naming.configurationName(kind: target.kind, name: target.name))
        return inputs
    }

    /// The kind meant: a built-in one as it is, any other through discovery.
    private func resolve(_ reference: TargetReference) async throws -> TargetKind {
        if let known = reference.known { return known }
        do {
            let found = try await RESTMapper(client: client).resource(named: reference.typed)
            return TargetKind(apiVersion: found.apiVersion, kind: found.kind, resource: found.resource)
        } catch let error as RESTMappingError {
            throw ExplainError("cannot explain \(reference.typed)/\(reference.name): \(error)")
        } catch {
            throw ExplainError("cannot read the cluster's resource types (\(client.connection.server)): \(error)")
        }
    }

    /// An object, or nil when it does not exist; other errors end the run.
    private func optional(_ resource: Resource, namespace: String? = nil, name: String) async throws -> Node? {
        do {
            return try await client.get(resource, namespace: resource.namespaced ? (namespace ?? self.namespace) : nil, name: name)
        } catch let error as KubeError where error.kind == .notFound {
            return nil
        } catch {
            throw ExplainError("cannot read \(resource.plural) \(name): \(error)")
        }
    }

    private func namespaceLabels(_ inputs: inout ExplainInputs) async -> [String: String]? {
        do {
            let labels = try await optional(CairnResource.namespaces, name: namespace)?[path: "metadata", "labels"]?.mapping ?? []
            return Dictionary(labels.map { ($0.key.scalarText, $0.value.scalarText) }, uniquingKeysWith: { $1 })
        } catch {
            inputs.notes.append("\(error); a Selector usage policy is judged without the namespace's labels")
            return nil
        }
    }

    /// The served schema, as the controller reads it; without it, typing falls back as the controller's does.
    private func configurationSchema(_ inputs: inout ExplainInputs) async -> StructuralSchema? {
        do {
            return try await CairnResource.servedConfigurationSchema(client)
        } catch {
            inputs.notes.append("cannot read the CRD \(OfflineSource.configurationCRD) (\(error)): every lone ${...} reference is typed by its value, as the controller does without it")
            return nil
        }
    }

    /// The blueprint the target's annotations name, decoded as the controller decodes it.
    private func readBlueprint(for target: RenderTarget, schema: StructuralSchema?, into inputs: inout ExplainInputs) async {
        guard let name = target.annotations[BlueprintAnnotation.name], !name.isEmpty else { return }
        let namespace = target.annotations[BlueprintAnnotation.namespace] ?? target.namespace
        do {
            guard let node = try await optional(CairnResource.blueprints, namespace: namespace, name: name) else { return }
            inputs.blueprints = [try NodeDecoder().decode(BackupBlueprint.self, from: LiveBlueprint.plainReferences(node, configurationSchema: schema))]
        } catch {
            inputs.errors.append("BackupBlueprint \(namespace)/\(name) cannot be used (the controller ignores it): \(error)")
        }
    }
}
