import Foundation
import Kube
import Logging
import Subprocess
import YAML
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The simulated kubelet of the sandbox nodes. Pods that run to completion (Job Pods) run as local
/// processes; the others are reported Running and Ready without a process. Deleting a Pod stops
/// its process: SIGTERM to its process group, SIGKILL after the grace period.
actor Kubelet: Component {
    nonisolated let name = "kubelet"
    nonisolated let watches = [Resources.pods]
    private let cluster: Cluster
    private let nodes: Set<String>
    private let launcher: PodLauncher
    private let logger: Logger
    /// How long a Pod whose configuration is incomplete waits before the next try.
    private let retryDelay: Duration = .seconds(2)

    private enum Tracked {
        case running(Task<Void, Never>)
        case finished
        case retryAfter(ContinuousClock.Instant)
    }
    /// Pods this kubelet has run or is running, by uid.
    private var tracked: [String: Tracked] = [:]

    init(cluster: Cluster, nodes: [String], launcher: PodLauncher, logger: Logger) {
        self.cluster = cluster
        self.nodes = Set(nodes)
        self.launcher = launcher
        self.logger = logger
    }

    func reconcile() async throws -> Duration? {
        let pods = cluster.objects(Resources.pods).filter { nodes.contains($0[path: "spec", "nodeName"]?.string ?? "") }
        let present = Set(pods.filter { !$0.isDeleting }.map(\.uid))
        for (uid, state) in tracked where !present.contains(uid) {
            if case .running(let task) = state { task.cancel() }  // Subprocess tears the process down
            tracked[uid] = nil
        }
        var next: Duration?
        for pod in pods where !pod.isDeleting && !PodStatus.isFinished(pod) {
            if PodStatus.runsToCompletion(pod) {
                if let wait = try await start(pod) { next = min(next ?? wait, wait) }
            } else if !WorkloadPlan.isReady(pod) || pod[path: "status", "phase"]?.string != "Running" {
                try await cluster.patchStatus(Resources.pods, namespace: pod.namespace, name: pod.name,
                                              PodStatus.running(pod, startedAt: Date(), now: Date()))
            }
        }
        return next
    }

    /// Starts the Pod's process unless it runs or ran; returns when to try again if it cannot start yet.
    private func start(_ pod: Node) async throws -> Duration? {
        switch tracked[pod.uid] {
        case .running, .finished: return nil
        case .retryAfter(let instant) where instant > .now: return instant - .now
        case .retryAfter, nil: break
        }
        if pod[path: "status", "phase"]?.string == "Running" {
            // Running but not ours: the node (this process) restarted and the process is gone.
            tracked[pod.uid] = .finished
            let lost = (pod[path: "spec", "containers"]?.sequence ?? []).map {
                PodStatus.Termination(container: $0["name"]?.string ?? "", exitCode: 137,
                                      message: "the sandbox node restarted while the container ran; its process is gone",
                                      startedAt: Date(), finishedAt: Date(), reason: "Error")
            }
            try await cluster.patchStatus(Resources.pods, namespace: pod.namespace, name: pod.name,
                                          PodStatus.terminated(pod, lost, startedAt: Date(), now: Date()))
            return nil
        }
        let launches: [ContainerLaunch]
        do {
            let volumes = try await prepareVolumes(of: pod)
            launches = try await launcher.launches(for: pod, volumes: volumes, lookup: { [cluster] plural, name in
                let resource = plural == "secrets" ? Resources.secrets : Resources.configMaps
                return try await cluster.read(resource, namespace: pod.namespace, name: name)
            })
        } catch {
            tracked[pod.uid] = .retryAfter(.now + retryDelay)
            try await reportWaiting(pod, error as? LaunchProblem ?? LaunchProblem(reason: "ContainerCreating", message: "\(error)"))
            return retryDelay
        }
        let grace = Duration.seconds(pod[path: "spec", "terminationGracePeriodSeconds"]?.int ?? 30)
        tracked[pod.uid] = .running(Task { [cluster, logger] in
            await Self.execute(pod, launches, grace: grace, cluster: cluster, logger: logger)
            await self.finished(pod.uid)
        })
        return nil
    }

    /// Stops every running Pod's process (SIGTERM, then SIGKILL after its grace period) and waits.
    func stop() async {
        let tasks = tracked.values.compactMap { state -> Task<Void, Never>? in
            if case .running(let task) = state { task } else { nil }
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func finished(_ uid: String) {
        if case .running = tracked[uid] { tracked[uid] = .finished }
    }

    /// Pending with kubelet's waiting reason, written only when it changes.
    private func reportWaiting(_ pod: Node, _ problem: LaunchProblem) async throws {
        let current = pod[path: "status", "containerStatuses"]?.sequence?.first?[path: "state", "waiting"]
        guard current?["reason"]?.string != problem.reason || current?["message"]?.string != problem.message else { return }
        logger.info("pod cannot start yet", metadata: ["pod": "\(pod.namespace)/\(pod.name)", "reason": "\(problem.reason)", "message": "\(problem.message)"])
        try await cluster.patchStatus(Resources.pods, namespace: pod.namespace, name: pod.name,
                                      PodStatus.waiting(pod, reason: problem.reason, message: problem.message, now: Date()))
    }

    /// The Pod's volumes as host directories, by volume name; clears the Pod's directory first.
    private func prepareVolumes(of pod: Node) async throws(LaunchProblem) -> [String: String] {
        let directory = launcher.layout.pod(namespace: pod.namespace, name: pod.name)
        var result: [String: String] = [:]
        do {
            if FileManager.default.fileExists(atPath: directory.path) { try FileManager.default.removeItem(at: directory) }
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("work"), withIntermediateDirectories: true)
            for volume in pod[path: "spec", "volumes"]?.sequence ?? [] {
                let name = volume["name"]?.string ?? ""
                if let host = try await hostDirectory(for: volume, of: pod, in: directory) { result[name] = host.path }
            }
        } catch let problem as LaunchProblem {
            throw problem
        } catch {
            throw LaunchProblem(reason: "ContainerCreating", message: "could not prepare the pod's directories under \(directory.path): \(error)")
        }
        return result
    }

    private func hostDirectory(for volume: Node, of pod: Node, in podDirectory: URL) async throws -> URL? {
        let own = podDirectory.appendingPathComponent("volumes").appendingPathComponent(volume["name"]?.string ?? "")
        if let claim = volume[path: "persistentVolumeClaim", "claimName"]?.string {
            guard let object = try await cluster.read(Resources.claims, namespace: pod.namespace, name: claim) else {
                throw LaunchProblem(reason: "ContainerCreating", message: "persistentvolumeclaim \"\(claim)\" not found")
            }
            guard object[path: "status", "phase"]?.string == "Bound" else {
                throw LaunchProblem(reason: "ContainerCreating", message: "persistentvolumeclaim \"\(claim)\" is not bound yet")
            }
            let host = launcher.layout.volume(namespace: pod.namespace, claim: claim)
            try FileManager.default.createDirectory(at: host, withIntermediateDirectories: true)
            return host
        }
        if volume["emptyDir"] != nil {
            try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
            return own
        }
        for (field, plural, nameKey) in [("secret", "secrets", "secretName"), ("configMap", "configmaps", "name")] {
            guard let source = volume[field] else { continue }
            let objectName = source[nameKey]?.string ?? ""
            let resource = plural == "secrets" ? Resources.secrets : Resources.configMaps
            try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
            guard let object = try await cluster.read(resource, namespace: pod.namespace, name: objectName) else {
                if source["optional"]?.bool == true { return own }
                throw LaunchProblem(reason: "ContainerCreating", message: "\(plural.dropLast()) \"\(objectName)\" not found")
            }
            for (key, value) in ContainerEnvironment.data(of: object, plural: plural) {
                try Data(value.utf8).write(to: own.appendingPathComponent(key))
            }
            return own
        }
        return nil
    }

    /// Runs the Pod's containers side by side and reports Running, then how they ended. A
    /// cancelled run (the Pod was deleted) reports nothing: the Pod is gone.
    private static func execute(_ pod: Node, _ launches: [ContainerLaunch], grace: Duration, cluster: Cluster, logger: Logger) async {
        let startedAt = Date()
        do {
            try await cluster.patchStatus(Resources.pods, namespace: pod.namespace, name: pod.name, PodStatus.running(pod, startedAt: startedAt, now: startedAt))
        } catch {
            logger.warning("could not report pod Running", metadata: ["pod": "\(pod.namespace)/\(pod.name)", "error": "\(error)"])
        }
        let terminations = await withTaskGroup(of: PodStatus.Termination.self) { group in
            for launch in launches { group.addTask { await ProcessRunner.run(launch, grace: grace) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        guard !Task.isCancelled else { return }
        do {
            try await cluster.patchStatus(Resources.pods, namespace: pod.namespace, name: pod.name,
                                          PodStatus.terminated(pod, terminations, startedAt: startedAt, now: Date()))
        } catch {
            logger.error("could not report how the pod ended", metadata: ["pod": "\(pod.namespace)/\(pod.name)", "error": "\(error)"])
        }
    }
}

/// One container as a local process through swift-subprocess.
enum ProcessRunner {
    /// The most of a termination message kubelet keeps.
    static let messageLimit = 4096

    /// Runs `launch` to its end; cancelling the task sends SIGTERM to the process group, then
    /// SIGKILL after `grace`.
    static func run(_ launch: ContainerLaunch, grace: Duration) async -> PodStatus.Termination {
        let startedAt = Date()
        var options = PlatformOptions()
        options.createSession = true  // its own process group, so `sh -c` children stop with it
        options.teardownSequence = [.send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: grace)]
        var environment: [Environment.Key: String] = [:]
        for (key, value) in launch.environment { if let key = Environment.Key(rawValue: key) { environment[key] = value } }
        let executable: Executable = launch.executable.contains("/") ? .path(FilePath(launch.executable)) : .name(launch.executable)
        let exitCode: Int
        let reason: String
        var message: String?
        do {
            FileManager.default.createFile(atPath: launch.terminationLog, contents: nil)
            let out = try FileDescriptor.open(FilePath(launch.logFile), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite, .groupRead])
            let err = try FileDescriptor.open(FilePath(launch.logFile), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite, .groupRead])
            let result = try await Subprocess.run(
                executable, arguments: Arguments(launch.arguments), environment: .custom(environment),
                workingDirectory: FilePath(launch.workingDirectory), platformOptions: options, input: .none,
                output: .fileDescriptor(out, closeAfterSpawningProcess: true), error: .fileDescriptor(err, closeAfterSpawningProcess: true))
            switch result.terminationStatus {
            case .exited(let code): exitCode = Int(code)
            case .signaled(let signal): exitCode = 128 + Int(signal)
            }
            reason = exitCode == 0 ? "Completed" : "Error"
        } catch {
            exitCode = 128
            reason = "StartError"
            message = "failed to start container \(launch.container): exec \(launch.executable): \(error)"
        }
        return PodStatus.Termination(container: launch.container, exitCode: exitCode,
                                     message: message ?? terminationMessage(launch, failed: exitCode != 0),
                                     startedAt: startedAt, finishedAt: Date(), reason: reason)
    }

    /// The termination file as written (up to 4096 bytes), or the log's tail when the policy asks.
    static func terminationMessage(_ launch: ContainerLaunch, failed: Bool) -> String {
        let written = FileManager.default.contents(atPath: launch.terminationLog) ?? Data()
        if !written.isEmpty || !(failed && launch.fallbackToLogs) {
            return String(decoding: written.prefix(messageLimit), as: UTF8.self)
        }
        let log = FileManager.default.contents(atPath: launch.logFile) ?? Data()
        let lines = String(decoding: log.suffix(2048), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).suffix(80)
        return lines.joined(separator: "\n")
    }
}
