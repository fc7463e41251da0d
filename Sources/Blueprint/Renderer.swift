import CairnAPI
import YAML

/// What rendering one object gave.
///
/// Indirect, so that passing an outcome around moves one reference, not a whole configuration.
public indirect enum RenderOutcome: Sendable, Equatable {
    /// The object has no `blueprint.cairn.dev/name` annotation.
    case notOptedIn
    /// The configuration to apply.
    case rendered(Rendering)
    /// Nothing to apply; every problem found.
    case failed(RenderFailure)

    /// The rendering, when rendering succeeded.
    public var rendering: Rendering? { if case .rendered(let rendering) = self { rendering } else { nil } }
    /// The failure, when rendering failed.
    public var failure: RenderFailure? { if case .failed(let failure) = self { failure } else { nil } }
}

/// A rendered BackupConfiguration, the blueprint it came from and where every value came from.
public struct Rendering: Sendable, Equatable {
    /// The configuration to apply; `status` is left for the controller.
    ///
    /// It is owned by the target (controller and blockOwnerDeletion) only when the target's uid is
    /// known; objects read from offline manifests have none, so their configurations have no
    /// ownerReference until the controller renders them from the live object.
    public var configuration: BackupConfiguration
    /// The blueprint used.
    public var blueprint: NamespacedRef
    /// Every variable used, with its value, source and paths.
    public var provenance: [ResolvedVariable]

    /// Creates a rendering.
    public init(configuration: BackupConfiguration, blueprint: NamespacedRef, provenance: [ResolvedVariable]) {
        self.configuration = configuration
        self.blueprint = blueprint
        self.provenance = provenance
    }
}

/// Turns annotated objects into BackupConfigurations, using blueprints compiled once.
///
/// Pure: no I/O. Build one per set of blueprints and call ``render(_:namespaceLabels:)`` per object.
public struct Renderer: Sendable {
    private let blueprints: [BlueprintKey: CompiledBlueprint]

    /// Compiles every blueprint: references, patterns and checks. A later duplicate replaces an earlier one.
    public init(blueprints: [BackupBlueprint]) {
        var compiled: [BlueprintKey: CompiledBlueprint] = [:]
        for blueprint in blueprints {
            let entry = CompiledBlueprint(blueprint)
            compiled[entry.key] = entry
        }
        self.blueprints = compiled
    }

    /// Renders one object; `namespaceLabels` are its namespace's labels, needed for `Selector` policies.
    public func render(_ target: RenderTarget, namespaceLabels: [String: String]? = nil) -> RenderOutcome {
        guard let name = target.annotations[BlueprintAnnotation.name] else { return .notOptedIn }
        let key = BlueprintKey(namespace: target.annotations[BlueprintAnnotation.namespace] ?? target.namespace, name: name)
        guard let blueprint = blueprints[key] else {
            return .failed(RenderFailure(target: target, blueprint: key.ref, problems: [notFound(key, target)]))
        }
        return RenderPass(blueprint: blueprint, target: target, namespaceLabels: namespaceLabels).run()
    }

    /// Problems with a blueprint itself (bad references, patterns, declarations); nil if unknown.
    public func problems(inBlueprint ref: NamespacedRef) -> [Problem]? {
        blueprints[BlueprintKey(namespace: ref.namespace ?? "default", name: ref.name)]?.problems
    }

    private func notFound(_ key: BlueprintKey, _ target: RenderTarget) -> Problem {
        let named = target.annotations[BlueprintAnnotation.namespace] != nil
            ? "annotations \(BlueprintAnnotation.name) and \(BlueprintAnnotation.namespace)"
            : "annotation \(BlueprintAnnotation.name)"
        return Problem(
            reason: .blueprintNotFound,
            message: key.name.isEmpty
                ? "annotation \(BlueprintAnnotation.name) is empty"
                : "\(key.displayName) does not exist",
            fix: "set \(named) on \(target.displayName) to an existing blueprint, or create \(key.displayName)")
    }
}

