import CairnAPI
import YAML

/// What a Job needs to reach a configuration's restic repository, read from the server: the
/// configuration and what it names. A nil member was not found (or, for the credentials copy,
/// does not exist yet). Backups and restores both start from it.
struct RepositoryInputs: Sendable {
    /// The namespace the Job runs in.
    var namespace: String
    var configuration: BackupConfiguration
    var storage: BackupStorage?
    /// The labels of the namespace, for storages that allow namespaces by selector.
    var namespaceLabels: [String: String]?
    var encryptionSecret: Node?
    /// The storage's credentials Secret, in the storage's namespace.
    var credentialsSecret: Node?
    /// The copy of it in the Job's namespace, if one exists.
    var credentialsCopy: Node?

    /// The storage the configuration names, its namespace filled in.
    var storageRef: SessionFailure.Ref {
        SessionFailure.Ref(namespace: configuration.spec.storage.namespace ?? namespace, name: configuration.spec.storage.name)
    }
}

/// How a backup or restore Job reaches its repository, once the configuration checked out.
struct RepositoryAccess: Sendable, Equatable {
    var storage: NamespacedRef
    var repository: String
    /// A local PVC backend, mounted read-write at `/repository`.
    var repositoryClaim: LocalBackend?
    var region: String?
    var encryptionSecret: String
    var credentials: CredentialsPlan

    /// Checks the storage, its usagePolicy, the encryption Secret and the credentials, in the order
    /// a person would fix them: pure.
    static func check(_ inputs: RepositoryInputs) throws(SessionFailure) -> RepositoryAccess {
        let storageRef = inputs.storageRef
        guard let storage = inputs.storage else { throw .storageNotFound(ref(inputs.configuration), storage: storageRef) }
        let repository = try resticRepository(storage, ref: storageRef)
        try checkUsage(inputs, storage, storageRef)
        let secret = try requireEncryptionSecret(inputs)
        let credentials = try credentialsPlan(inputs, storage, storageRef)
        return RepositoryAccess(
            storage: NamespacedRef(name: storageRef.name, namespace: storageRef.namespace), repository: repository,
            repositoryClaim: storage.spec.backend.local?.pvc != nil ? storage.spec.backend.local : nil,
            region: storage.spec.backend.s3?.region, encryptionSecret: secret, credentials: credentials)
    }

    static func ref(_ configuration: BackupConfiguration) -> SessionFailure.Ref {
        SessionFailure.Ref(namespace: configuration.metadata.namespace ?? "", name: configuration.metadata.name ?? "")
    }

    private static func resticRepository(_ storage: BackupStorage, ref: SessionFailure.Ref) throws(SessionFailure) -> String {
        do {
            return try storage.spec.backend.resticRepository
        } catch {
            throw .invalidStorage(ref, error)
        }
    }

    private static func checkUsage(_ inputs: RepositoryInputs, _ storage: BackupStorage, _ storageRef: SessionFailure.Ref) throws(SessionFailure) {
        let rule = storage.spec.usagePolicy?.allowedNamespaces ?? .init(from: .same)
        let configuration = ref(inputs.configuration)
        switch rule.admission(of: inputs.namespace, ownerNamespace: storageRef.namespace, namespaceLabels: inputs.namespaceLabels ?? [:]) {
        case .allowed: return
        case .denied(let why): throw .storageNotAllowed(storageRef, namespace: inputs.namespace, why: why, configuration: configuration)
        case .labelsUnknown: throw .storageNotAllowed(storageRef, namespace: inputs.namespace, why: "the namespace's labels are unknown", configuration: configuration)
        }
    }

    private static func requireEncryptionSecret(_ inputs: RepositoryInputs) throws(SessionFailure) -> String {
        let configuration = ref(inputs.configuration)
        guard let name = inputs.configuration.spec.encryptionSecret?.name, !name.isEmpty else { throw .encryptionSecretNotSet(configuration) }
        guard let secret = inputs.encryptionSecret else { throw .encryptionSecretNotFound(configuration, secret: name) }
        guard hasKey(secret, BackupJob.passwordKey) else { throw .encryptionKeyMissing(configuration, secret: name) }
        return name
    }

    /// Whether a Secret holds `key` in `data` or `stringData`, non-empty.
    private static func hasKey(_ secret: Node, _ key: String) -> Bool {
        ["data", "stringData"].contains { secret[path: $0, key]?.string.map { !$0.isEmpty } ?? false }
    }

    private static func credentialsPlan(_ inputs: RepositoryInputs, _ storage: BackupStorage, _ storageRef: SessionFailure.Ref) throws(SessionFailure) -> CredentialsPlan {
        guard let name = storage.spec.credentialsSecret?.name else { return .none }
        guard let source = inputs.credentialsSecret else { throw .credentialsNotFound(storageRef, secret: name) }
        guard storageRef.namespace != inputs.namespace else { return .direct(secret: name) }
        let desired = CredentialsCopy.desired(source: source, storage: storageRef, namespace: inputs.namespace)
        if let existing = inputs.credentialsCopy, !CredentialsCopy.isManaged(existing) {
            throw .credentialsConflict(namespace: inputs.namespace, secret: desired.name, storage: storageRef)
        }
        return .copy(desired: desired, existing: inputs.credentialsCopy)
    }
}
