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

/// The ``Scheduler``'s parsed schedules, kept while each configuration's resourceVersion stays the
/// same: most passes over a configuration (its sessions' watch events, its own status write's
/// event, a timer) find it unchanged, and need not parse its schedules again.
///
/// Only the schedules are kept, not the decoded configuration: decoding was 4% of a pass, and a
/// decoded copy of each of 10,000 configurations would sit beside the informer's own copy in
/// `cairn controller`'s memory. A resourceVersion names one state of one object, so a kept entry
/// whose resourceVersion is the object's holds that object's schedules; one that is not is replaced.
final class DecodedConfigurations: Sendable {
    private let entries = Mutex<[ObjectKey: (resourceVersion: String, schedules: [Result<CronSchedule, any Error>])]>([:])

    /// `node`, the configuration under `key`, decoded with its schedules parsed; from the cache when
    /// its resourceVersion is the one kept. Throws when it does not decode.
    func decoded(_ node: Node, key: ObjectKey) throws -> DecodedConfiguration {
        let version = node[path: "metadata", "resourceVersion"]?.string ?? ""
        let configuration = try NodeDecoder().decode(BackupConfiguration.self, from: node)
        if !version.isEmpty, let kept = entries.withLock({ $0[key] }), kept.resourceVersion == version {
            return DecodedConfiguration(resourceVersion: version, configuration: configuration, schedules: kept.schedules)
        }
        let schedules = configuration.spec.sessions.enumerated().map { index, session in
            Result { try SchedulePlanner.schedule(of: session, index: index, namespace: key.namespace, configuration: key.name) }
        }
        if !version.isEmpty { entries.withLock { $0[key] = (version, schedules) } }
        return DecodedConfiguration(resourceVersion: version, configuration: configuration, schedules: schedules)
    }

    /// Drops what is kept for a configuration that is gone or being deleted.
    func forget(_ key: ObjectKey) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
