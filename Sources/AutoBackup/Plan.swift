import Blueprint
import CairnAPI
import YAML

/// What one reconcile of a target does: decided by ``ReconcilePlan/decide(outcome:live:target:)``,
/// carried out by the controller.
public enum ReconcileAction: Sendable, Equatable {
    /// Everything is in step (or not Cairn's to touch without a report): write nothing.
    case nothing
    /// Create this configuration.
    case create(Node)
    /// Replace the live configuration with this one (it carries the live resourceVersion).
    case update(Node)
    /// Delete the configuration Cairn generated for a target that opted out.
    case delete(name: String)
    /// Record a Warning Event on the target.
    case warn(reason: String, message: String)
}

/// The pure decision of a reconcile: the render outcome and the live configuration in, one action out.
public enum ReconcilePlan {
    /// The Event reason for a configuration with the generated name that Cairn did not create.
    public static let nameConflict = "NameConflict"
    /// The Event reason for a render with several problems.
    public static let renderFailed = "RenderFailed"

    /// Decides what to do for `target`, given what the renderer gave and the live configuration
    /// with the generated name (if any).
    public static func decide(outcome: RenderOutcome, live: Node?, target: RenderTarget) -> ReconcileAction {
        switch outcome {
        case .notOptedIn:
            guard let live, isGenerated(live, for: target), !isDetached(live) else { return .nothing }
            return .delete(name: live.name)
        case .failed(let failure):
            // The last good configuration stays: a typo in an annotation must not stop backups.
            return .warn(reason: reason(failure), message: message(failure))
        case .rendered(let rendering):
            return decide(rendering.configuration, live: live, target: target)
        }
    }

    private static func decide(_ desired: BackupConfiguration, live: Node?, target: RenderTarget) -> ReconcileAction {
        guard let live else { return encoded(desired).map(ReconcileAction.create) ?? .nothing }
        if isDetached(live) { return .nothing }
        guard isGenerated(live, for: target) else { return .warn(reason: nameConflict, message: conflictMessage(live, target)) }
        if isInStep(live, with: desired) { return .nothing }
        return merged(live, with: desired).map(ReconcileAction.update) ?? .nothing
    }

    /// Whether Cairn made `live` for this very target: its managed-by label and an ownerReference to the target's uid.
    public static func isGenerated(_ live: Node, for target: RenderTarget) -> Bool {
        guard live.stringMap("labels")[CairnLabel.managedBy] == CairnLabel.managedByValue, let uid = target.uid else { return false }
        return (live[path: "metadata", "ownerReferences"]?.sequence ?? []).contains { $0["uid"]?.string == uid }
    }

    /// Whether the owner detached the configuration with `cairn.dev/managed: "false"`.
    public static func isDetached(_ live: Node) -> Bool {
        live.stringMap("annotations")[CairnLabel.managed] == "false"
    }

    /// Whether the live configuration already carries the rendered hash, labels and spec.
    ///
    /// The hash alone is not enough: a manual edit of the spec keeps the annotation, and must be put back.
    public static func isInStep(_ live: Node, with desired: BackupConfiguration) -> Bool {
        let annotations = live.stringMap("annotations")
        guard annotations[CairnLabel.renderedHash] == desired.metadata.annotations?[CairnLabel.renderedHash] else { return false }
        let labels = live.stringMap("labels")
        guard (desired.metadata.labels ?? [:]).allSatisfy({ labels[$0.key] == $0.value }) else { return false }
        guard let spec = live["spec"] else { return false }
        do {
            return try NodeDecoder().decode(BackupConfigurationSpec.self, from: spec) == desired.spec
        } catch {
            // A spec that no longer decodes was edited by hand: it is drift, and the update puts it back.
            return false
        }
    }

    /// The live object with the rendered spec, labels and hash put back; everything else (status,
    /// other labels and annotations, resourceVersion) kept.
    public static func merged(_ live: Node, with desired: BackupConfiguration) -> Node? {
        guard let spec = encoded(desired)?["spec"] else { return nil }
        var object = live
        var metadata = live["metadata"] ?? .mapping([])
        var labels = metadata["labels"] ?? .mapping([])
        for (key, value) in (desired.metadata.labels ?? [:]).sorted(by: { $0.key < $1.key }) { labels[key] = .string(value) }
        metadata["labels"] = labels
        var annotations = metadata["annotations"] ?? .mapping([])
        for (key, value) in (desired.metadata.annotations ?? [:]).sorted(by: { $0.key < $1.key }) { annotations[key] = .string(value) }
        metadata["annotations"] = annotations
        object["metadata"] = metadata
        object["spec"] = spec
        return object
    }

    private static func encoded(_ configuration: BackupConfiguration) -> Node? {
        do {
            return try NodeEncoder().encode(configuration)
        } catch {
            // The renderer built the value from decoded types, so encoding it cannot fail; if it
            // ever does, writing nothing is safer than writing half an object.
            return nil
        }
    }

    static func reason(_ failure: RenderFailure) -> String {
        let reasons = Set(failure.problems.map(\.reason.rawValue))
        return reasons.count == 1 ? reasons.first ?? renderFailed : renderFailed
    }

    /// Every problem with its fix, numbered, in one Event message.
    static func message(_ failure: RenderFailure) -> String {
        let blueprint = failure.blueprint.map { " with BackupBlueprint \($0.namespace ?? failure.target.namespace)/\($0.name)" } ?? ""
        let count = failure.problems.count
        var lines = ["cannot render a BackupConfiguration for \(failure.target.displayName)\(blueprint): \(count) problem\(count == 1 ? "" : "s")"]
        for (index, problem) in failure.problems.enumerated() {
            lines.append("\(index + 1). \(problem.message); fix: \(problem.fix)")
        }
        return lines.joined(separator: "\n")
    }

    private static func conflictMessage(_ live: Node, _ target: RenderTarget) -> String {
        "BackupConfiguration \(live.namespace)/\(live.name) already exists and Cairn did not create it for \(target.displayName) "
            + "(it lacks the label \(CairnLabel.managedBy): \(CairnLabel.managedByValue) or an ownerReference to the \(target.kind)); "
            + "Cairn leaves it alone: rename or delete that configuration, or remove annotation \(BlueprintAnnotation.name) from the \(target.kind)"
    }
}
