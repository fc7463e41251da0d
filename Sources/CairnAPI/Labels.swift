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

/// The labels that tie BackupSessions (and what they create) to their configuration and session.
public enum SessionLabel {
    /// `cairn.dev/configuration`: the BackupConfiguration's name.
    public static let configuration = "cairn.dev/configuration"
    /// `cairn.dev/session`: the session's name within that configuration.
    public static let session = "cairn.dev/session"
}

/// Retention, written on Snapshot objects as labels so `kubectl get snapshots -L ...` shows it.
///
/// Label values cannot hold `:`, so each period is written as a plain value: hourly `2026-11-21T13`,
/// daily `2026-11-21`, weekly (ISO 8601 week) `2026-W47`, monthly `2026-11`, yearly `2026`, in the
/// session's time zone. A snapshot kept by `keepLast` carries `cairn.dev/last=true`.
public enum RetentionLabel {
    /// `cairn.dev/last`: `true` on the newest `keepLast` snapshots.
    public static let last = "cairn.dev/last"
    /// `cairn.dev/hourly`: the hour a snapshot stands for, `2026-11-21T13`.
    public static let hourly = "cairn.dev/hourly"
    /// `cairn.dev/daily`: the day, `2026-11-21`.
    public static let daily = "cairn.dev/daily"
    /// `cairn.dev/weekly`: the ISO week, `2026-W47`.
    public static let weekly = "cairn.dev/weekly"
    /// `cairn.dev/monthly`: the month, `2026-11`.
    public static let monthly = "cairn.dev/monthly"
    /// `cairn.dev/yearly`: the year, `2026`.
    public static let yearly = "cairn.dev/yearly"
    /// `cairn.dev/delete-after`: when a snapshot no period keeps may be deleted, in UTC as
    /// `20261122T013000Z` (a valid label value).
    public static let deleteAfter = "cairn.dev/delete-after"
    /// `cairn.dev/keep`: `true` pins a snapshot; retention never marks it.
    public static let keep = "cairn.dev/keep"

    /// The period labels, shortest period first.
    public static let periods = [last, hourly, daily, weekly, monthly, yearly]
    /// Every label retention writes.
    public static let managed = periods + [deleteAfter]
}
