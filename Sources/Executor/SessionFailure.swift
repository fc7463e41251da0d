import CairnAPI
import Foundation

/// Why a BackupSession failed, as its status and its Warning Event say: a CamelCase reason and a
/// message that names the object, the field and the fix.
public struct SessionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The CamelCase reason (`StorageNotFound`), written to `status.reason`.
    public let reason: String
    /// What went wrong and what to do, written to `status.message`.
    public let message: String

    init(_ reason: String, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// `reason: message`.
    public var description: String { "\(reason): \(message)" }

    static func configurationNotFound(session: String, namespace: String, configuration: String) -> SessionFailure {
        SessionFailure("ConfigurationNotFound",
                       "BackupSession \(namespace)/\(session): spec.configuration names BackupConfiguration \(namespace)/\(configuration), which does not exist; create it, or delete this session")
    }

    static func sessionNotConfigured(_ configuration: Ref, session: String, known: [String]) -> SessionFailure {
        SessionFailure("SessionNotFound",
                       "BackupConfiguration \(configuration) has no session \"\(session)\" in spec.sessions (it has \(known.isEmpty ? "none" : known.joined(separator: ", "))); add it, or set spec.session of the BackupSession to one of them")
    }

    static func methodNotSupported(_ configuration: Ref, session: String, method: BackupMethod) -> SessionFailure {
        SessionFailure("MethodNotSupported",
                       "BackupConfiguration \(configuration): session \"\(session)\" uses method \(method.rawValue), which this executor does not run yet; set spec.sessions[].method to restic")
    }

    static func storageNotFound(_ configuration: Ref, storage: Ref) -> SessionFailure {
        SessionFailure("StorageNotFound",
                       "BackupConfiguration \(configuration): spec.storage names BackupStorage \(storage), which does not exist; create it, or change spec.storage")
    }

    static func invalidStorage(_ storage: Ref, _ error: BackendError) -> SessionFailure {
        SessionFailure("InvalidStorage", "BackupStorage \(storage): \(error)")
    }

    static func storageNotAllowed(_ storage: Ref, namespace: String, why: String, configuration: Ref) -> SessionFailure {
        SessionFailure("StorageNotAllowed",
                       "BackupStorage \(storage) may not be used from namespace \(namespace): \(why); allow it in spec.usagePolicy.allowedNamespaces of BackupStorage \(storage), or name another storage in spec.storage of BackupConfiguration \(configuration)")
    }

    static func encryptionSecretNotSet(_ configuration: Ref) -> SessionFailure {
        SessionFailure("EncryptionSecretNotSet",
                       "BackupConfiguration \(configuration) sets no spec.encryptionSecret, and Cairn never uses a default password; create a Secret with key \(BackupJob.passwordKey) in namespace \(configuration.namespace) and name it in spec.encryptionSecret.name")
    }

    static func encryptionSecretNotFound(_ configuration: Ref, secret: String) -> SessionFailure {
        SessionFailure("EncryptionSecretNotFound",
                       "BackupConfiguration \(configuration): spec.encryptionSecret names Secret \(configuration.namespace)/\(secret), which does not exist; create it with key \(BackupJob.passwordKey) (kubectl create secret generic \(secret) -n \(configuration.namespace) --from-literal=\(BackupJob.passwordKey)=...)")
    }

    static func encryptionKeyMissing(_ configuration: Ref, secret: String) -> SessionFailure {
        SessionFailure("EncryptionKeyMissing",
                       "Secret \(configuration.namespace)/\(secret), named by spec.encryptionSecret of BackupConfiguration \(configuration), has no key \(BackupJob.passwordKey); add the repository password under that key")
    }

    static func credentialsNotFound(_ storage: Ref, secret: String) -> SessionFailure {
        SessionFailure("CredentialsNotFound",
                       "BackupStorage \(storage): spec.credentialsSecret names Secret \(storage.namespace)/\(secret), which does not exist; create it with the backend's keys (AWS_ACCESS_KEY_ID, ...), or remove spec.credentialsSecret")
    }

    static func credentialsConflict(namespace: String, secret: String, storage: Ref) -> SessionFailure {
        SessionFailure("CredentialsConflict",
                       "Secret \(namespace)/\(secret) exists and is not managed by Cairn (no label \(CairnLabel.managedBy)=\(CairnLabel.managedByValue)), but Cairn copies the credentials of BackupStorage \(storage) there; delete or rename that Secret")
    }

    static func invalidTimeout(_ configuration: Ref, _ problem: String) -> SessionFailure {
        SessionFailure("InvalidTimeout", "BackupConfiguration \(configuration): spec.timeout: \(problem)")
    }

    static func invalidRetries(_ configuration: Ref, _ retries: Int) -> SessionFailure {
        SessionFailure("InvalidRetries", "BackupConfiguration \(configuration): spec.retries is \(retries); set 0 or more")
    }

    static func targetNotFound(_ configuration: Ref, target: TargetRef) -> SessionFailure {
        SessionFailure("TargetNotFound",
                       "BackupConfiguration \(configuration): spec.target names \(target.kind) \(configuration.namespace)/\(target.name), which does not exist; create it, or change spec.target")
    }

    static func unsupportedTarget(_ configuration: Ref, target: TargetRef) -> SessionFailure {
        SessionFailure("UnsupportedTarget",
                       "BackupConfiguration \(configuration): Cairn cannot read the volumes of a \(target.kind) (spec.target); list the PVCs to back up in spec.volumes.pvcs")
    }

    static func noVolumes(_ configuration: Ref, target: TargetRef) -> SessionFailure {
        SessionFailure("NoVolumes",
                       "BackupConfiguration \(configuration): \(target.kind) \(configuration.namespace)/\(target.name) mounts no PersistentVolumeClaim; mount one, or list the PVCs in spec.volumes.pvcs")
    }

    static func claimNotFound(_ configuration: Ref, claim: String, listed: Bool) -> SessionFailure {
        let fix = listed ? "create it, or remove it from spec.volumes.pvcs" : "create it, or list the PVCs to back up in spec.volumes.pvcs"
        return SessionFailure("PVCNotFound",
                              "BackupConfiguration \(configuration): PersistentVolumeClaim \(configuration.namespace)/\(claim) does not exist; \(fix)")
    }

    static func volumesOnDifferentNodes(_ pins: [TargetVolumes.Pin]) -> SessionFailure {
        let where_ = pins.map { "PVC \($0.claim) on node \($0.node) (\($0.because))" }.joined(separator: ", ")
        return SessionFailure("VolumesOnDifferentNodes",
                              "the ReadWriteOnce volumes are on different nodes: \(where_); one backup Job can mount them only on one node: back them up in separate configurations (spec.volumes.pvcs)")
    }

    static func jobDeleted(namespace: String, job: String) -> SessionFailure {
        SessionFailure("JobDeleted",
                       "Job \(namespace)/\(job) was deleted before it finished, so the backup's result is unknown; the next scheduled run backs up again, or create a new BackupSession")
    }

    /// A namespaced object's name, `namespace/name`.
    struct Ref: Sendable, Equatable, CustomStringConvertible {
        var namespace: String
        var name: String
        var description: String { "\(namespace)/\(name)" }
    }
}
