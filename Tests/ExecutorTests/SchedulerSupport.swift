import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Logging
import Testing
import YAML

/// A sandbox with the CRDs installed, a manual clock, and helpers to create configurations and
/// run schedulers over them.
struct SchedulerHarness: Sendable {
    let cluster: TestCluster
    let clock: ManualClock
    var client: KubeClient { cluster.client }
    var namespace: String { cluster.namespace }
    static let configuration = "deployment-pg"

    /// Runs `body` with a fresh sandbox and a clock standing a few seconds after the real time
    /// (configurations get the server's real creationTimestamp, which the planner catches up from).
    static func with(_ body: @escaping @Sendable (SchedulerHarness) async throws -> Void) async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            try await body(SchedulerHarness(cluster: cluster, clock: ManualClock(start: Date().addingTimeInterval(5))))
        }
    }

    /// Runs a scheduler until `body` returns, then stops it.
    func withScheduler(_ body: @escaping @Sendable (Scheduler) async throws -> Void) async throws {
        var logger = Logger(label: "cairn.scheduler.test")
        logger.logLevel = .warning
        let scheduler = Scheduler(client: client, clock: clock, options: .init(namespace: namespace), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await scheduler.run() }
            defer { group.cancelAll() }
            try await withDeadline("the scheduler's informers to sync", .seconds(20)) { try await scheduler.waitForSync() }
            try await body(scheduler)
        }
    }

    /// Creates configuration ``configuration`` with `sessions`, adjusted by `edit`.
    @discardableResult
    func createConfiguration(_ sessions: [SessionSpec], edit: (inout BackupConfigurationSpec) -> Void = { _ in }) async throws -> BackupConfiguration {
        var spec = BackupConfigurationSpec(
            target: TargetRef(apiVersion: "apps/v1", kind: "Deployment", name: "pg"), storage: NamespacedRef(name: "default"), sessions: sessions)
        edit(&spec)
        let object = BackupConfiguration(metadata: ObjectMeta(name: Self.configuration, namespace: namespace), spec: spec)
        return try await client.create(ExecutorResource.configurations, namespace: namespace, object)
    }

    func configurationNow() async throws -> BackupConfiguration {
        try await client.get(BackupConfiguration.self, ExecutorResource.configurations, namespace: namespace, name: Self.configuration)
    }

    func sessions() async throws -> [BackupSession] {
        try await client.list(BackupSession.self, ExecutorResource.sessions, namespace: namespace).items
    }

    /// Waits until the configuration's status says the next backup is at `time`: the scheduler
    /// has planned with the clock at least where it stands now.
    func waitForNextBackup(_ time: Date) async throws {
        try await eventually("status.nextBackup to be \(KubeTime.time(time))", .seconds(20)) {
            try await configurationNow().status?.nextBackup == KubeTime.time(time)
        }
    }

    /// The next run of `schedule` after the clock's time.
    func next(_ schedule: String, after: Date? = nil) throws -> Date {
        try #require(try CronSchedule(schedule).next(after: after ?? clock.now))
    }

    /// Events in the namespace about the configuration with `reason`.
    func events(reason: String) async throws -> [Node] {
        try await client.list(EventRecorder.events, namespace: namespace).items.filter {
            $0["reason"]?.string == reason && $0[path: "involvedObject", "name"]?.string == Self.configuration
        }
    }
}
