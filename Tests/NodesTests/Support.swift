import CairnTesting
import Foundation
import Kube
import Logging
@testable import SandboxNodes
import YAML

/// The resource types the tests write: the components' own list.
typealias R = Resources

/// A failure of the test harness (a deadline passed), not of the code under test.
struct WaitError: Error, CustomStringConvertible {
    var description: String
}

extension TestCluster {
    /// Runs the simulated nodes against this cluster (over HTTPS, through the client) for the
    /// duration of `body`; `body` gets the sandbox root. The nodes are stopped afterwards.
    ///
    /// Sandbox only: a real cluster runs its own controllers, and parallel tests would share node
    /// names there.
    func withNodes<T: Sendable>(nodes: Int = 2, _ body: @Sendable (URL) async throws -> T) async throws -> T {
        _ = try sandboxOnly()
        let root = directory.appendingPathComponent("sandbox")
        var logger = Logger(label: "cairn.sandbox.nodes.test")
        logger.logLevel = .warning
        let simulated = SimulatedNodes(client: client, configuration: .init(nodes: nodes, root: root), logger: logger)
        let task = Task { try await simulated.run() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(root))
        } catch {
            result = .failure(error)
        }
        task.cancel()
        _ = await task.result
        return try result.get()
    }

    /// Polls the server until `probe` returns a value, or fails after `timeout`.
    func eventually<T: Sendable>(_ what: String, timeout: Duration = .seconds(30),
                                 _ probe: @Sendable () async throws -> T?) async throws -> T {
        try await CairnTesting.eventually(what, timeout, probe)
    }

    /// The Pods in the test namespace whose labels match `selector`.
    func pods(_ selector: String) async throws -> [Node] {
        try await client.list(R.pods, namespace: namespace, options: ListOptions(labelSelector: selector)).items
    }

    /// Reads an object in the test namespace; nil when missing.
    func read(_ resource: Resource, _ name: String) async throws -> Node? {
        do {
            return try await client.get(resource, namespace: resource.namespaced ? namespace : nil, name: name)
        } catch let error as KubeError where error.kind == .notFound {
            return nil
        }
    }

    /// A one-container Job running `script` under `sh -c`.
    func job(_ name: String, script: String, backoffLimit: Int = 0, volumes: [Node] = [], mounts: [Node] = [], env: [Node] = []) -> Node {
        var container: Node = .mapping(["name": "main", "image": "busybox", "command": ["sh", "-c", .string(script)]])
        if !mounts.isEmpty { container["volumeMounts"] = .sequence(mounts) }
        if !env.isEmpty { container["env"] = .sequence(env) }
        var spec: Node = .mapping(["restartPolicy": "Never", "containers": [container]])
        if !volumes.isEmpty { spec["volumes"] = .sequence(volumes) }
        return .mapping([
            "apiVersion": "batch/v1", "kind": "Job", "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]),
            "spec": .mapping(["backoffLimit": .int(backoffLimit), "template": .mapping(["spec": spec])]),
        ])
    }

    /// A PersistentVolumeClaim of 1Gi, optionally restored from a VolumeSnapshot.
    func claim(_ name: String, fromSnapshot snapshot: String? = nil) -> Node {
        var spec: Node = .mapping(["accessModes": ["ReadWriteOnce"], "resources": .mapping(["requests": .mapping(["storage": "1Gi"])])])
        if let snapshot {
            spec["dataSource"] = .mapping(["apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": .string(snapshot)])
        }
        return .mapping(["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]), "spec": spec])
    }

    /// Waits until the Job has a `Complete` or `Failed` condition and returns it.
    func finishedJob(_ name: String, timeout: Duration = .seconds(30)) async throws -> Node {
        try await eventually("job \(name) to finish", timeout: timeout) {
            let job = try await read(R.jobs, name)
            let done = (job?[path: "status", "conditions"]?.sequence ?? []).contains {
                ["Complete", "Failed"].contains($0["type"]?.string) && $0["status"]?.string == "True"
            }
            return done ? job : nil
        }
    }
}

extension Node {
    /// The condition of `type`'s status (`True`/`False`), if present.
    func condition(_ type: String) -> String? {
        (self[path: "status", "conditions"]?.sequence ?? []).first { $0["type"]?.string == type }?["status"]?.string
    }

    /// The first container's terminated state.
    var terminated: Node? { self[path: "status", "containerStatuses"]?.sequence?.first?[path: "state", "terminated"] }
}
