import Foundation
import YAML

/// Where the simulated node keeps its files under the sandbox root.
public struct NodeLayout: Sendable {
    /// The sandbox root.
    public let root: URL

    /// Creates a layout under `root`.
    public init(root: URL) { self.root = root }

    /// `<root>/volumes/<namespace>/<claim>`: a PersistentVolumeClaim's data.
    public func volume(namespace: String, claim: String) -> URL {
        root.appendingPathComponent("volumes").appendingPathComponent(namespace).appendingPathComponent(claim)
    }

    /// `<root>/snapshots/<content>`: a VolumeSnapshotContent's copy.
    public func snapshot(content: String) -> URL {
        root.appendingPathComponent("snapshots").appendingPathComponent(content)
    }

    /// `<root>/pods/<namespace>/<pod>`: a Pod's scratch directory, logs and termination files.
    public func pod(namespace: String, name: String) -> URL {
        root.appendingPathComponent("pods").appendingPathComponent(namespace).appendingPathComponent(name)
    }
}

/// Why a container could not be started; kubelet's waiting reasons.
struct LaunchProblem: Error, Equatable {
    /// `CreateContainerConfigError`, `ContainerCreating`.
    var reason: String
    /// What is missing, as kubelet words it.
    var message: String
}

/// Everything needed to start one container as a local process.
struct ContainerLaunch: Equatable {
    var container: String
    /// An absolute path, or a name looked up in `PATH`.
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var workingDirectory: String
    var terminationLog: String
    var logFile: String
    /// Whether to keep the log's tail as the message when the termination file is empty and the
    /// container failed (`terminationMessagePolicy: FallbackToLogsOnError`).
    var fallbackToLogs: Bool
}

/// Turns a Pod's containers into local processes: command, environment and mounts. Pure, apart
/// from reading Secrets and ConfigMaps through `lookup`.
struct PodLauncher {
    /// Reads a `secrets` or `configmaps` object in the Pod's namespace; nil when it does not exist.
    typealias Lookup = ContainerEnvironment.Lookup

    /// The environment variable holding `{"<mountPath>": "<host directory>"}` as JSON.
    static let mountsVariable = "CAIRN_SANDBOX_MOUNTS"
    /// The environment variable holding the host path of the container's termination message file.
    static let terminationLogVariable = "CAIRN_TERMINATION_LOG"

    let layout: NodeLayout
    /// The local `cairn` executable, run for images that are Cairn's.
    let cairnBinary: String
    /// An image whose name contains this is Cairn's.
    let cairnImageMarker: String
    /// Variables every process inherits from the node (PATH).
    let baseEnvironment: [String: String]

    /// Plans every container of `pod`, or throws the first problem.
    func launches(for pod: Node, volumes: [String: String], lookup: Lookup) async throws(LaunchProblem) -> [ContainerLaunch] {
        var result: [ContainerLaunch] = []
        for container in pod[path: "spec", "containers"]?.sequence ?? [] {
            result.append(try await launch(container, of: pod, volumes: volumes, lookup: lookup))
        }
        return result
    }

    private func launch(_ container: Node, of pod: Node, volumes: [String: String], lookup: Lookup) async throws(LaunchProblem) -> ContainerLaunch {
        let name = container["name"]?.string ?? ""
        let directory = layout.pod(namespace: pod.namespace, name: pod.name)
        let env = try await environment(of: container, in: pod, lookup: lookup)
        let mounts = try mounts(of: container, volumes: volumes)
        let terminationLog = directory.appendingPathComponent("\(name).termination-log").path
        var processEnv = baseEnvironment
        processEnv["HOME"] = directory.appendingPathComponent("work").path
        processEnv["HOSTNAME"] = pod.name
        for (key, value) in env { processEnv[key] = value }
        processEnv[Self.mountsVariable] = Self.json(mounts)
        processEnv[Self.terminationLogVariable] = terminationLog
        let (executable, arguments) = try command(of: container, env: env)
        return ContainerLaunch(
            container: name, executable: executable, arguments: arguments, environment: processEnv,
            workingDirectory: directory.appendingPathComponent("work").path, terminationLog: terminationLog,
            logFile: directory.appendingPathComponent("\(name).log").path,
            fallbackToLogs: container["terminationMessagePolicy"]?.string == "FallbackToLogsOnError")
    }

    /// The executable and arguments: `command` + `args`, with `$(VAR)` expanded as kubelet does;
    /// for Cairn's image, the local `cairn` binary stands in for the image's `cairn`.
    func command(of container: Node, env: [(String, String)]) throws(LaunchProblem) -> (String, [String]) {
        let values = Dictionary(env, uniquingKeysWith: { _, last in last })
        var command = (container["command"]?.sequence ?? []).compactMap(\.string).map { ContainerEnvironment.expand($0, values) }
        let args = (container["args"]?.sequence ?? []).compactMap(\.string).map { ContainerEnvironment.expand($0, values) }
        let image = container["image"]?.string ?? ""
        if image.contains(cairnImageMarker) {
            if command.isEmpty { return (cairnBinary, args) }
            if (command[0] as NSString).lastPathComponent == "cairn" { command[0] = cairnBinary }
        }
        guard let executable = command.first else {
            throw LaunchProblem(reason: "RunContainerError",
                                message: "container \(container["name"]?.string ?? "") (image \(image)) has no command; the sandbox runs local programs, so set spec.containers[].command")
        }
        return (executable, Array(command.dropFirst()) + args)
    }

    /// `env` and `envFrom`, in kubelet's order; a problem keeps the container waiting with
    /// `CreateContainerConfigError`, as kubelet does.
    func environment(of container: Node, in pod: Node, lookup: Lookup) async throws(LaunchProblem) -> [(String, String)] {
        do {
            return try await ContainerEnvironment.resolve(container, in: pod, lookup: lookup)
        } catch {
            throw LaunchProblem(reason: "CreateContainerConfigError", message: error.message)
        }
    }

    /// `{mountPath: host directory}` for the container's volumeMounts.
    func mounts(of container: Node, volumes: [String: String]) throws(LaunchProblem) -> [String: String] {
        var result: [String: String] = [:]
        for mount in container["volumeMounts"]?.sequence ?? [] {
            let name = mount["name"]?.string ?? ""
            guard let path = mount["mountPath"]?.string, let host = volumes[name] else {
                throw LaunchProblem(reason: "CreateContainerConfigError",
                                    message: "volumeMount \(name) of container \(container["name"]?.string ?? "") names no volume of the pod the sandbox can provide (persistentVolumeClaim, emptyDir, secret, configMap)")
            }
            let subPath = mount["subPath"]?.string ?? ""
            result[path] = subPath.isEmpty ? host : URL(fileURLWithPath: host).appendingPathComponent(subPath).path
        }
        return result
    }

    static func json(_ values: [String: String]) -> String {
        let node = Node.strings(values)
        do { return try JSON.emit(node) } catch {
            return "{}"  // a flat mapping of strings always emits; this branch is unreachable
        }
    }
}
