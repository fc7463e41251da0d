import Blueprint
import CairnAPI
import YAML

/// What the executor read to start one BackupSession: the configuration and everything it names.
/// A nil member was not found (or, for the credentials copy, does not exist yet).
struct StartInputs: Sendable {
    var session: BackupSession
    var configuration: BackupConfiguration?
    var storage: BackupStorage?
    /// The labels of the session's namespace, for storages that allow namespaces by selector.
    var namespaceLabels: [String: String]?
    var encryptionSecret: Node?
    /// The storage's credentials Secret, in the storage's namespace.
    var credentialsSecret: Node?
    /// The copy of it in the session's namespace, if one exists.
    var credentialsCopy: Node?
    /// The target workload (nil for a PVC target, or when it does not exist).
    var target: Node?
    /// The PVCs found, by name.
    var claims: [String: Node] = [:]
    /// The PersistentVolumes bound to them, by name.
    var persistentVolumes: [String: Node] = [:]
    /// The pods of the session's namespace.
    var pods: [Node] = []

    var namespace: String { session.metadata.namespace ?? "" }

    /// The storage `configuration` names, its namespace filled in.
    func storageRef(of configuration: BackupConfiguration) -> SessionFailure.Ref {
        repositoryInputs.storageRef(of: configuration)
    }

    /// What of these inputs a Job needs to reach the repository.
    var repositoryInputs: RepositoryInputs {
        RepositoryInputs(namespace: namespace, storage: storage, namespaceLabels: namespaceLabels, encryptionSecret: encryptionSecret,
                         credentialsSecret: credentialsSecret, credentialsCopy: credentialsCopy)
    }
}

/// How the backup Job reaches the storage's credentials.
enum CredentialsPlan: Sendable, Equatable {
    /// The storage names no credentials Secret.
    case none
    /// The storage's own Secret, in the session's namespace already.
    case direct(secret: String)
    /// A copy in the session's namespace: `desired`, and the copy as it is now (nil: create it).
    case copy(desired: Node, existing: Node?)

    /// The Secret the Job's `envFrom` names, if any.
    var secretName: String? {
        switch self {
        case .none: nil
        case .direct(let secret): secret
        case .copy(let desired, _): desired.name
        }
    }
}

/// Everything a backup Job is built from, once the session checked out.
struct BackupRun: Sendable, Equatable {
    var namespace: String
    /// The BackupSession's name and uid.
    var backupSession: String
    var backupSessionUID: String
    var configuration: String
    /// The session of the configuration (`nightly`).
    var session: String
    var storage: NamespacedRef
    var claims: [String]
    /// The node the Job must run on, if any.
    var node: String?
    var securityContext: Node?
    var repository: String
    /// A local PVC backend, mounted read-write at `/repository`.
    var repositoryClaim: LocalBackend?
    var region: String?
    var encryptionSecret: String
    var credentials: CredentialsPlan
    /// `spec.timeout` as written, and in whole seconds.
    var timeout: String?
    var deadlineSeconds: Int?
    var retries: Int
    var excludes: [String]
    /// The configuration's `preBackup` and `postBackup` hooks, which this version does not run yet.
    var hooksNotRun: [String] = []
}

extension BackupRun {
    /// How the Job reaches the repository.
    var access: RepositoryAccess {
        RepositoryAccess(storage: storage, repository: repository, repositoryClaim: repositoryClaim, region: region,
                         encryptionSecret: encryptionSecret, credentials: credentials)
    }
}

/// Checks a BackupSession's configuration and everything it names, and turns them into a
/// ``BackupRun``, or the first ``SessionFailure`` in the order a person would fix them: pure.
enum SessionValidation {
    /// The retries of a configuration that sets none: one retry, for a transient failure (a node
    /// drained mid-backup); the Job controller waits 10 s, 20 s, ... between attempts.
    static let defaultRetries = 1

    static func validate(_ inputs: StartInputs) -> Result<BackupRun, SessionFailure> {
        do {
            return .success(try run(inputs))
        } catch {
            return .failure(error)
        }
    }

    private static func run(_ inputs: StartInputs) throws(SessionFailure) -> BackupRun {
        let configuration = try requireConfiguration(inputs)
        let access = try access(inputs.repositoryInputs, configuration)
        let (timeout, seconds) = try parseTimeout(configuration)
        let retries = try parseRetries(configuration)
        let claims = try requireClaims(inputs, configuration)
        let node = try TargetVolumes.placement(claims: claims, claimObjects: inputs.claims, volumes: inputs.persistentVolumes, pods: inputs.pods).get()
        return BackupRun(
            namespace: inputs.namespace, backupSession: inputs.session.metadata.name ?? "", backupSessionUID: inputs.session.metadata.uid ?? "",
            configuration: configuration.metadata.name ?? "", session: inputs.session.spec.session,
            storage: access.storage, claims: claims, node: node,
            securityContext: TargetVolumes.securityContext(target: inputs.target, claims: claims, pods: inputs.pods),
            repository: access.repository, repositoryClaim: access.repositoryClaim,
            region: access.region, encryptionSecret: access.encryptionSecret, credentials: access.credentials,
            timeout: timeout, deadlineSeconds: seconds, retries: retries, excludes: configuration.spec.volumes?.exclude ?? [],
            hooksNotRun: ((configuration.spec.hooks?.preBackup ?? []) + (configuration.spec.hooks?.postBackup ?? [])).map(\.name))
    }

