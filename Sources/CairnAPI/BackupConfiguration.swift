import YAML

/// A concrete backup plan for one target: where, how often, how, and how long to keep.
public struct BackupConfiguration: Codable, Sendable, Equatable {
    public var apiVersion: String = CairnGroup.apiVersion
    public var kind: String = "BackupConfiguration"
    public var metadata: ObjectMeta
    public var spec: BackupConfigurationSpec
    public var status: BackupConfigurationStatus?

    /// Creates a configuration.
    public init(metadata: ObjectMeta, spec: BackupConfigurationSpec, status: BackupConfigurationStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The desired backup plan.
public struct BackupConfigurationSpec: Codable, Sendable, Equatable {
    public var target: TargetRef
    /// The BackupStorage to write to.
    public var storage: NamespacedRef
    /// The Secret whose `RESTIC_PASSWORD` key encrypts the repository.
    public var encryptionSecret: LocalRef?
    public var sessions: [SessionSpec]
    public var hooks: Hooks?
    public var volumes: VolumeSelection?
    /// `Forbid` when absent.
    public var concurrencyPolicy: ConcurrencyPolicy?
    /// How late a missed run may still start, as a duration (`1h`).
    public var startingDeadline: String?
    /// How many times a failed run is retried.
    public var retries: Int?
    /// How long one run may take, as a duration (`2h`).
    public var timeout: String?
    /// How many finished BackupSessions to keep.
    public var historyLimit: Int?
    /// The longest acceptable age of the last good backup, as a duration (`26h`).
    public var rpo: String?

    /// Creates a spec.
    public init(target: TargetRef, storage: NamespacedRef, sessions: [SessionSpec]) {
        self.target = target
        self.storage = storage
        self.sessions = sessions
    }
}

/// The object a configuration backs up, in the configuration's namespace.
public struct TargetRef: Codable, Sendable, Equatable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String

    /// Creates a target reference.
    public init(apiVersion: String, kind: String, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
    }
}

/// One schedule of a configuration, with its method and retention.
public struct SessionSpec: Codable, Sendable, Equatable {
    public var name: String
    /// A 5-field cron expression, `@hourly`, `@daily`, ..., or `@daily-random`.
    public var schedule: String
    /// The IANA time zone the schedule is read in; UTC when absent.
    public var timeZone: String?
    /// `restic` when absent.
    public var method: BackupMethod?
    public var retention: Retention?
    public var paused: Bool?
    /// The VolumeSnapshotClass for the `snapshot` methods.
    public var volumeSnapshotClassName: String?

    /// Creates a session.
    public init(name: String, schedule: String, method: BackupMethod? = nil, retention: Retention? = nil) {
        self.name = name
        self.schedule = schedule
        self.method = method
        self.retention = retention
    }
}

/// How a session takes its backup.
public enum BackupMethod: String, Codable, Sendable, CaseIterable, StringEnumeration {
    /// A restic Job that mounts the volumes.
    case restic
    /// A CSI VolumeSnapshot.
    case snapshot
    /// A CSI VolumeSnapshot, then an off-site restic copy of a clone of it.
    case snapshotRestic = "snapshot-restic"
}

/// How many snapshots to keep, per period.
public struct Retention: Codable, Sendable, Equatable {
    public var keepLast: Int?
    public var keepHourly: Int?
    public var keepDaily: Int?
    public var keepWeekly: Int?
    public var keepMonthly: Int?
    public var keepYearly: Int?

    /// Creates a retention policy.
    public init(
        keepLast: Int? = nil, keepHourly: Int? = nil, keepDaily: Int? = nil,
        keepWeekly: Int? = nil, keepMonthly: Int? = nil, keepYearly: Int? = nil
    ) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
    }
}

/// Whether runs of one configuration may overlap.
public enum ConcurrencyPolicy: String, Codable, Sendable, CaseIterable, StringEnumeration {
    case forbid = "Forbid"
    case allow = "Allow"
    case replace = "Replace"
}

