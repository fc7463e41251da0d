import CairnAPI
import Kube
import Synchronization
import YAML

/// A configuration decoded, with each of its sessions' schedules parsed (or the error that names
/// why it does not parse), as of one resourceVersion.
struct DecodedConfiguration: Sendable {
    var resourceVersion: String
    var configuration: BackupConfiguration
    /// By position in `spec.sessions`.
    var schedules: [Result<CronSchedule, any Error>]
}

/// The ``Scheduler``'s decoded configurations, kept while each one's resourceVersion stays the same:
/// most passes over a configuration (its sessions' watch events, its own status write's event, a
/// timer) find it unchanged, and need not decode it and parse its schedules again.
///
/// A resourceVersion names one state of one object, so a cached entry whose resourceVersion is the
/// cached object's is that object's decoding; one that is not is replaced.
final class DecodedConfigurations: Sendable {
    private let entries = Mutex<[ObjectKey: DecodedConfiguration]>([:])

    /// `node`, the configuration under `key`, decoded with its schedules parsed; from the cache when
    /// its resourceVersion is the one kept. Throws when it does not decode.
    func decoded(_ node: Node, key: ObjectKey) throws -> DecodedConfiguration {
        let version = node[path: "metadata", "resourceVersion"]?.string ?? ""
        if !version.isEmpty, let kept = entries.withLock({ $0[key] }), kept.resourceVersion == version { return kept }
        let configuration = try NodeDecoder().decode(BackupConfiguration.self, from: node)
        let schedules = configuration.spec.sessions.enumerated().map { index, session in
            Result { try SchedulePlanner.schedule(of: session, index: index, namespace: key.namespace, configuration: key.name) }
        }
        let decoded = DecodedConfiguration(resourceVersion: version, configuration: configuration, schedules: schedules)
        if !version.isEmpty { entries.withLock { $0[key] = decoded } }
        return decoded
    }

    /// Drops what is kept for a configuration that is gone or being deleted.
    func forget(_ key: ObjectKey) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