/// One render of one target with one blueprint: the steps, in order.
struct RenderPass {
    let blueprint: CompiledBlueprint
    let target: RenderTarget
    let namespaceLabels: [String: String]?

    func run() -> RenderOutcome {
        let resolution = Resolution(blueprint: blueprint, target: target)
        let (sessions, sessionProblems) = selectSessions(resolution)
        let check = VariableCheck(blueprint: blueprint, target: target, resolution: resolution, sessions: sessions)
        let problems = blueprint.problems + namespaceProblems() + subjectProblems() + sessionProblems
            + check.builtinOverrides() + check.problems()
        guard problems.isEmpty else { return fail(problems) }
        let substitution = Substitution(template: blueprint.template, resolution: resolution, sessions: sessions)
        let spec = withTarget(substitution.renderSpec())
        switch SpecValidation.validate(spec) {
        case .failure(let found):
            let origins = OriginMap(template: blueprint.template, substitution: substitution)
            return fail(found.problems.map { problem(for: $0, origins: origins, substitution: substitution, check: check) })
        case .success(let decoded):
            return .rendered(assemble(spec: decoded, node: spec, provenance: check.provenance()))
        }
    }

    private func fail(_ problems: [Problem]) -> RenderOutcome {
        .failed(RenderFailure(target: target, blueprint: blueprint.key.ref, problems: problems))
    }

    /// The spec with `target` pointing at the object itself, unless the template sets it.
    private func withTarget(_ spec: Node) -> Node {
        guard spec["target"] == nil, case .mapping(let pairs) = spec.value else { return spec }
        let reference = Node.mapping([
            "apiVersion": .string(target.apiVersion), "kind": .string(target.kind), "name": .string(target.name),
        ])
        return Node(.mapping([Node.Pair(key: "target", value: reference)] + pairs), mark: spec.mark)
    }

    private func assemble(spec: BackupConfigurationSpec, node: Node, provenance: [ResolvedVariable]) -> Rendering {
        // In key order, so the hash needs no sort.
        let sortedLabels = [
            (key: CairnLabel.managedBy, value: CairnLabel.managedByValue),
            (key: CairnLabel.blueprint, value: Naming.labelValue(blueprint.key.name)),
            (key: CairnLabel.blueprintNamespace, value: Naming.labelValue(blueprint.key.namespace)),
            (key: CairnLabel.targetKind, value: Naming.labelValue(target.kind)),
            (key: CairnLabel.targetName, value: Naming.labelValue(target.name)),
        ]
        let labels = Dictionary(uniqueKeysWithValues: sortedLabels)
        let hash = CanonicalHash.rendered(spec: node, template: blueprint.template, sortedLabels: sortedLabels)
        var metadata = ObjectMeta(
            name: Naming.configurationName(kind: target.kind, name: target.name), namespace: target.namespace,
            labels: labels, annotations: [CairnLabel.renderedHash: hash])
        if let uid = target.uid {
            metadata.ownerReferences = [
                OwnerReference(
                    apiVersion: target.apiVersion, kind: target.kind, name: target.name, uid: uid,
                    controller: true, blockOwnerDeletion: true)
            ]
        }
        return Rendering(
            configuration: BackupConfiguration(metadata: metadata, spec: spec), blueprint: blueprint.key.ref,
            provenance: provenance)
    }
}

// MARK: - Policy: namespaces, subjects and sessions

extension RenderPass {
    func namespaceProblems() -> [Problem] {
        switch blueprint.allowedNamespaces.admission(of: target.namespace, ownerNamespace: blueprint.key.namespace, namespaceLabels: namespaceLabels) {
        case .allowed:
            return []
        case .denied(let why):
            return [namespaceProblem(why)]
        case .labelsUnknown:
            return [
                Problem(
                    reason: .namespaceNotAllowed, paths: ["spec.usagePolicy.allowedNamespaces.selector"],
                    message: "\(blueprint.key.displayName) allows namespaces by label, and the labels of namespace \(target.namespace) are unknown",
                    fix: "provide the Namespace object \(target.namespace) (its labels) when rendering, for example in the same manifests")
            ]
        }
    }

