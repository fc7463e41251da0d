import Blueprint
import CairnAPI
import YAML

/// What one reconcile found out about an opted-in target: the blueprint it names and, when it has
/// no working configuration, why. The blueprint's status, the failing-targets gauge and the
/// Warning Events are all made from these.
public struct TargetReport: Sendable, Equatable {
    /// Why a target has no working configuration.
    public struct Failure: Sendable, Equatable {
        /// A CamelCase reason: `MissingVariable`, `NameConflict`, `StorageNotFound`, ...
        public var reason: String
        /// What is wrong and how to fix it.
        public var message: String

        /// Creates a failure.
        public init(reason: String, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    /// The blueprint the target names, its namespace filled in.
    public var blueprint: NamespacedRef
    /// Why it failed; nil when its configuration rendered and its storage exists.
    public var failure: Failure?

    /// Creates a report.
    public init(blueprint: NamespacedRef, failure: Failure? = nil) {
        self.blueprint = blueprint
        self.failure = failure
    }
}

extension ReconcilePlan {
    /// The reason reported when the BackupStorage a configuration names does not exist.
    public static let storageNotFound = "StorageNotFound"

    /// What the target's reconcile amounts to, for its blueprint's status and the metrics; nil
    /// when the target is not opted in. `missingStorage` is the storage the target's
    /// configuration names when that storage does not exist.
    public static func report(outcome: RenderOutcome, action: ReconcileAction, missingStorage: NamespacedRef?) -> TargetReport? {
        switch outcome {
        case .notOptedIn:
            return nil
        case .failed(let failure):
            let blueprint = failure.blueprint ?? NamespacedRef(name: "", namespace: failure.target.namespace)
            return TargetReport(blueprint: blueprint, failure: .init(reason: reason(failure), message: message(failure)))
        case .rendered(let rendering):
            if case .warn(let reason, let message) = action { return TargetReport(blueprint: rendering.blueprint, failure: .init(reason: reason, message: message)) }
            guard let missingStorage else { return TargetReport(blueprint: rendering.blueprint) }
            let configuration = rendering.configuration.metadata
            return TargetReport(
                blueprint: rendering.blueprint,
                failure: .init(reason: storageNotFound, message: storageMessage(missingStorage, configuration: configuration, blueprint: rendering.blueprint)))
        }
    }

    /// The storage `configuration` names, its namespace defaulted to the configuration's own.
    public static func storage(of configuration: Node) -> NamespacedRef? {
        guard let name = configuration[path: "spec", "storage", "name"]?.string else { return nil }
        return NamespacedRef(name: name, namespace: configuration[path: "spec", "storage", "namespace"]?.string ?? configuration.namespace)
    }

    static func storageMessage(_ storage: NamespacedRef, configuration: ObjectMeta, blueprint: NamespacedRef) -> String {
        let name = "BackupStorage \(storage.namespace ?? configuration.namespace ?? "")/\(storage.name)"
        return "\(name), which BackupConfiguration \(configuration.namespace ?? "")/\(configuration.name ?? "") names in spec.storage, does not exist, "
            + "so no backup can run; fix: create \(name), or point spec.template.storage of BackupBlueprint "
            + "\(blueprint.namespace ?? "")/\(blueprint.name) (or the variable that sets it) at an existing BackupStorage"
    }
}

/// The status AutoBackup writes on a generated configuration: `Rendered`, `Ready`, `managedBy`
/// and `phase`. Other fields (the executor's) are kept as they are.
public enum ConfigurationStatusPlan {
    /// The condition that says whether the last render succeeded.
    public static let rendered = "Rendered"
    /// The condition that says whether the configuration can run: its storage exists.
    public static let ready = "Ready"

    /// What AutoBackup knows about one configuration.
    public struct Observation: Sendable, Equatable {
        /// The configuration's `metadata.generation`.
        public var generation: Int?
        /// The blueprint it was rendered from, when this render succeeded.
        public var renderedFrom: NamespacedRef?
        /// Why this render failed (the configuration is the last good one), when it did.
        public var renderFailure: TargetReport.Failure?
        /// The BackupStorage `spec.storage` names.
        public var storage: NamespacedRef?
        /// Whether that storage exists.
        public var storageExists: Bool

        /// Creates an observation.
        public init(generation: Int?, renderedFrom: NamespacedRef?, renderFailure: TargetReport.Failure?, storage: NamespacedRef?, storageExists: Bool) {
            self.generation = generation
            self.renderedFrom = renderedFrom
            self.renderFailure = renderFailure
            self.storage = storage
            self.storageExists = storageExists
        }
    }

