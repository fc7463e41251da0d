import CairnAPI
import Kube
import YAML

extension SessionRunner {
    /// Reads, from the server, what a session names: its configuration and what that names. A
    /// session starts once, so these reads are few, and reading rather than caching means a
    /// configuration made a moment before its session is never missed.
    func observeStart(_ session: BackupSession) async throws -> StartInputs {
        let namespace = session.metadata.namespace ?? ""
        var inputs = StartInputs(session: session)
        guard let configuration = try await getConfiguration(namespace: namespace, name: session.spec.configuration)?.decoded else { return inputs }
        inputs.configuration = configuration
        let repository = try await client.observeRepository(of: configuration, namespace: namespace)
        (inputs.storage, inputs.namespaceLabels, inputs.encryptionSecret) = (repository.storage, repository.namespaceLabels, repository.encryptionSecret)
        (inputs.credentialsSecret, inputs.credentialsCopy) = (repository.credentialsSecret, repository.credentialsCopy)
        try await observeTarget(configuration.spec, namespace: namespace, into: &inputs)
        return inputs
    }

    /// Reads the target workload, its PVCs, their PersistentVolumes and the namespace's pods.
    private func observeTarget(_ spec: BackupConfigurationSpec, namespace: String, into inputs: inout StartInputs) async throws {
        if let resource = ExecutorResource.workloads[spec.target.kind] {
            inputs.target = try await get(resource, namespace: namespace, name: spec.target.name).map { target in
                var target = target
                target["kind"] = .string(spec.target.kind)  // lists and some servers leave it out
                return target
            }
        }
        for claim in TargetVolumes.claimNames(configuration: spec, target: inputs.target) {
            guard let object = try await get(ExecutorResource.claims, namespace: namespace, name: claim) else { continue }
            inputs.claims[claim] = object
            if let volume = object[path: "spec", "volumeName"]?.string, inputs.persistentVolumes[volume] == nil {
                inputs.persistentVolumes[volume] = try await get(ExecutorResource.volumes, name: volume)
            }
        }
        guard !inputs.claims.isEmpty else { return }
        inputs.pods = try await client.list(ExecutorResource.pods, namespace: namespace).items
    }

    /// A configuration as the server holds it, and decoded; nil when it does not exist.
    func getConfiguration(namespace: String, name: String) async throws -> (node: Node, decoded: BackupConfiguration)? {
        guard let node = try await get(ExecutorResource.configurations, namespace: namespace, name: name) else { return nil }
        return (node, try decode(BackupConfiguration.self, node, what: "BackupConfiguration \(namespace)/\(name)"))
    }

    /// An object, or nil when it does not exist.
    func get(_ resource: Resource, namespace: String? = nil, name: String) async throws -> Node? {
        try await client.getIfExists(resource, namespace: namespace, name: name)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ node: Node, what: String) throws -> T {
        do {
            return try NodeDecoder().decode(type, from: node)
        } catch {
            throw SessionRunnerError(description: "\(what) does not decode (\(error)); fix it with kubectl edit, and the session is tried again")
        }
    }
}

/// A failure of the session runner that a retry may get past once someone fixes the object named.
public struct SessionRunnerError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, naming the object and the fix.
    public let description: String
}
