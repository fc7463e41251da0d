import Foundation
import YAML

/// One volume to back up: the PVC's name and where the Job mounts it.
public struct VolumeMount: Sendable, Equatable {
    public var pvc: String
    public var mountPath: String

    /// Creates a volume.
    public init(pvc: String, mountPath: String) {
        self.pvc = pvc
        self.mountPath = mountPath
    }
}

/// What `cairn agent backup` does.
public struct BackupRequest: Sendable, Equatable {
    public var volumes: [VolumeMount]
    /// `<namespace>/<configuration>`: restic's `--host`, which scopes every later restic call.
    public var host: String
    /// `k=v` tags on every snapshot; `pvc=<pvc>` is added per volume.
    public var tags: [String]
    /// restic `--exclude` patterns; one starting with a volume's mount path is rewritten to where
    /// the volume really is.
    public var excludes: [String]
    /// The snapshot time, when not now (tests and retention simulation).
    public var time: Date?

    /// Creates a request.
    public init(volumes: [VolumeMount], host: String, tags: [String] = [], excludes: [String] = [], time: Date? = nil) {
        self.volumes = volumes
        self.host = host
        self.tags = tags
        self.excludes = excludes
        self.time = time
    }
}

/// What `cairn agent restore` does.
public struct RestoreRequest: Sendable, Equatable {
    public var snapshot: String
    /// Where the target volume is mounted; the snapshot's files land directly in it.
    public var target: String
    /// The host the snapshot must have, if given.
    public var host: String?
    /// Tags the snapshot must carry (`pvc=<pvc>` among them): a snapshot of another volume is refused.
    public var expectedTags: [String]

    /// Creates a request.
    public init(snapshot: String, target: String, host: String? = nil, expectedTags: [String] = []) {
        self.snapshot = snapshot
        self.target = target
        self.host = host
        self.expectedTags = expectedTags
    }
}

/// What `cairn agent forget` does: forget only snapshots whose host and tags match.
public struct ForgetRequest: Sendable, Equatable {
    public var snapshots: [String]
    public var host: String
    public var tags: [String]

    /// Creates a request.
    public init(snapshots: [String], host: String, tags: [String] = []) {
        self.snapshots = snapshots
        self.host = host
        self.tags = tags
    }
}

/// What `cairn agent maintain` does: `restic check`, then `restic prune` if the check passed.
public struct MaintainRequest: Sendable, Equatable {
    /// restic check's `--read-data-subset` (`5%`, `1/10`, `500M`); the structure only when nil.
    public var readDataSubset: String?
    /// Whether a missing repository is created first, as a first backup would.
    public var create: Bool

    /// Creates a request.
    public init(readDataSubset: String? = nil, create: Bool = false) {
        self.readDataSubset = readDataSubset
        self.create = create
    }
}

/// One `cairn agent` operation.
public enum AgentRequest: Sendable, Equatable {
    case backup(BackupRequest)
    case restore(RestoreRequest)
    case forget(ForgetRequest)
    case prune
    case check
    case maintain(MaintainRequest)
}

/// Where a Job's mount paths are on this machine: in a pod, where they say; in the sandbox, the host
/// directories in `$CAIRN_SANDBOX_MOUNTS` (`{"<mountPath>": "<host dir>"}`).
public struct MountMap: Sendable, Equatable {
    /// Mount path → host directory; empty in a real pod.
    public var mounts: [String: String]

    /// Creates a map.
    public init(_ mounts: [String: String] = [:]) { self.mounts = mounts }

    /// The map from `$CAIRN_SANDBOX_MOUNTS`, or an empty one when it is not set.
    public init(environment: [String: String]) throws(AgentFailure) {
        guard let text = environment["CAIRN_SANDBOX_MOUNTS"], !text.isEmpty else {
            self.init()
            return
        }
        var mounts: [String: String] = [:]
        do {
            for pair in try JSON.parse(text).mapping ?? [] {
                guard let key = pair.key.string, let value = pair.value.string else { continue }
                mounts[key] = value
            }
        } catch {
            throw AgentFailure(.volumeMissing, "CAIRN_SANDBOX_MOUNTS is not a JSON object of mount paths to directories: \(error)")
        }
        self.init(mounts)
    }

    /// The directory for `path`, mapped through the longest mount path that contains it.
    public func directory(for path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let match = mounts.keys.filter { trimmed == $0 || trimmed.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
            .max { $0.count < $1.count }
        guard let match, let host = mounts[match] else { return trimmed }
        return host + trimmed.dropFirst(match.count)
    }
}
