/// The annotation keys app owners write on a workload to opt it in to a blueprint.
public enum BlueprintAnnotation {
    /// `blueprint.cairn.dev/name`: the blueprint to use. Absent means the object is not opted in.
    public static let name = "blueprint.cairn.dev/name"
    /// `blueprint.cairn.dev/namespace`: the blueprint's namespace; the target's own when absent.
    public static let namespace = "blueprint.cairn.dev/namespace"
    /// `blueprint.cairn.dev/sessions`: a comma-separated subset of the template's sessions to keep.
    public static let sessions = "blueprint.cairn.dev/sessions"
    /// `variables.cairn.dev/`: the prefix of an annotation that sets a template variable.
    public static let variablePrefix = "variables.cairn.dev/"

    /// The annotation that sets the variable `name`: `variables.cairn.dev/<name>`.
    public static func variable(_ name: String) -> String { variablePrefix + name }
}

/// The label and annotation keys Cairn writes on the objects it generates.
public enum CairnLabel {
    /// `app.kubernetes.io/managed-by`, set to ``managedByValue``.
    public static let managedBy = "app.kubernetes.io/managed-by"
    /// `cairn`: the value of ``managedBy`` on generated objects.
    public static let managedByValue = "cairn"
    /// `cairn.dev/blueprint`: the name of the blueprint a configuration was rendered from.
    public static let blueprint = "cairn.dev/blueprint"
    /// `cairn.dev/blueprint-namespace`: that blueprint's namespace.
    public static let blueprintNamespace = "cairn.dev/blueprint-namespace"
    /// `cairn.dev/target-kind`: the kind of the object a configuration backs up.
    public static let targetKind = "cairn.dev/target-kind"
    /// `cairn.dev/target-name`: the name of the object a configuration backs up.
    public static let targetName = "cairn.dev/target-name"
    /// `cairn.dev/rendered-hash` (annotation): a hash of the rendered spec and labels.
    public static let renderedHash = "cairn.dev/rendered-hash"
    /// `cairn.dev/managed` (annotation): `"false"` once a configuration is detached from its blueprint.
    public static let managed = "cairn.dev/managed"
}