    /// Checks what a Job of `configuration` needs to reach its repository, in the order a person
    /// would fix it: the storage, its backend, its usagePolicy, the encryption Secret, the credentials.
    static func access(_ inputs: RepositoryInputs, _ configuration: BackupConfiguration) throws(SessionFailure) -> RepositoryAccess {
        let storageRef = inputs.storageRef(of: configuration)
        let storage = try requireStorage(inputs, configuration, storageRef)
        let repository = try resticRepository(storage, ref: storageRef)
        try checkUsage(inputs, storage, storageRef, configuration)
        let secret = try requireEncryptionSecret(inputs, configuration)
        let credentials = try credentialsPlan(inputs, storage, storageRef)
        return RepositoryAccess(
            storage: NamespacedRef(name: storageRef.name, namespace: storageRef.namespace), repository: repository,
            repositoryClaim: storage.spec.backend.local?.pvc != nil ? storage.spec.backend.local : nil,
            region: storage.spec.backend.s3?.region, encryptionSecret: secret, credentials: credentials)
    }

    private static func ref(_ configuration: BackupConfiguration) -> SessionFailure.Ref {
        SessionFailure.Ref(namespace: configuration.metadata.namespace ?? "", name: configuration.metadata.name ?? "")
    }

    private static func requireConfiguration(_ inputs: StartInputs) throws(SessionFailure) -> BackupConfiguration {
        let spec = inputs.session.spec
        guard let configuration = inputs.configuration else {
            throw .configurationNotFound(session: inputs.session.metadata.name ?? "", namespace: inputs.namespace, configuration: spec.configuration)
        }
        let sessions = configuration.spec.sessions
        guard let session = sessions.first(where: { $0.name == spec.session }) else {
            throw .sessionNotConfigured(ref(configuration), session: spec.session, known: sessions.map(\.name))
        }
        let method = session.method ?? .restic
        guard method == .restic else { throw .methodNotSupported(ref(configuration), session: spec.session, method: method) }
        return configuration
    }

    private static func requireStorage(_ inputs: RepositoryInputs, _ configuration: BackupConfiguration, _ storageRef: SessionFailure.Ref) throws(SessionFailure) -> BackupStorage {
        guard let storage = inputs.storage else { throw .storageNotFound(ref(configuration), storage: storageRef) }
        return storage
    }

    private static func resticRepository(_ storage: BackupStorage, ref: SessionFailure.Ref) throws(SessionFailure) -> String {
        do {
            return try storage.spec.backend.resticRepository
        } catch {
            throw .invalidStorage(ref, error)
        }
    }

    private static func checkUsage(_ inputs: RepositoryInputs, _ storage: BackupStorage, _ storageRef: SessionFailure.Ref,
                                   _ configuration: BackupConfiguration) throws(SessionFailure) {
        let rule = storage.spec.usagePolicy?.allowedNamespaces ?? .init(from: .same)
        switch rule.admission(of: inputs.namespace, ownerNamespace: storageRef.namespace, namespaceLabels: inputs.namespaceLabels ?? [:]) {
        case .allowed: return
        case .denied(let why): throw .storageNotAllowed(storageRef, namespace: inputs.namespace, why: why, configuration: ref(configuration))
        case .labelsUnknown: throw .storageNotAllowed(storageRef, namespace: inputs.namespace, why: "the namespace's labels are unknown", configuration: ref(configuration))
        }
    }

    private static func requireEncryptionSecret(_ inputs: RepositoryInputs, _ configuration: BackupConfiguration) throws(SessionFailure) -> String {
        guard let name = configuration.spec.encryptionSecret?.name, !name.isEmpty else { throw .encryptionSecretNotSet(ref(configuration)) }
        guard let secret = inputs.encryptionSecret else { throw .encryptionSecretNotFound(ref(configuration), secret: name) }
        guard hasKey(secret, BackupJob.passwordKey) else { throw .encryptionKeyMissing(ref(configuration), secret: name) }
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

    private static func parseTimeout(_ configuration: BackupConfiguration) throws(SessionFailure) -> (String?, Int?) {
        guard let text = configuration.spec.timeout else { return (nil, nil) }
        let duration: KubeDuration
        do {
            duration = try KubeDuration(parsing: text)
        } catch {
            throw .invalidTimeout(ref(configuration), "\(error)")
        }
        guard duration.nanoseconds >= 1_000_000_000 else {
            throw .invalidTimeout(ref(configuration), "\"\(text)\" is shorter than one second; set at least 1s, as in \"2h\"")
        }
        return (text, Int(duration.seconds.rounded(.up)))
    }

    private static func parseRetries(_ configuration: BackupConfiguration) throws(SessionFailure) -> Int {
        let retries = configuration.spec.retries ?? defaultRetries
        guard retries >= 0 else { throw .invalidRetries(ref(configuration), retries) }
        return retries
    }

    private static func requireClaims(_ inputs: StartInputs, _ configuration: BackupConfiguration) throws(SessionFailure) -> [String] {
        let spec = configuration.spec
        let listed = !(spec.volumes?.pvcs ?? []).isEmpty
        if !listed && spec.target.kind != "PersistentVolumeClaim" {
            guard ExecutorResource.workloads[spec.target.kind] != nil else { throw .unsupportedTarget(ref(configuration), target: spec.target) }
            guard inputs.target != nil else { throw .targetNotFound(ref(configuration), target: spec.target) }
        }
        let names = TargetVolumes.claimNames(configuration: spec, target: inputs.target)
        guard !names.isEmpty else { throw .noVolumes(ref(configuration), target: spec.target) }
        if let missing = names.first(where: { inputs.claims[$0] == nil }) {
            if spec.target.kind == "PersistentVolumeClaim" && !listed { throw .targetNotFound(ref(configuration), target: spec.target) }
            throw .claimNotFound(ref(configuration), claim: missing, listed: listed)
        }
        return names
    }
}
