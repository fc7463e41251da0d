import YAML

/// Where backups are written, with the credentials to get there.
public struct BackupStorage: Codable, Sendable, Equatable {
    public var apiVersion: String = CairnGroup.apiVersion
    public var kind: String = "BackupStorage"
    public var metadata: ObjectMeta
    public var spec: BackupStorageSpec
    public var status: BackupStorageStatus?

    /// Creates a storage.
    public init(metadata: ObjectMeta, spec: BackupStorageSpec, status: BackupStorageStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// A backend, its credentials and who may use it.
public struct BackupStorageSpec: Codable, Sendable, Equatable {
    /// Exactly one backend.
    public var backend: Backend
    /// The Secret holding the backend's credentials (`AWS_ACCESS_KEY_ID`, ...), in the storage's namespace.
    public var credentialsSecret: LocalRef?
    /// Which namespaces may back up to it; `Same` when absent.
    public var usagePolicy: UsagePolicy?
    /// Whether configurations that name no storage use this one.
    public var `default`: Bool?
    /// When and how the repository is checked and pruned; weekly at a time chosen per storage when absent.
    public var maintenance: RepositoryMaintenance?

    /// Creates a spec.
    public init(backend: Backend, credentialsSecret: LocalRef? = nil, usagePolicy: UsagePolicy? = nil) {
        self.backend = backend
        self.credentialsSecret = credentialsSecret
        self.usagePolicy = usagePolicy
    }
}

/// One restic backend; exactly one member is set.
public struct Backend: Codable, Sendable, Equatable {
    public var s3: S3Backend?
    public var gcs: BucketBackend?
    public var azure: AzureBackend?
    public var b2: BucketBackend?
    public var rest: RestBackend?
    public var sftp: SFTPBackend?
    public var local: LocalBackend?

    /// Creates an empty backend; set one member.
    public init() {}
}

/// An S3 or S3-compatible bucket.
public struct S3Backend: Codable, Sendable, Equatable {
    /// `https://s3.amazonaws.com` when absent.
    public var endpoint: String?
    public var bucket: String
    public var prefix: String?
    public var region: String?

    /// Creates an S3 backend.
    public init(bucket: String, endpoint: String? = nil, prefix: String? = nil, region: String? = nil) {
        self.bucket = bucket
        self.endpoint = endpoint
        self.prefix = prefix
        self.region = region
    }
}

/// A bucket and prefix (GCS, B2).
public struct BucketBackend: Codable, Sendable, Equatable {
    public var bucket: String
    public var prefix: String?

    /// Creates a bucket backend.
    public init(bucket: String, prefix: String? = nil) {
        self.bucket = bucket
        self.prefix = prefix
    }
}

/// An Azure Blob container.
public struct AzureBackend: Codable, Sendable, Equatable {
    public var container: String
    public var prefix: String?

    /// Creates an Azure backend.
    public init(container: String, prefix: String? = nil) {
        self.container = container
        self.prefix = prefix
    }
}

/// A restic REST server.
public struct RestBackend: Codable, Sendable, Equatable {
    public var url: String

    /// Creates a REST backend.
    public init(url: String) { self.url = url }
}

/// An SFTP server.
public struct SFTPBackend: Codable, Sendable, Equatable {
    public var host: String
    public var port: Int?
    public var user: String
    public var path: String

    /// Creates an SFTP backend.
    public init(host: String, user: String, path: String, port: Int? = nil) {
        self.host = host
        self.user = user
        self.path = path
        self.port = port
    }
}

/// A directory on a PVC, or a path on the node (for the sandbox and tests).
public struct LocalBackend: Codable, Sendable, Equatable {
    public var path: String?
    public var pvc: String?
    public var subPath: String?

    /// Creates a local backend.
    public init(path: String? = nil, pvc: String? = nil, subPath: String? = nil) {
        self.path = path
        self.pvc = pvc
        self.subPath = subPath
    }
}

/// The periodic `restic check` and `restic prune` of a storage's repository.
public struct RepositoryMaintenance: Codable, Sendable, Equatable {
    /// A cron expression or macro, `@weekly-random` style included; `@weekly-random` when absent.
    public var schedule: String?
    /// The IANA time zone of `schedule`; UTC when absent.
    public var timeZone: String?
    /// Stops scheduling maintenance; a running one finishes.
    public var paused: Bool?
    /// restic check's `--read-data-subset` (`5%`, `1/10`, `500M`): how much pack data is read back
    /// and verified; only the structure is checked when absent.
    public var readDataSubset: String?

    /// The schedule when none is given: once a week, at a minute chosen from the storage's name.
    public static let defaultSchedule = "@weekly-random"

    /// Whether `text` is a form restic check's `--read-data-subset` takes: a percentage above 0 and
    /// at most 100 (`5%`, `2.5%`), a fraction `n/t` with 1 <= n <= t (`1/10`), or a size with a
    /// K, M, G or T suffix (`500M`).
    public static func isDataSubset(_ text: String) -> Bool {
        if text.hasSuffix("%") {
            guard let percent = Double(text.dropLast()) else { return false }
            return percent > 0 && percent <= 100
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let n = Int(parts[0]), let t = Int(parts[1]) else { return false }
            return n >= 1 && n <= t
        }
        guard let unit = text.last, "KMGTkmgt".contains(unit), let size = Int(text.dropLast()) else { return false }
        return size > 0
    }

    /// Creates maintenance settings.
    public init(schedule: String? = nil, timeZone: String? = nil, paused: Bool? = nil, readDataSubset: String? = nil) {
        self.schedule = schedule
        self.timeZone = timeZone
        self.paused = paused
        self.readDataSubset = readDataSubset
    }
}

/// What the controller observed about a storage.
public struct BackupStorageStatus: Codable, Sendable, Equatable {
    /// `Ready` or `NotReady`.
    public var phase: String?
    /// The backend as a restic repository string (`s3:https://s3.amazonaws.com/bucket/prefix`),
    /// for the Backend column of `kubectl get backupstorages`.
    public var repository: String?
    public var observedGeneration: Int?
    public var conditions: [Condition]?
    /// The maintenance schedule in use, its random choice made (`17 3 * * 2` for `@weekly-random`).
    public var maintenanceSchedule: String?
    /// The last maintenance run over all repositories, for the Last-Maintenance column.
    public var lastMaintenance: String?
    /// The earliest next maintenance run.
    public var nextMaintenance: String?
    /// One entry per repository: one for a shared backend, one per namespace for a PVC backend.
    public var repositories: [RepositoryMaintenanceStatus]?

    /// Creates a status.
    public init() {}
}

/// The maintenance of one repository of a storage.
public struct RepositoryMaintenanceStatus: Codable, Sendable, Equatable {
    /// The namespace the maintenance Job runs in.
    public var namespace: String
    /// The BackupConfiguration whose encryption Secret opens the repository.
    public var configuration: String?
    /// The scheduled time of the last run started.
    public var lastScheduledTime: String?
    /// The last run's Job.
    public var job: String?
    /// `Running`, `Succeeded`, `Failed` or `Waiting`.
    public var phase: String?
    /// The agent's reason when the run failed or waits (`RepositoryDamaged`, `Locked`, ...).
    public var reason: String?
    /// What the run found, in the agent's words.
    public var message: String?
    public var startTime: String?
    public var completionTime: String?
    /// When a run last succeeded.
    public var lastSuccessfulTime: String?
    /// Whether the repository is known to exist: a backup was written to it, or a maintenance run
    /// created it. False while the first run creates it; backups wait for that run, since two
    /// first backups creating one repository at once corrupt it on S3.
    public var initialized: Bool?

    /// Creates an entry.
    public init(namespace: String) { self.namespace = namespace }
}
