import AutoBackup
import Executor
import Kube
import Logging
import Metrics
import ServiceLifecycle

/// The reconcilers of `cairn controller`, run while this replica leads (or always, without
/// leader election) until graceful shutdown.
struct ControllerService: Service {
    let client: KubeClient
    /// The namespaces to watch, one reconciler each; `[nil]` for all.
    let namespaces: [String?]
    let workers: Int
    /// The session runner's options, its namespace set per watched namespace.
    let executor: SessionRunner.Options
    /// The retention keeper's options, its namespace set per watched namespace.
    let retention: RetentionKeeper.Options
    /// The Lease to campaign for; nil to reconcile without leader election.
    let election: LeaderElector.Options?
    /// The client the Lease is renewed through: its own, as controller-runtime gives leader
    /// election its own, so that a burst of the reconcilers' lists and writes (each informer
    /// listing at start) never delays a renewal past the renew deadline.
    let electionClient: KubeClient
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        guard let election else {
            await cancelWhenGracefulShutdown { await reconcile() }
            readiness.set(.stopping)
            return
        }
        try await lead(election)
    }

    /// Campaigns, reconciles while leading, and releases the Lease on shutdown. A leader that
    /// loses the Lease throws, so the process exits non-zero as controller-runtime's does: its
    /// informers and queue may hold state from before another leader's writes.
    private func lead(_ options: LeaderElector.Options) async throws {
        let isLeader = Gauge(label: "cairn_leader_election_is_leader")
        isLeader.record(0)
        var electionLogger = Logger(label: "cairn.leader-election")
        electionLogger.logLevel = logger.logLevel
        let elector = LeaderElector(client: electionClient, options: options, logger: electionLogger)
        let lease = "\(options.namespace)/\(options.name)"
        readiness.set(.campaigning(lease: lease, observedHolder: { elector.observedLeader }))
        logger.info("campaigning for the Lease", metadata: ["lease": "\(lease)", "identity": "\(options.identity)"])
        await cancelWhenGracefulShutdown {
            await elector.run(onStartedLeading: {
                isLeader.record(1)
                await reconcile()
            }, onStoppedLeading: {
                isLeader.record(0)
            })
        }
        isLeader.record(0)
        readiness.set(.stopping)
        guard Task.isShuttingDownGracefully || Task.isCancelled else {
            throw ControllerCommandError("lost the leader election Lease \(lease); exiting so that a restart campaigns afresh")
        }
    }

    /// A reconciler's logger, with the namespace it watches in every line.
    private static func logger(_ label: String, watching namespace: String?) -> Logger {
        var logger = Logger(label: label)
        logger[metadataKey: "watch"] = "\(namespace ?? "all namespaces")"
        return logger
    }

    /// Runs one AutoBackup reconciler, one scheduler, one session runner, one restore runner, one
    /// retention keeper and one maintenance keeper per namespace until cancelled; ready once all have synced. AutoBackup,
    /// the scheduler and the retention keeper read one shared cache of configurations, the
    /// scheduler and the session runner one of sessions.
    private func reconcile() async {
        readiness.set(.syncing)
        var informerLogger = Logger(label: "cairn.informer")
        informerLogger.logLevel = logger.logLevel
        let informers = SharedInformers(client: client, logger: informerLogger)
        let controllers = namespaces.map { namespace in
            var options = AutoBackupController.Options(namespace: namespace)
            options.workers = workers
            let logger = Self.logger("cairn.autobackup", watching: namespace)
            return (logger, AutoBackupController(client: client, options: options, informers: informers, logger: logger))
        }
        let runners = namespaces.map { namespace in
            var options = executor
            options.namespace = namespace
            options.workers = workers
            let logger = Self.logger("cairn.executor", watching: namespace)
            return SessionRunner(client: client, options: options, informers: informers, logger: logger)
        }
        let restorers = namespaces.map { namespace in
            var options = RestoreRunner.Options(sharing: executor)
            options.namespace = namespace
            options.workers = workers
            let logger = Self.logger("cairn.restore", watching: namespace)
            return RestoreRunner(client: client, options: options, logger: logger)
        }
        let schedulers = namespaces.map { namespace in
            var options = Scheduler.Options(namespace: namespace)
            options.workers = workers
            let logger = Self.logger("cairn.scheduler", watching: namespace)
            return Scheduler(client: client, options: options, informers: informers, logger: logger)
        }
        let keepers = namespaces.map { namespace in
            var options = retention
            options.namespace = namespace
            options.workers = workers
            let logger = Self.logger("cairn.retention", watching: namespace)
            return RetentionKeeper(client: client, options: options, informers: informers, logger: logger)
        }
        let maintainers = namespaces.map { namespace in
            var options = MaintenanceKeeper.Options(namespace: namespace)
            (options.agentImage, options.imagePullPolicy, options.resources) = (executor.agentImage, executor.imagePullPolicy, executor.resources)
            let logger = Self.logger("cairn.maintenance", watching: namespace)
            return MaintenanceKeeper(client: client, options: options, informers: informers, logger: logger)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await informers.run() }
            for (_, controller) in controllers { group.addTask { await controller.run() } }
            for runner in runners { group.addTask { await runner.run() } }
            for restorer in restorers { group.addTask { await restorer.run() } }
            for scheduler in schedulers { group.addTask { await scheduler.run() } }
            for keeper in keepers { group.addTask { await keeper.run() } }
            for maintainer in maintainers { group.addTask { await maintainer.run() } }
            group.addTask {
                do {
                    for (_, controller) in controllers { try await controller.waitForSync() }
                    for runner in runners { try await runner.waitForSync() }
                    for restorer in restorers { try await restorer.waitForSync() }
                    for scheduler in schedulers { try await scheduler.waitForSync() }
                    for keeper in keepers { try await keeper.waitForSync() }
                    for maintainer in maintainers { try await maintainer.waitForSync() }
                } catch {
                    return  // cancelled before the caches filled
                }
                readiness.set(.running)
                logger.info("informers synced; reconciling")
            }
        }
        for (logger, controller) in controllers {
            let counts = controller.statistics
            logger.info("reconciler stopped", metadata: [
                "reconciles": "\(counts.reconciles)", "creates": "\(counts.creates)", "updates": "\(counts.updates)",
                "deletes": "\(counts.deletes)", "warnings": "\(counts.warnings)",
            ])
        }
    }
}
