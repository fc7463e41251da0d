import ArgumentParser
import CairnAPI
import Executor
import Foundation
import Kube
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `cairn controller`: the AutoBackup reconciler and the session runner as a Kubernetes controller, with leader election,
/// health probes, Prometheus metrics and structured logs.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the AutoBackup controller: annotated workloads become BackupConfigurations.",
        discussion: """
            Connects with --kubeconfig, else the files in KUBECONFIG, else the pod's service \
            account (in a cluster), else ~/.kube/config. Watches every namespace, or only those \
            given with --namespace (repeatable; one reconciler runs per namespace, each with its \
            own informers). Blueprints and Namespaces are always watched cluster-wide.

            With leader election (the default) replicas campaign for the coordination.k8s.io/v1 \
            Lease --leader-election-namespace/--leader-election-id; only the leader reconciles \
            and writes. A leader that loses the Lease exits 1, so its restart campaigns afresh.

            Serves /healthz and /readyz on --health-probe-bind-address (/readyz answers 200 once \
            the informers have synced, or, on a standby replica, once it has read the Lease) and \
            Prometheus /metrics on --metrics-bind-address. A value of 0 turns an endpoint off.

            Stops on SIGINT or SIGTERM: the workers finish, the Lease is released so that a \
            standby takes over at once, and the process exits 0. Exit codes: 0 stopped cleanly; \
            1 it could not start (bad kubeconfig, unreachable API server, a port in use, a \
            missing Lease namespace) or it lost the Lease, with the reason on stderr; 2 bad usage.
            """)

    @Option(help: ArgumentHelp("The kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use (default: its current-context).", valueName: "name"))
    var context: String?

    @Option(name: [.customShort("n"), .long],
            help: ArgumentHelp("A namespace to watch; repeat for several (default: all namespaces).", valueName: "namespace"))
    var namespace: [String] = []

    @Flag(inversion: .prefixedNo, help: "Campaign for a Lease and reconcile only while holding it (--leader-elect=false also turns it off).")
    var leaderElect = true

    @Option(help: ArgumentHelp("The Lease's namespace; it must exist (default: the pod's namespace in a cluster, else cairn-system).", valueName: "namespace"))
    var leaderElectionNamespace: String?

    @Option(help: ArgumentHelp("The Lease's name.", valueName: "name"))
    var leaderElectionId = "cairn-controller"

    @Option(help: ArgumentHelp("How long a Lease holds after its last renewal, as standbys see it.", valueName: "duration"))
    var leaseDuration = "15s"

    @Option(help: ArgumentHelp("How long the leader keeps trying to renew before it gives up leading.", valueName: "duration"))
    var renewDeadline = "10s"

    @Option(help: ArgumentHelp("The wait between attempts to acquire or renew the Lease.", valueName: "duration"))
    var retryPeriod = "2s"

    @Option(help: ArgumentHelp("Where /metrics listens: HOST:PORT, :PORT for every interface, 0 for off.", valueName: "address"))
    var metricsBindAddress = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("Where /healthz and /readyz listen: HOST:PORT, :PORT for every interface, 0 for off.", valueName: "address"))
    var healthProbeBindAddress = "127.0.0.1:8081"

    @Option(help: ArgumentHelp("The log line format: text (logfmt) or json.", valueName: "format"))
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("The lowest level logged: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @Option(help: "Reconciles that run at once, per watched namespace.")
    var workers = 2

    @Option(help: ArgumentHelp("Backup Jobs that may run at once, per watched namespace; 0 for no limit.", valueName: "n"))
    var maxRunningBackups = 10

    @Option(help: ArgumentHelp("Backup Jobs that may run at once on one node; 0 for no limit.", valueName: "n"))
    var maxRunningBackupsPerNode = 2

    @Option(help: ArgumentHelp("The image backup Jobs run `cairn agent` from.", valueName: "image"))
    var agentImage = SessionRunner.Options().agentImage

    @Option(help: ArgumentHelp("How long a Snapshot no retention period keeps stays marked (cairn.dev/delete-after) before it is forgotten.", valueName: "duration"))
    var retentionGrace = "24h"

    @Option(help: ArgumentHelp("Requests a second the API client sends at most, on average; 0 for no limit.", valueName: "qps"))
    var kubeApiQps: Double = 50

    @Option(help: ArgumentHelp("Requests the API client may send at once above --kube-api-qps.", valueName: "n"))
    var kubeApiBurst = 100

    /// The flags' durations, checked in `validate()`.
    private var timings: (lease: Duration, renew: Duration, retry: Duration) {
        get throws {
            (try Self.duration(leaseDuration, flag: "--lease-duration"), try Self.duration(renewDeadline, flag: "--renew-deadline"),
             try Self.duration(retryPeriod, flag: "--retry-period"))
        }
    }

    func validate() throws {
        let (lease, renew, retry) = try timings
        // client-go's rules: a leader must give up before others may take over, and retry in time.
        guard lease > renew else { throw ValidationError("--lease-duration \(leaseDuration) must be longer than --renew-deadline \(renewDeadline).") }
        guard renew > retry * 1.2 else {
            throw ValidationError("--renew-deadline \(renewDeadline) must be longer than 1.2 × --retry-period \(retryPeriod), so a renewal can be retried.")
        }
        _ = try BindAddress.parse(metricsBindAddress, flag: "--metrics-bind-address")
        _ = try BindAddress.parse(healthProbeBindAddress, flag: "--health-probe-bind-address")
        guard (1...64).contains(workers) else { throw ValidationError("--workers \(workers) is out of range: use 1 to 64.") }
        guard kubeApiQps >= 0, kubeApiQps.isFinite else { throw ValidationError("--kube-api-qps \(kubeApiQps) must be 0 (no limit) or more.") }
        guard maxRunningBackups >= 0 else { throw ValidationError("--max-running-backups \(maxRunningBackups) must be 0 (no limit) or more.") }
        guard maxRunningBackupsPerNode >= 0 else {
            throw ValidationError("--max-running-backups-per-node \(maxRunningBackupsPerNode) must be 0 (no limit) or more.")
        }
        guard !agentImage.isEmpty, !agentImage.contains(where: \.isWhitespace) else {
            throw ValidationError("--agent-image \"\(agentImage)\" is not an image reference: write one like ghcr.io/cairn-dev/cairn:0.1.0.")
        }
        _ = try Self.duration(retentionGrace, flag: "--retention-grace")
        guard kubeApiBurst >= 1 else { throw ValidationError("--kube-api-burst \(kubeApiBurst) must be 1 or more.") }
        for name in namespace + [leaderElectionNamespace, leaderElectionId].compactMap({ $0 }) where !Self.isDNSName(name) {
            throw ValidationError("\"\(name)\" is not a valid namespace or Lease name: use lowercase letters, digits, '-' and '.', at most 253 characters.")
        }
    }

    func run() async throws {
        let (format, level) = (logFormat, logLevel)
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, format: format, level: level) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "cairn.controller")
        do {
            try await serve(registry: registry, logger: logger)
        } catch let error as ControllerCommandError {
            logger.error("stopped: \(error.description)")
            printError("cairn controller: \(error.description)")
            throw ExitCode(ExitStatus.problems)
        }
    }

    private func serve(registry: PrometheusCollectorRegistry, logger: Logger) async throws {
        let (connection, inCluster): (ClusterConnection, Bool)
        do {
            (connection, inCluster) = try ClusterAccess.connection(kubeconfig: kubeconfig, context: context)
        } catch {
            throw ControllerCommandError("cannot connect: \(error)")
        }
        var clientOptions = KubeClientOptions()
        clientOptions.qps = kubeApiQps
        clientOptions.burst = kubeApiBurst
        let client = KubeClient(connection: connection, options: clientOptions)
        try await ClusterAccess.checkReachable(client, server: connection.server)
        var election: LeaderElector.Options?
        if leaderElect {
            let namespace = leaderElectionNamespace ?? (inCluster ? connection.namespace : "cairn-system")
            try await ClusterAccess.checkLeaseNamespace(namespace, client: client)
            var options = LeaderElector.Options(namespace: namespace, name: leaderElectionId, identity: ClusterAccess.identity())
            (options.leaseDuration, options.renewDeadline, options.retryPeriod) = try timings
            election = options
        }
        let readiness = Readiness()
        var executor = SessionRunner.Options()
        executor.maxRunning = maxRunningBackups == 0 ? nil : maxRunningBackups
        executor.maxRunningPerNode = maxRunningBackupsPerNode == 0 ? nil : maxRunningBackupsPerNode
        executor.agentImage = agentImage
        var retention = RetentionKeeper.Options()
        retention.agentImage = agentImage
        let grace = try Self.duration(retentionGrace, flag: "--retention-grace").components
        retention.grace = Double(grace.seconds) + Double(grace.attoseconds) / 1e18
        let controllers = ControllerService(
            client: client, namespaces: namespace.isEmpty ? [nil] : Array(Set(namespace)).sorted(), workers: workers,
            executor: executor, retention: retention, election: election, electionClient: KubeClient(connection: connection, options: clientOptions),
            readiness: readiness, logger: logger)
        var services: [any Service] = [controllers]
        if let address = try BindAddress.parse(healthProbeBindAddress, flag: "--health-probe-bind-address") {
            services.append(HTTPEndpoint.probes(flag: "--health-probe-bind-address", address: address, readiness: readiness, logger: logger))
        }
        if let address = try BindAddress.parse(metricsBindAddress, flag: "--metrics-bind-address") {
            services.append(HTTPEndpoint.metrics(flag: "--metrics-bind-address", address: address, registry: registry, logger: logger))
        }
        logger.info("starting", metadata: ["server": "\(connection.server)", "namespaces": "\(namespace.isEmpty ? "all" : namespace.joined(separator: ","))"])
        try await ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
        logger.info("stopped")
    }

    /// Rewrites `--leader-elect=true|false` (controller-runtime's spelling) to the flags the
    /// parser knows; other arguments pass through.
    static func normalized(_ arguments: [String]) -> [String] {
        arguments.map { argument in
            switch argument {
            case "--leader-elect=true": "--leader-elect"
            case "--leader-elect=false": "--no-leader-elect"
            default: argument
            }
        }
    }

    private static func duration(_ text: String, flag: String) throws -> Duration {
        let parsed: KubeDuration
        do {
            parsed = try KubeDuration(parsing: text)
        } catch {
            throw ValidationError("\(flag) \(text): \(error); write a duration such as 15s, 500ms or 1m.")
        }
        guard parsed.nanoseconds > 0 else { throw ValidationError("\(flag) \(text) must be longer than zero.") }
        return parsed.duration
    }

    private static func isDNSName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        return !name.isEmpty && name.count <= 253 && name.allSatisfy(allowed.contains) && name.first != "-" && name.last != "-"
    }
}

/// Why `cairn controller` could not start, or stopped on its own.
struct ControllerCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
