import Blueprint
import CairnAPI
import YAML

/// What the executor read to start one BackupSession: the configuration and everything it names.
/// A nil member was not found.
struct StartInputs: Sendable {
    var session: BackupSession
    /// The configuration and what it names for the repository; nil when the configuration does not exist.
    var repository: RepositoryInputs?
    /// The target workload (nil for a PVC target, or when it does not exist).
    var target: Node?
    /// The PVCs found, by name.
    var claims: [String: Node] = [:]
    /// The PersistentVolumes bound to them, by name.
    var persistentVolumes: [String: Node] = [:]
    /// The pods of the session's namespace.
    var pods: [Node] = []

    var namespace: String { session.metadata.namespace ?? "" }
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
    var claims: [String]
    /// The node the Job must run on, if any.
    var node: String?
    var securityContext: Node?
    /// The repository, its password and credentials.
    var access: RepositoryAccess
    /// `spec.timeout` as written, and in whole seconds.
    var timeout: String?
    var deadlineSeconds: Int?
    var retries: Int
    var excludes: [String]
    /// The configuration's `preBackup` and `postBackup` hooks, which this version does not run yet.
    var hooksNotRun: [String] = []
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
        let repository = try requireConfiguration(inputs)
        let configuration = repository.configuration
        let access = try RepositoryAccess.check(repository)
        let (timeout, seconds) = try parseTimeout(configuration)
        let retries = try parseRetries(configuration)
        let claims = try requireClaims(inputs, configuration)
        let node = try TargetVolumes.placement(claims: claims, claimObjects: inputs.claims, volumes: inputs.persistentVolumes, pods: inputs.pods).get()
        return BackupRun(
            namespace: inputs.namespace, backupSession: inputs.session.metadata.name ?? "", backupSessionUID: inputs.session.metadata.uid ?? "",
            configuration: configuration.metadata.name ?? "", session: inputs.session.spec.session, claims: claims, node: node,
            securityContext: TargetVolumes.securityContext(target: inputs.target, claims: claims, pods: inputs.pods), access: access,
            timeout: timeout, deadlineSeconds: seconds, retries: retries, excludes: configuration.spec.volumes?.exclude ?? [],
            hooksNotRun: ((configuration.spec.hooks?.preBackup ?? []) + (configuration.spec.hooks?.postBackup ?? [])).map(\.name))
    }

    private static func ref(_ configuration: BackupConfiguration) -> SessionFailure.Ref { RepositoryAccess.ref(configuration) }

    private static func requireConfiguration(_ inputs: StartInputs) throws(SessionFailure) -> RepositoryInputs {
        let spec = inputs.session.spec
        guard let repository = inputs.repository else {
            throw .configurationNotFound(session: inputs.session.metadata.name ?? "", namespace: inputs.namespace, configuration: spec.configuration)
        }
        let configuration = repository.configuration
        let sessions = configuration.spec.sessions
        guard let session = sessions.first(where: { $0.name == spec.session }) else {
            throw .sessionNotConfigured(ref(configuration), session: spec.session, known: sessions.map(\.name))
        }
        let method = session.method ?? .restic
        guard method == .restic else { throw .methodNotSupported(ref(configuration), session: spec.session, method: method) }
        return repository
    }

    static func parseTimeout(_ configuration: BackupConfiguration) throws(SessionFailure) -> (String?, Int?) {
        try parseTimeout(configuration.spec.timeout) { problem in .invalidTimeout(ref(configuration), problem) }
    }

    /// A timeout as written and in whole seconds; `failure` words the problem for the object that sets it.
    static func parseTimeout(_ text: String?, failure: (String) -> SessionFailure) throws(SessionFailure) -> (String?, Int?) {
        guard let text else { return (nil, nil) }
        let duration: KubeDuration
        do {
            duration = try KubeDuration(parsing: text)
        } catch {
            throw failure("\(error)")
        }
        guard duration.nanoseconds >= 1_000_000_000 else {
            throw failure("\"\(text)\" is shorter than one second; set at least 1s, as in \"2h\"")
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
