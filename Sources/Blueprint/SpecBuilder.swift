import CairnAPI
import YAML

/// A fast, conservative reader of a rendered spec into `BackupConfigurationSpec`.
///
/// Why it exists: rendering must reach 20,000 objects a second (50 µs each). `NodeDecoder` takes
/// about 13 µs per spec in a tight loop but about 20 µs inside a render, which left rendering
/// without this reader at 18,000-20,000 a second on one core. This reader accepts only trees it fully
/// understands (known keys, exact scalar types, no duplicates) and returns nil for anything else;
/// `NodeDecoder` then decides, and writes every error message. So it can only make rendering
/// slower, never different: a field added to the API types is "unknown" here and falls back, a
/// removed or renamed one no longer compiles, and `SpecBuilderTests` check both agree.
enum SpecBuilder {
    /// The spec, or nil when the tree is anything but plainly valid.
    static func spec(_ node: Node) -> BackupConfigurationSpec? {
        var target: TargetRef?, storage: NamespacedRef?, sessions: [SessionSpec]?
        var encryptionSecret: LocalRef?, hooks: Hooks?, volumes: VolumeSelection?, concurrency: ConcurrencyPolicy?
        var startingDeadline: String?, retries: Int?, timeout: String?, historyLimit: Int?, rpo: String?
        let ok = fields(node) { key, value in
            switch key {
            case "target": return set(&target, value, targetRef)
            case "storage": return set(&storage, value, namespacedRef)
            case "sessions": return set(&sessions, value) { list($0, session) }
            case "encryptionSecret": return set(&encryptionSecret, value, localRef)
            case "hooks": return set(&hooks, value, hooksValue)
            case "volumes": return set(&volumes, value, volumeSelection)
            case "concurrencyPolicy": return set(&concurrency, value, enumeration)
            case "startingDeadline": return set(&startingDeadline, value, string)
            case "retries": return set(&retries, value, int)
            case "timeout": return set(&timeout, value, string)
            case "historyLimit": return set(&historyLimit, value, int)
            case "rpo": return set(&rpo, value, string)
            default: return false
            }
        }
        guard ok, let target, let storage, let sessions else { return nil }
        var spec = BackupConfigurationSpec(target: target, storage: storage, sessions: sessions)
        spec.encryptionSecret = encryptionSecret
        spec.hooks = hooks
        spec.volumes = volumes
        spec.concurrencyPolicy = concurrency
        spec.startingDeadline = startingDeadline
        spec.retries = retries
        spec.timeout = timeout
        spec.historyLimit = historyLimit
        spec.rpo = rpo
        return spec
    }

    // MARK: - Types

    private static func targetRef(_ node: Node) -> TargetRef? {
        var apiVersion: String?, kind: String?, name: String?
        let ok = fields(node) { key, value in
            switch key {
            case "apiVersion": return set(&apiVersion, value, string)
            case "kind": return set(&kind, value, string)
            case "name": return set(&name, value, string)
            default: return false
            }
        }
        guard ok, let apiVersion, let kind, let name else { return nil }
        return TargetRef(apiVersion: apiVersion, kind: kind, name: name)
    }

    private static func namespacedRef(_ node: Node) -> NamespacedRef? {
        var name: String?, namespace: String?
        let ok = fields(node) { key, value in
            switch key {
            case "name": return set(&name, value, string)
            case "namespace": return set(&namespace, value, string)
            default: return false
            }
        }
        guard ok, let name else { return nil }
        return NamespacedRef(name: name, namespace: namespace)
    }

    private static func localRef(_ node: Node) -> LocalRef? {
        var name: String?
        let ok = fields(node) { key, value in key == "name" ? set(&name, value, string) : false }
        guard ok, let name else { return nil }
        return LocalRef(name: name)
    }

    private static func session(_ node: Node) -> SessionSpec? {
        var name: String?, schedule: String?, timeZone: String?, method: BackupMethod?
        var retention: Retention?, paused: Bool?, snapshotClass: String?
        let ok = fields(node) { key, value in
            switch key {
            case "name": return set(&name, value, string)
            case "schedule": return set(&schedule, value, string)
            case "timeZone": return set(&timeZone, value, string)
            case "method": return set(&method, value, enumeration)
            case "retention": return set(&retention, value, retentionValue)
            case "paused": return set(&paused, value, bool)
            case "volumeSnapshotClassName": return set(&snapshotClass, value, string)
            default: return false
            }
        }
        guard ok, let name, let schedule else { return nil }
        var session = SessionSpec(name: name, schedule: schedule, method: method, retention: retention)
        session.timeZone = timeZone
        session.paused = paused
        session.volumeSnapshotClassName = snapshotClass
        return session
    }

