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

/// What the controller observed about a storage.
public struct BackupStorageStatus: Codable, Sendable, Equatable {
    /// `Ready` or `NotReady`.
    public var phase: String?
    /// The backend as a restic repository string (`s3:https://s3.amazonaws.com/bucket/prefix`),
    /// for the Backend column of `kubectl get backupstorages`.
    public var repository: String?
    public var observedGeneration: Int?
    public var conditions: [Condition]?

    /// Creates a status.
    public init() {}
}