/// Hooks around a backup.
public struct Hooks: Codable, Sendable, Equatable {
    public var preBackup: [Hook]?
    public var postBackup: [Hook]?

    /// Creates hooks.
    public init(preBackup: [Hook]? = nil, postBackup: [Hook]? = nil) {
        self.preBackup = preBackup
        self.postBackup = postBackup
    }
}

/// One application-aware action, run in a target container or as its own pod.
public struct Hook: Codable, Sendable, Equatable {
    public var name: String
    /// Runs a command in a target pod's container over `pods/exec`.
    public var exec: ExecAction?
    /// Runs a pod of its own, for databases that have no pod in the cluster.
    public var job: JobAction?
    /// `Fail` when absent.
    public var onError: OnError?
    /// As a duration (`5m`).
    public var timeout: String?
    /// `Always` when absent.
    public var when: HookWhen?

    /// Creates a hook.
    public init(name: String, exec: ExecAction? = nil, job: JobAction? = nil) {
        self.name = name
        self.exec = exec
        self.job = job
    }
}

/// A command to run in a container of a target pod.
public struct ExecAction: Codable, Sendable, Equatable {
    /// The container; the pod's first when absent.
    public var container: String?
    public var command: [String]

    /// Creates an exec action.
    public init(container: String? = nil, command: [String]) {
        self.container = container
        self.command = command
    }
}

/// A pod to run as a hook.
public struct JobAction: Codable, Sendable, Equatable {
    /// A `PodTemplateSpec`, kept as given.
    public var template: Node

    /// Creates a job action.
    public init(template: Node) { self.template = template }
}

/// What a failing hook does to its backup.
public enum OnError: String, Codable, Sendable, CaseIterable, StringEnumeration {
    case fail = "Fail"
    case `continue` = "Continue"
}

/// When a hook runs.
public enum HookWhen: String, Codable, Sendable, CaseIterable, StringEnumeration {
    case always = "Always"
    case onSuccess = "OnSuccess"
    case onFailure = "OnFailure"
}

/// Which volumes and paths a backup covers.
public struct VolumeSelection: Codable, Sendable, Equatable {
    /// PVC names; every PVC the target mounts when absent.
    public var pvcs: [String]?
    /// Paths (globs) to include, relative to each volume's root.
    public var include: [String]?
    /// Paths (globs) to exclude.
    public var exclude: [String]?

    /// Creates a selection.
    public init(pvcs: [String]? = nil, include: [String]? = nil, exclude: [String]? = nil) {
        self.pvcs = pvcs
        self.include = include
        self.exclude = exclude
    }
}

/// What the controller observed about a configuration.
public struct BackupConfigurationStatus: Codable, Sendable, Equatable {
    /// `Pending`, `Ready`, `NotReady` or `Paused`.
    public var phase: String?
    public var observedGeneration: Int?
    /// `Rendered`, `Ready` and `RPOMet`.
    public var conditions: [Condition]?
    public var lastBackup: BackupRecord?
    public var lastSuccessfulBackup: BackupRecord?
    /// The earliest next run over all sessions.
    public var nextBackup: String?
    public var nextSchedule: [NextRun]?
    /// The blueprint this configuration was rendered from.
    public var managedBy: NamespacedRef?

    /// Creates a status.
    public init() {}
}

/// One finished backup, as the configuration remembers it.
public struct BackupRecord: Codable, Sendable, Equatable {
    public var session: String
    public var backupSession: String
    public var phase: String
    public var time: String

    /// Creates a record.
    public init(session: String, backupSession: String, phase: String, time: String) {
        self.session = session
        self.backupSession = backupSession
        self.phase = phase
        self.time = time
    }
}

/// When a session runs next, and the schedule actually used (for `@daily-random`).
public struct NextRun: Codable, Sendable, Equatable {
    public var session: String
    public var schedule: String
    public var time: String

    /// Creates an entry.
    public init(session: String, schedule: String, time: String) {
        self.session = session
        self.schedule = schedule
        self.time = time
    }
}