    private static func retentionValue(_ node: Node) -> Retention? {
        var last: Int?, hourly: Int?, daily: Int?, weekly: Int?, monthly: Int?, yearly: Int?
        let ok = fields(node) { key, value in
            switch key {
            case "keepLast": return set(&last, value, int)
            case "keepHourly": return set(&hourly, value, int)
            case "keepDaily": return set(&daily, value, int)
            case "keepWeekly": return set(&weekly, value, int)
            case "keepMonthly": return set(&monthly, value, int)
            case "keepYearly": return set(&yearly, value, int)
            default: return false
            }
        }
        guard ok else { return nil }
        return Retention(
            keepLast: last, keepHourly: hourly, keepDaily: daily, keepWeekly: weekly, keepMonthly: monthly,
            keepYearly: yearly)
    }

    private static func hooksValue(_ node: Node) -> Hooks? {
        var pre: [Hook]?, post: [Hook]?
        let ok = fields(node) { key, value in
            switch key {
            case "preBackup": return set(&pre, value) { list($0, hook) }
            case "postBackup": return set(&post, value) { list($0, hook) }
            default: return false
            }
        }
        return ok ? Hooks(preBackup: pre, postBackup: post) : nil
    }

    private static func hook(_ node: Node) -> Hook? {
        var name: String?, exec: ExecAction?, job: JobAction?, onError: OnError?, timeout: String?, when: HookWhen?
        let ok = fields(node) { key, value in
            switch key {
            case "name": return set(&name, value, string)
            case "exec": return set(&exec, value, execAction)
            case "job": return set(&job, value, jobAction)
            case "onError": return set(&onError, value, enumeration)
            case "timeout": return set(&timeout, value, string)
            case "when": return set(&when, value, enumeration)
            default: return false
            }
        }
        guard ok, let name else { return nil }
        var hook = Hook(name: name, exec: exec, job: job)
        hook.onError = onError
        hook.timeout = timeout
        hook.when = when
        return hook
    }

    private static func execAction(_ node: Node) -> ExecAction? {
        var container: String?, command: [String]?
        let ok = fields(node) { key, value in
            switch key {
            case "container": return set(&container, value, string)
            case "command": return set(&command, value) { list($0, string) }
            default: return false
            }
        }
        guard ok, let command else { return nil }
        return ExecAction(container: container, command: command)
    }

    private static func jobAction(_ node: Node) -> JobAction? {
        var template: Node?
        let ok = fields(node) { key, value in
            guard key == "template", template == nil, !value.isNull else { return false }
            // The decoder hands the subtree over as is, positions and all; so does this.
            template = value
            return true
        }
        guard ok, let template else { return nil }
        return JobAction(template: template)
    }

    private static func volumeSelection(_ node: Node) -> VolumeSelection? {
        var pvcs: [String]?, include: [String]?, exclude: [String]?
        let ok = fields(node) { key, value in
            switch key {
            case "pvcs": return set(&pvcs, value) { list($0, string) }
            case "include": return set(&include, value) { list($0, string) }
            case "exclude": return set(&exclude, value) { list($0, string) }
            default: return false
            }
        }
        return ok ? VolumeSelection(pvcs: pvcs, include: include, exclude: exclude) : nil
    }

    // MARK: - Building blocks

    /// Calls `body` for every entry of a mapping with string keys; false if any call is, or on a non-mapping.
    private static func fields(_ node: Node, _ body: (String, Node) -> Bool) -> Bool {
        guard case .mapping(let pairs) = node.value else { return false }
        for pair in pairs {
            guard case .string(let key) = pair.key.value, body(key, pair.value) else { return false }
        }
        return true
    }

    /// Sets a field once; a repeated key, a null, or a value the reader rejects is false.
    ///
    /// Nulls go to `NodeDecoder`, which knows how a null next to a repeated key behaves.
    private static func set<T>(_ field: inout T?, _ node: Node, _ read: (Node) -> T?) -> Bool {
        guard field == nil, let value = read(node) else { return false }
        field = value
        return true
    }

    private static func list<T>(_ node: Node, _ read: (Node) -> T?) -> [T]? {
        guard case .sequence(let items) = node.value else { return nil }
        var values: [T] = []
        values.reserveCapacity(items.count)
        for item in items {
            guard let value = read(item) else { return nil }
            values.append(value)
        }
        return values
    }

    private static func string(_ node: Node) -> String? { node.string }
    private static func int(_ node: Node) -> Int? { node.int }
    private static func bool(_ node: Node) -> Bool? { node.bool }
    private static func enumeration<E: RawRepresentable<String>>(_ node: Node) -> E? { node.string.flatMap(E.init) }
}