    /// The status to write, or nil when `live` says the same already (so a resync writes nothing).
    public static func desired(live: BackupConfigurationStatus?, observed: Observation, now: String) -> BackupConfigurationStatus? {
        var status = live ?? BackupConfigurationStatus()
        if let blueprint = observed.renderedFrom { status.managedBy = blueprint }
        var conditions = Conditions.setting(renderedCondition(observed, now: now), in: status.conditions)
        let ready = readyCondition(observed, now: now)
        conditions = Conditions.setting(ready, in: conditions)
        status.conditions = conditions
        status.phase = ready.status == .true ? "Ready" : "NotReady"
        return status == live ? nil : status
    }

    private static func renderedCondition(_ observed: Observation, now: String) -> Condition {
        if let failure = observed.renderFailure {
            return Condition(
                type: rendered, status: .false, reason: failure.reason,
                message: "the last render failed, so the configuration stays as last rendered: \(failure.message)",
                lastTransitionTime: now, observedGeneration: observed.generation)
        }
        let blueprint = observed.renderedFrom.map { "BackupBlueprint \($0.namespace ?? "")/\($0.name)" } ?? "its blueprint"
        return Condition(
            type: rendered, status: .true, reason: rendered, message: "rendered from \(blueprint)",
            lastTransitionTime: now, observedGeneration: observed.generation)
    }

    private static func readyCondition(_ observed: Observation, now: String) -> Condition {
        let storage = observed.storage.map { "BackupStorage \($0.namespace ?? "")/\($0.name)" } ?? "the BackupStorage in spec.storage"
        guard observed.storageExists else {
            return Condition(
                type: ready, status: .false, reason: ReconcilePlan.storageNotFound,
                message: "\(storage) does not exist, so no backup can run; fix: create \(storage), or point the blueprint's spec.template.storage at an existing one",
                lastTransitionTime: now, observedGeneration: observed.generation)
        }
        return Condition(
            type: ready, status: .true, reason: "StorageFound", message: "\(storage) exists",
            lastTransitionTime: now, observedGeneration: observed.generation)
    }
}

/// The status AutoBackup writes on a blueprint, made from the reports of the targets that name it.
public enum BlueprintStatusPlan {
    /// The condition that says whether a target met a configuration of its generated name that
    /// Cairn did not create.
    public static let nameConflict = ReconcilePlan.nameConflict
    /// How many failures `status.failures` lists; `omittedFailures` counts the rest.
    public static let failureLimit = 100

    /// The status to write, or nil when `live` says the same already.
    ///
    /// `BlueprintNotFound` reports are left out: they name a blueprint that did not exist when
    /// the target rendered, and re-render as soon as it appears.
    public static func desired(
        live: BackupBlueprintStatus?, generation: Int?, reports: [TargetKey: TargetReport], now: String, limit: Int = failureLimit
    ) -> BackupBlueprintStatus? {
        let counted = reports.filter { $0.value.failure?.reason != Problem.Reason.blueprintNotFound.rawValue }
        let failures = counted.compactMap { key, report in report.failure.map { (key, $0) } }.sorted { $0.0 < $1.0 }
        var status = live ?? BackupBlueprintStatus()
        status.observedGeneration = generation
        status.targets = counted.count
        status.failed = failures.count
        status.resolved = counted.count - failures.count
        status.failures = failures.prefix(limit).map { key, failure in
            ResolutionFailure(kind: key.kind, namespace: key.namespace, name: key.name, reason: failure.reason, message: failure.message)
        }
        status.omittedFailures = max(0, failures.count - limit)
        let conflicts = failures.filter { $0.1.reason == nameConflict }.map { $0.0 }
        status.conditions = Conditions.setting(conflictCondition(conflicts, generation: generation, now: now), in: status.conditions)
        return status == live ? nil : status
    }

    private static func conflictCondition(_ conflicts: [TargetKey], generation: Int?, now: String) -> Condition {
        guard let first = conflicts.first else {
            return Condition(
                type: nameConflict, status: .false, reason: "NoConflict",
                message: "no target meets a BackupConfiguration of its generated name that Cairn did not create",
                lastTransitionTime: now, observedGeneration: generation)
        }
        let others = conflicts.count > 1 ? " and \(conflicts.count - 1) more" : ""
        return Condition(
            type: nameConflict, status: .true, reason: nameConflict,
            message: "\(first)\(others) meet a BackupConfiguration of the generated name that Cairn did not create; "
                + "see status.failures for each, and rename or delete those configurations",
            lastTransitionTime: now, observedGeneration: generation)
    }
}
