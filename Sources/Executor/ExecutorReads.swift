import CairnAPI
import Kube
import YAML

/// The reads and small writes both runners make: objects that may not exist, a configuration and
/// what it names for its repository, and the copy of the storage's credentials.
struct ExecutorReads: Sendable {
    let client: KubeClient

    /// An object, or nil when it does not exist.
    func get(_ resource: Resource, namespace: String? = nil, name: String) async throws -> Node? {
        do {
            return try await client.get(resource, namespace: namespace, name: name)
        } catch let error as KubeError where error.kind == .notFound {
            return nil
        }
    }

    /// A configuration as the server holds it, and decoded; nil when it does not exist.
    func configuration(namespace: String, name: String) async throws -> (node: Node, decoded: BackupConfiguration)? {
        guard let node = try await get(ExecutorResource.configurations, namespace: namespace, name: name) else { return nil }
        return (node, try decode(BackupConfiguration.self, node, what: "BackupConfiguration \(namespace)/\(name)"))
    }

    /// Reads, from the server, what `configuration` names for its repository, for a Job in `namespace`.
    func repositoryInputs(_ configuration: BackupConfiguration, namespace: String) async throws -> RepositoryInputs {
        var inputs = RepositoryInputs(namespace: namespace, configuration: configuration)
        let storageRef = inputs.storageRef
        inputs.storage = try await get(ExecutorResource.storages, namespace: storageRef.namespace, name: storageRef.name)
            .map { try decode(BackupStorage.self, $0, what: "BackupStorage \(storageRef)") }
        inputs.namespaceLabels = try await get(ExecutorResource.namespaces, name: namespace)?.stringMap("labels") ?? [:]
        if let secret = configuration.spec.encryptionSecret?.name, !secret.isEmpty {
            inputs.encryptionSecret = try await get(ExecutorResource.secrets, namespace: namespace, name: secret)
        }
        if let secret = inputs.storage?.spec.credentialsSecret?.name {
            inputs.credentialsSecret = try await get(ExecutorResource.secrets, namespace: storageRef.namespace, name: secret)
            inputs.credentialsCopy = try await get(ExecutorResource.secrets, namespace: namespace, name: CredentialsCopy.name(storage: storageRef))
        }
        return inputs
    }

    /// Deletes a Job and, in the background, its Pods; one already gone is fine.
    func deleteJob(_ job: Node) async throws {
        do {
            _ = try await client.delete(ExecutorResource.jobs, namespace: job.namespace, name: job.name, propagationPolicy: .background)
        } catch let error as KubeError where error.kind == .notFound {
            return
        }
    }

    /// Creates or updates the copy of the storage's credentials in the Job's namespace.
    func bringCredentialsInStep(_ plan: CredentialsPlan) async throws {
        guard case .copy(let desired, let existing) = plan else { return }
        guard let existing else {
            _ = try await client.create(ExecutorResource.secrets, namespace: desired.namespace, desired)
            return
        }
        guard let update = CredentialsCopy.update(existing, to: desired) else { return }
        _ = try await client.update(ExecutorResource.secrets, namespace: desired.namespace, update)
    }

    /// Decodes an object, or throws an error that names it and the fix.
    func decode<T: Decodable>(_ type: T.Type, _ node: Node, what: String) throws -> T {
        do {
            return try NodeDecoder().decode(type, from: node)
        } catch {
            throw SessionRunnerError(description: "\(what) does not decode (\(error)); fix it with kubectl edit, and the session is tried again")
        }
    }
}