    private func namespaceProblem(_ why: String) -> Problem {
        Problem(
            reason: .namespaceNotAllowed, paths: ["spec.usagePolicy.allowedNamespaces"],
            message: "\(blueprint.key.displayName) may not be used in namespace \(target.namespace): \(why)",
            fix: "use a blueprint that allows namespace \(target.namespace), or change spec.usagePolicy.allowedNamespaces in \(blueprint.key.displayName)")
    }

    func subjectProblems() -> [Problem] {
        let allowed = blueprint.subjects.contains { subject in
            subject.kind == target.kind && (subject.apiGroup == nil || subject.apiGroup == target.group)
        }
        guard !allowed else { return [] }
        let kinds = blueprint.subjects.map { Self.qualified(kind: $0.kind, group: $0.apiGroup) }
        let this = Self.qualified(kind: target.kind, group: target.group)
        return [
            Problem(
                reason: .subjectNotAllowed, paths: ["spec.subjects"],
                message: "\(blueprint.key.displayName) does not target \(this); its subjects are \(kinds.joined(separator: ", "))",
                fix: "use a blueprint for \(this), or add {apiGroup: \"\(target.group)\", kind: \(target.kind)} to spec.subjects of \(blueprint.key.displayName)")
        ]
    }

    private static func qualified(kind: String, group: String?) -> String {
        guard let group, !group.isEmpty else { return kind }
        return "\(kind).\(group)"
    }

    /// The sessions the annotation keeps, or a problem naming the unknown ones.
    func selectSessions(_ resolution: Resolution) -> (SessionFilter, [Problem]) {
        guard let annotation = target.annotations[BlueprintAnnotation.sessions] else { return (.all, []) }
        let requested = annotation.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        let names = Substitution(template: blueprint.template, resolution: resolution, sessions: .all).sessionNames()
        let unknown = requested.filter { !names.contains($0) }
        guard requested.isEmpty || !unknown.isEmpty else {
            return (SessionFilter(keep: names.map { name in name.map(requested.contains) ?? false }), [])
        }
        let known = names.compactMap { $0 }.joined(separator: ", ")
        let message = requested.isEmpty
            ? "annotation \(BlueprintAnnotation.sessions) names no session"
            : "annotation \(BlueprintAnnotation.sessions) names unknown sessions \(unknown.joined(separator: ", ")); \(blueprint.key.displayName) has \(known)"
        let problem = Problem(
            reason: .invalidSessions, paths: ["spec.template.sessions"], message: message,
            fix: "set annotation \(BlueprintAnnotation.sessions) on \(target.displayName) to a comma-separated subset of \(known), or remove it")
        return (.all, [problem])
    }
}

// MARK: - Mapping rendered-spec problems back to the template

extension RenderPass {
    /// A problem in the rendered spec, reported at its template path and blamed on its variable.
    func problem(
        for rendered: RenderedProblem, origins: OriginMap, substitution: Substitution, check: VariableCheck
    ) -> Problem {
        let origin = origins.origin(of: rendered.path)
        guard let siteIndex = origin.sites.first else {
            return Problem(
                reason: .invalidTemplate, paths: [origin.templatePath], mark: rendered.mark ?? origin.mark, message: rendered.message,
                fix: "fix \(origin.templatePath) in \(blueprint.key.displayName)")
        }
        let site = blueprint.template.sites[siteIndex]
        let info = blueprint.variables[site.variable]
        let source = substitution.resolution.sources[site.variable] ?? .inlineDefault
        let value = substitution.resolution.value(at: site) ?? ""
        return Problem(
            reason: .invalidValue, variable: info.name, paths: [origin.templatePath], mark: rendered.mark ?? origin.mark,
            message: "\(rendered.message); the value \"\(value)\" comes from variable \(info.name) (\(source))",
            fix: check.valueFix(info, source: source, declaration: info.declaration))
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
