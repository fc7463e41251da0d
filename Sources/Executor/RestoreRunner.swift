import CairnAPI
import Foundation
import Kube
import Logging
import YAML

/// Runs RestoreSessions: takes each from Pending (or no phase) through Running to Succeeded or
/// Failed, keyed by restore `namespace/name`.
///
/// Each reconcile re-reads the restore and its Job; the decisions are ``RestorePlan``'s, this type
/// only watches, queues and writes. Its Job is named after the restore and a new PVC after its
/// template, so a restart adopts what exists and never creates anything twice.
public final class RestoreRunner: Sendable {
    /// How the runner runs.
    public struct Options: Sendable {
        /// The namespace whose restores are run; all when nil.
        public var namespace: String?
        /// Reconciles running at once.
        public var workers = 2
        /// How long in-flight reconciles get to finish on shutdown.
        public var gracePeriod: Duration = .seconds(10)
        /// How soon a restore that met a 409 Conflict is looked at again.
        public var conflictRequeue: Duration = .milliseconds(50)
        /// How often a Pending restore that waits for a backup looks again.
        public var pendingRecheck: Duration = .seconds(10)
        /// The component named in Events.
        public var component = "cairn-controller"
        /// The image the restore Jobs run `cairn agent` from.
        public var agentImage = "ghcr.io/cairn-dev/cairn:\(KubeClient.version)"
        /// The agent container's `imagePullPolicy`; the cluster's default when nil.
        public var imagePullPolicy: String?
        /// The agent container's `resources`.
        public var resources: Node = .mapping([
            "requests": .mapping(["cpu": "100m", "memory": "256Mi"]), "limits": .mapping(["memory": "1Gi"]),
        ])
        /// The time written into statuses.
        public var now: @Sendable () -> Date = { Date() }

        /// Creates options; all namespaces when `namespace` is nil.
        public init(namespace: String? = nil) { self.namespace = namespace }

        /// The Job settings the backup runner uses too: image, resources, pull policy.
        public init(sharing backup: SessionRunner.Options) {
            self.init(namespace: backup.namespace)
            (agentImage, imagePullPolicy, resources, component, now) = (backup.agentImage, backup.imagePullPolicy, backup.resources, backup.component, backup.now)
        }
    }

    let client: KubeClient
    let options: Options
    let logger: Logger
    /// Its own informers: restores and their Jobs are read by no other reconciler.
    let informers: SharedInformers
    let restores: Informer
    let jobs: Informer
    let recorder: EventRecorder
    let queue = WorkQueue<ObjectKey>()

    /// Creates a runner; nothing runs before ``run()``.
    public init(client: KubeClient, options: Options = Options(), logger: Logger = Logger(label: "cairn.restore")) {
        self.client = client
        self.options = options
        self.logger = logger
        informers = SharedInformers(client: client, logger: logger)
        restores = informers.informer(ExecutorResource.restores, namespace: options.namespace)
        jobs = informers.informer(ExecutorResource.jobs, namespace: options.namespace, labelSelector: ExecutorLabel.restoreSession)
        recorder = EventRecorder(client: client, options: .init(component: options.component), wallClock: options.now, logger: logger)
        addHandlers()
    }

    /// Runs the informers, the Event recorder and the workers until the task is cancelled.
    public func run() async {
        // A Job missing from a half-filled cache would be created again.
        await ReconcilerLoop.run(queue, workers: options.workers, gracePeriod: options.gracePeriod, logger: logger,
                                 owned: informers, recorder: recorder, caches: caches) { [self] key in
            try await reconcile(key)
        }
    }

    /// Waits until both informers hold their first list; throws `CancellationError` if cancelled first.
    public func waitForSync() async throws { try await ReconcilerLoop.waitForSync(caches) }

    /// What the first reconcile waits for.
    private var caches: [Informer] { [restores, jobs] }

    /// Waits until every Event recorded so far is written.
    public func flushEvents() async { await recorder.flush() }

    private func addHandlers() {
        // Weak: the informers hold these handlers and the runner holds the informers.
        restores.addHandler(
            added: { [weak self] in await self?.queue.add(ObjectKey($0)) },
            updated: { [weak self] in await self?.queue.add(ObjectKey($1)) },
            deleted: { _ in })
        jobs.addHandler(
            added: { [weak self] in await self?.enqueueOwner(of: $0) },
            updated: { [weak self] in await self?.enqueueOwner(of: $1) },
            deleted: { [weak self] in await self?.enqueueOwner(of: $0) })
    }

    /// A Job's change wakes the RestoreSession that owns it.
    private func enqueueOwner(of job: Node) async {
        for owner in job[path: "metadata", "ownerReferences"]?.sequence ?? [] where owner["kind"]?.string == "RestoreSession" {
            if let name = owner["name"]?.string { await queue.add(ObjectKey(namespace: job.namespace, name: name)) }
        }
    }

    var reads: ExecutorReads { ExecutorReads(client: client) }
}
