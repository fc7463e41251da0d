import CairnAPI
import Kube
import Logging
import YAML

/// What the executor read to reach a configuration's restic repository from a Job in `namespace`:
/// the storage, the namespace's labels, the encryption Secret and the credentials. A nil member
/// was not found (or, for the credentials copy, does not exist yet).
struct RepositoryInputs: Sendable {
    var namespace: String
    var storage: BackupStorage?
    /// The labels of the namespace, for storages that allow namespaces by selector.
    var namespaceLabels: [String: String]?
    var encryptionSecret: Node?
    /// The storage's credentials Secret, in the storage's namespace.
    var credentialsSecret: Node?
    /// The copy of it in `namespace`, if one exists.
    var credentialsCopy: Node?

    /// The storage `configuration` names, its namespace filled in.
    func storageRef(of configuration: BackupConfiguration) -> SessionFailure.Ref {
        SessionFailure.Ref(namespace: configuration.spec.storage.namespace ?? namespace, name: configuration.spec.storage.name)
    }
}

/// How a Job reaches a repository, once ``SessionValidation/access(_:_:)`` checked it: shared by
/// the backup Job and the retention forget Job, so both are wired the same way.
struct RepositoryAccess: Sendable, Equatable {
    var storage: NamespacedRef
    var repository: String
    /// A local PVC backend, mounted read-write at `/repository`.
    var repositoryClaim: LocalBackend?
    var region: String?
    var encryptionSecret: String
    var credentials: CredentialsPlan
}

extension KubeClient {
    /// Reads, from the server, what a Job of `configuration` in `namespace` needs to reach its repository.
    func observeRepository(of configuration: BackupConfiguration, namespace: String) async throws -> RepositoryInputs {
        var inputs = RepositoryInputs(namespace: namespace)
        let storageRef = inputs.storageRef(of: configuration)
        if let storage = try await getIfExists(ExecutorResource.storages, namespace: storageRef.namespace, name: storageRef.name) {
            do {
                inputs.storage = try NodeDecoder().decode(BackupStorage.self, from: storage)
            } catch {
                throw SessionRunnerError(description: "BackupStorage \(storageRef) does not decode (\(error)); fix it with kubectl edit, and it is tried again")
            }
        }
        inputs.namespaceLabels = try await getIfExists(ExecutorResource.namespaces, name: namespace)?.stringMap("labels") ?? [:]
        if let secret = configuration.spec.encryptionSecret?.name, !secret.isEmpty {
            inputs.encryptionSecret = try await getIfExists(ExecutorResource.secrets, namespace: namespace, name: secret)
        }
        if let secret = inputs.storage?.spec.credentialsSecret?.name {
            inputs.credentialsSecret = try await getIfExists(ExecutorResource.secrets, namespace: storageRef.namespace, name: secret)
            inputs.credentialsCopy = try await getIfExists(ExecutorResource.secrets, namespace: namespace, name: CredentialsCopy.name(storage: storageRef))
        }
        return inputs
    }

    /// Creates or updates the copy of the storage's credentials in the Job's namespace.
    func bringCredentialsInStep(_ plan: CredentialsPlan) async throws {
        guard case .copy(let desired, let existing) = plan else { return }
        guard let existing else {
            _ = try await create(ExecutorResource.secrets, namespace: desired.namespace, desired)
            return
        }
        guard let changed = CredentialsCopy.update(existing, to: desired) else { return }
        _ = try await update(ExecutorResource.secrets, namespace: desired.namespace, changed)
    }

    /// An object, or nil when it does not exist.
    func getIfExists(_ resource: Resource, namespace: String? = nil, name: String) async throws -> Node? {
        do {
            return try await get(resource, namespace: namespace, name: name)
        } catch let error as KubeError where error.kind == .notFound {
            return nil
        }
    }
}
