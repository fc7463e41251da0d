import Blueprint
import CairnAPI
import YAML

/// What deleting a blueprint does to the configurations generated from it, by its
/// `deletionPolicy`. A finalizer holds the blueprint until this is done, so a controller that was
/// down when the blueprint was deleted still carries it out when it starts.
public enum DeletionPlan {
    /// The finalizer the controller puts on every blueprint it manages.
    public static let finalizer = "cairn.dev/generated-configurations"

    /// One step of carrying out a deletion policy.
    public enum Action: Sendable, Equatable {
        /// Delete this configuration (Snapshots and repository data are not touched).
        case delete(namespace: String, name: String)
        /// Write this configuration back, detached with `cairn.dev/managed: "false"`.
        case detach(Node)
    }

    /// The blueprint's `spec.deletionPolicy`; `Orphan` when absent or not one of the known values.
    public static func policy(of blueprint: Node) -> DeletionPolicy {
        blueprint[path: "spec", "deletionPolicy"]?.string.flatMap(DeletionPolicy.init(rawValue:)) ?? .orphan
    }

    /// The label selector of the configurations Cairn generated from `blueprint`.
    public static func selector(for blueprint: NamespacedRef) -> String {
        [
            "\(CairnLabel.managedBy)=\(CairnLabel.managedByValue)",
            "\(CairnLabel.blueprint)=\(Naming.labelValue(blueprint.name))",
            "\(CairnLabel.blueprintNamespace)=\(Naming.labelValue(blueprint.namespace ?? ""))",
        ].joined(separator: ",")
    }

    /// The steps for `configurations` (those the selector found); detached ones are the owner's
    /// and are left alone under either policy.
    public static func actions(policy: DeletionPolicy, configurations: [Node]) -> [Action] {
        configurations.filter { !ReconcilePlan.isDetached($0) }.map { configuration -> Action in
            switch policy {
            case .delete: .delete(namespace: configuration.namespace, name: configuration.name)
            case .orphan: .detach(detached(configuration))
            }
        }
    }

    /// The blueprint with the finalizer added; nil when it has it already.
    public static func addingFinalizer(_ blueprint: Node) -> Node? {
        let finalizers = blueprint[path: "metadata", "finalizers"]?.sequence ?? []
        guard !finalizers.contains(where: { $0.string == finalizer }) else { return nil }
        return withFinalizers(blueprint, finalizers + [.string(finalizer)])
    }

    /// The blueprint without the finalizer; nil when it does not have it.
    public static func removingFinalizer(_ blueprint: Node) -> Node? {
        let finalizers = blueprint[path: "metadata", "finalizers"]?.sequence ?? []
        guard finalizers.contains(where: { $0.string == finalizer }) else { return nil }
        return withFinalizers(blueprint, finalizers.filter { $0.string != finalizer })
    }

    private static func withFinalizers(_ blueprint: Node, _ finalizers: [Node]) -> Node {
        var object = blueprint
        var metadata = blueprint["metadata"] ?? .mapping([])
        metadata["finalizers"] = .sequence(finalizers)
        object["metadata"] = metadata
        return object
    }

    private static func detached(_ configuration: Node) -> Node {
        var object = configuration
        var metadata = configuration["metadata"] ?? .mapping([])
        var annotations = metadata["annotations"] ?? .mapping([])
        annotations[CairnLabel.managed] = "false"
        metadata["annotations"] = annotations
        object["metadata"] = metadata
        return object
    }
}
