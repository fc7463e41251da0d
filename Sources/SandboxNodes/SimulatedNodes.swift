import Foundation
import Kube
import Logging
import ServiceLifecycle
import YAML

/// The sandbox's simulated nodes: Node objects, a kubelet that runs Job Pods as local processes,
/// a dynamic provisioner, a hostpath-style CSI snapshotter and, unless the cluster has its own,
/// the workload and Job controllers.
///
/// Every part is an ordinary API client: it lists, watches and writes through `KubeClient`, so it
/// works against the sandbox and against any real API server alike. Run it as a `Service`.
public struct SimulatedNodes: Service {
    /// What to simulate, and where its files go.
    public struct Configuration: Sendable {
        /// The Node names (`sandbox-node-1`...).
        public var nodeNames: [String]
        /// The sandbox root: `volumes/`, `snapshots/` and `pods/` live under it.
        public var root: URL
        /// The local `cairn` executable that Pods of Cairn's image run.
        public var cairnBinary: String
        /// An image whose name contains this is Cairn's.
        public var cairnImageMarker: String
        /// Whether to run the Deployment/StatefulSet/DaemonSet and Job controllers (off when the
        /// cluster runs its own kube-controller-manager).
        public var runsControllers: Bool

        /// Creates a configuration; the `cairn` binary defaults to the running executable.
        public init(nodes: Int = 2, root: URL, cairnBinary: String = SimulatedNodes.runningExecutable,
                    cairnImageMarker: String = "cairn", runsControllers: Bool = true) {
            nodeNames = (1...max(nodes, 1)).map { "sandbox-node-\($0)" }
            self.root = root
            self.cairnBinary = cairnBinary
            self.cairnImageMarker = cairnImageMarker
            self.runsControllers = runsControllers
        }
    }

    /// The path of the running executable.
    public static var runningExecutable: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    }

    /// The environment variable holding `{"<mountPath>": "<host directory>"}` as JSON.
    public static let mountsVariable = PodLauncher.mountsVariable
    /// The environment variable holding the host path of the termination message file.
    public static let terminationLogVariable = PodLauncher.terminationLogVariable

    private let client: KubeClient
    private let configuration: Configuration
    private let logger: Logger
    /// How often every component looks again without a change.
    private let resyncInterval: Duration = .seconds(30)

    /// Creates the simulated nodes for the cluster `client` reaches.
    public init(client: KubeClient, configuration: Configuration, logger: Logger = Logger(label: "cairn.sandbox.nodes")) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    /// Registers the nodes, then runs every component until graceful shutdown or cancellation;
    /// running Pods' processes are stopped on the way out.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await runUntilCancelled() }
    }

    private func runUntilCancelled() async throws {
        let caches = Dictionary(uniqueKeysWithValues: Resources.all.map { ($0, ObjectCache(resource: $0)) })
        let cluster = Cluster(client: client, caches: caches)
        let parts = makeComponents(cluster).map { BuiltComponent(component: $0, wakeup: Wakeup()) }
        try await NodeRegistrar(cluster: cluster).register(configuration.nodeNames)
        let watched = Set(parts.flatMap(\.component.watches))
        await withDiscardingTaskGroup { group in
            for resource in watched {
                guard let cache = caches[resource] else { continue }
                let interested = parts.filter { $0.component.watches.contains(resource) }.map(\.wakeup)
                group.addTask {
                    await ResourceWatch(client: client, cache: cache, onChange: { for wakeup in interested { wakeup.signal() } }, logger: logger).run()
                }
            }
            for part in parts {
                group.addTask {
                    await loop(part, caches: caches)
                    await part.component.stop()
                }
            }
        }
    }

    private func loop(_ part: BuiltComponent, caches: [Resource: ObjectCache]) async {
        let mine = part.component.watches.compactMap { caches[$0] }
        while !mine.allSatisfy(\.hasSynced) {
            guard await part.wakeup.wait(timeout: .seconds(1)) else { return }
        }
        logger.debug("component started", metadata: ["component": "\(part.component.name)"])
        while !Task.isCancelled {
            var next = resyncInterval
            do {
                if let soon = try await part.component.reconcile() { next = min(soon, resyncInterval) }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("reconcile failed; retrying", metadata: ["component": "\(part.component.name)", "error": "\(error)"])
                next = .seconds(1)
            }
            guard await part.wakeup.wait(timeout: next) else { return }
        }
    }

    private struct BuiltComponent: Sendable {
        let component: any Component
        let wakeup: Wakeup
    }

    private func makeComponents(_ cluster: Cluster) -> [any Component] {
        let nodes = configuration.nodeNames
        let layout = NodeLayout(root: configuration.root)
        var base = ProcessInfo.processInfo.environment.filter { $0.key == "PATH" }
        if base["PATH"] == nil { base["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        let launcher = PodLauncher(layout: layout, cairnBinary: configuration.cairnBinary,
                                   cairnImageMarker: configuration.cairnImageMarker, baseEnvironment: base)
        var components: [any Component] = [
            Kubelet(cluster: cluster, nodes: nodes, launcher: launcher, logger: logger),
            Provisioner(cluster: cluster, layout: layout),
            Snapshotter(cluster: cluster, layout: layout),
        ]
        if configuration.runsControllers {
            components += [WorkloadController(cluster: cluster, nodes: nodes) as any Component, JobController(cluster: cluster, nodes: nodes)]
        }
        return components
    }
}
