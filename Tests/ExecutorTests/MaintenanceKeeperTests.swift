import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Logging
import MetricsTestKit
import Testing
import YAML

/// The maintenance keeper against the sandbox: on the storage's schedule (an injected clock), the
/// simulated kubelet runs `cairn agent maintain` with real restic on a real repository, and the
/// BackupStorage's status and Events tell what it found.
@Suite struct MaintenanceKeeperTests {
    static let hour: TimeInterval = 3_600

    // MARK: Fixtures

    /// The retention fixtures (storage `store` on the local repository, Secret `restic`, the
    /// configuration), the storage maintained hourly, and a repository with a forgotten snapshot
    /// of 3 MiB: data that only a prune frees. Returns the storage's key.
    private static func repositoryWithGarbage(_ harness: RetentionHarness, backedUp: Bool = true, edit: (inout Node) -> Void = { _ in }) async throws {
        let configuration = try await harness.createFixtures(retention: nil)
        var patch: Node = .mapping(["spec": .mapping(["maintenance": .mapping(["schedule": "0 * * * *"])])])
        edit(&patch)
        _ = try await harness.client.patch(ExecutorResource.storages, namespace: harness.namespace, name: "store", patch)
        let data = harness.base.cluster.directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try EndToEndTests.incompressible(count: 3 << 20).write(to: data.appendingPathComponent("garbage.bin"))
        let first = try await harness.resticBackup(time: Date().addingTimeInterval(-2 * hour))
        try FileManager.default.removeItem(at: data.appendingPathComponent("garbage.bin"))
        _ = try await harness.resticBackup(time: Date().addingTimeInterval(-hour))
        try await harness.restic(["forget", first])
        guard backedUp else { return }
        var status = configuration
        status["status"] = try NodeEncoder().encode(Self.backedUpStatus())
        _ = try await harness.client.updateStatus(ExecutorResource.configurations, namespace: harness.namespace, status)
    }

    private static func backedUpStatus() -> BackupConfigurationStatus {
        var status = BackupConfigurationStatus()
        status.lastSuccessfulBackup = BackupRecord(session: "nightly", backupSession: "nightly-1", phase: "Succeeded", time: KubeTime.time(Date()))
        return status
    }

    /// Runs a MaintenanceKeeper for the test's namespace until `body` returns.
    private static func maintaining(_ harness: RetentionHarness, busyRecheck: TimeInterval = 60, metrics: TestMetrics? = nil,
                                    _ body: @escaping @Sendable (MaintenanceKeeper) async throws -> Void) async throws {
        var options = MaintenanceKeeper.Options(namespace: harness.namespace)
        (options.agentImage, options.busyRecheck, options.retryDelay) = ("cairn:test", busyRecheck, 600)
        if let metrics { options.metricsFactory = metrics }
        var logger = Logger(label: "cairn.maintenance.test")
        logger.logLevel = ProcessInfo.processInfo.environment["CAIRN_TEST_DEBUG"] == nil ? .critical : .info
        let keeper = MaintenanceKeeper(client: harness.client, clock: harness.clock, options: options, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await keeper.run() }
            defer { group.cancelAll() }
            try await withDeadline("the keeper's informers to sync", .seconds(20)) { try await keeper.waitForSync() }
            try await body(keeper)
        }
    }

    private static func storage(_ harness: RetentionHarness, _ name: String = "store") async throws -> BackupStorage {
        try await harness.client.get(BackupStorage.self, ExecutorResource.storages, namespace: harness.namespace, name: name)
    }

    private static func condition(_ storage: BackupStorage, _ type: String) -> Condition? {
        storage.status?.conditions?.first { $0.type == type }
    }

    private static func packBytes(_ harness: RetentionHarness) throws -> Int {
        let url = URL(fileURLWithPath: harness.repository).appendingPathComponent("data")
        let files = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey])?.compactMap { $0 as? URL } ?? []
        return try files.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
    }

    private static func events(_ harness: RetentionHarness, _ reason: String, keeper: MaintenanceKeeper) async throws -> [Node] {
        await keeper.flushEvents()
        return try await harness.client.list(eventResource, namespace: harness.namespace).items.filter { $0["reason"]?.string == reason }
    }

    private static func maintenanceJobs(_ harness: RetentionHarness) async throws -> [Node] {
        try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace, options: ListOptions(labelSelector: "cairn.dev/maintenance")).items
    }

    // MARK: Tests

    @Test(.timeLimit(.minutes(3)))
    func givenAForgottenSnapshot_whenMaintenanceFallsDue_thenTheJobChecksAndPrunesAndTheStatusSaysSo() async throws {
        try await RetentionHarness.with(start: Date()) { harness in
            // Given: a repository holding a forgotten snapshot's 3 MiB, its storage maintained hourly.
            try await Self.repositoryWithGarbage(harness)
            let before = try Self.packBytes(harness)
            try await harness.withNodes {
                try await Self.maintaining(harness) { keeper in
                    let scheduled = try await eventually("the storage to be Ready and scheduled", .seconds(20)) {
                        let storage = try await Self.storage(harness)
                        return storage.status?.phase == "Ready" ? storage : nil
                    }
                    #expect(scheduled.status?.repository == harness.repository)
                    #expect(scheduled.status?.maintenanceSchedule == "0 * * * *")
                    #expect(Self.condition(scheduled, "RepositoryHealthy")?.status == .unknown)
                    #expect(try await Self.maintenanceJobs(harness).isEmpty, "nothing before the schedule")

                    // When: the hour comes.
                    harness.clock.advance(by: Self.hour)

                    // Then: the Job checks and prunes, and the status, the condition and an Event say what restic found.
                    let storage = try await eventually("the maintenance to succeed", .seconds(90)) {
                        let storage = try await Self.storage(harness)
                        return storage.status?.repositories?.first?.phase == "Succeeded" ? storage : nil
                    }
                    let entry = try #require(storage.status?.repositories?.first)
                    #expect(entry.namespace == harness.namespace)
                    #expect(entry.configuration == RetentionHarness.configuration)
                    #expect(entry.message?.hasPrefix("restic check found no errors; restic prune removed ") == true, "\(entry.message ?? "")")
                    #expect(entry.lastSuccessfulTime != nil && entry.completionTime != nil && entry.job != nil)
                    #expect(storage.status?.lastMaintenance == entry.completionTime)
                    #expect(Self.condition(storage, "RepositoryHealthy")?.status == .true)
                    let after = try Self.packBytes(harness)
                    #expect(before - after > 2 << 20, "the forgotten 3 MiB are pruned: \(before) -> \(after) bytes")
                    #expect(try await harness.resticSnapshotIDs().count == 1, "the kept snapshot stays")
                    let maintained = try await eventually("a Maintained Event", .seconds(10)) {
                        try await Self.events(harness, MaintenanceKeeper.maintainedReason, keeper: keeper).first
                    }
                    #expect(maintained["message"]?.string?.contains("restic prune removed") == true)
                    #expect(keeper.statistics.jobsCreated == 1)

                    // When: the next hour comes; Then: a second run replaces the first run's Job.
                    harness.clock.advance(by: Self.hour)
                    try await eventually("the second run to succeed", .seconds(90)) {
                        let entry = try await Self.storage(harness).status?.repositories?.first
                        return entry?.phase == "Succeeded" && entry?.job != storage.status?.repositories?.first?.job
                    }
                    #expect(keeper.statistics.jobsCreated == 2)
                    try await eventually("only the second run's Job to be left", .seconds(20)) { try await Self.maintenanceJobs(harness).count == 1 }
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func givenAStorageWhoseRepositoryDoesNotExist_whenAConfigurationUsesIt_thenTheFirstRunCreatesItBeforeAnyBackup() async throws {
        try await RetentionHarness.with(start: Date()) { harness in
            // Given: a configuration on a storage whose repository path holds nothing yet.
            try await harness.createFixtures(retention: nil)
            let fresh = harness.base.cluster.directory.appendingPathComponent("fresh-repository").path
            let patch: Node = .mapping(["spec": .mapping(["backend": .mapping(["local": .mapping(["path": .string(fresh)])])])])
            _ = try await harness.client.patch(ExecutorResource.storages, namespace: harness.namespace, name: "store", patch)
            try await harness.withNodes {
                try await Self.maintaining(harness) { keeper in
                    // Then: without waiting for the schedule, a run creates the repository, and the status says it exists.
                    let entry = try await eventually("the first run to succeed", .seconds(90)) {
                        try await Self.storage(harness).status?.repositories?.first.flatMap { $0.phase == "Succeeded" ? $0 : nil }
                    }
                    #expect(entry.initialized == true)
                    #expect(FileManager.default.fileExists(atPath: fresh + "/config"), "restic's config file is there")
                    let started = try await Self.events(harness, MaintenanceKeeper.startedReason, keeper: keeper)
                    #expect(started.first?["message"]?.string?.contains("to create (if missing), check and prune") == true)
                    #expect(keeper.statistics.jobsCreated == 1)
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func givenAPausedStorage_whenAnnotatedMaintainNow_thenItRunsOnceAndTheAnnotationGoes() async throws {
        try await RetentionHarness.with(start: Date()) { harness in
            // Given: a storage whose maintenance is paused.
            try await Self.repositoryWithGarbage(harness) { patch in
                patch = .mapping(["spec": .mapping(["maintenance": .mapping(["schedule": "0 * * * *", "paused": true])])])
            }
            try await harness.withNodes {
                try await Self.maintaining(harness) { keeper in
                    let paused = try await eventually("the storage to be Ready", .seconds(20)) {
                        let storage = try await Self.storage(harness)
                        return storage.status?.phase == "Ready" ? storage : nil
                    }
                    #expect(Self.condition(paused, "MaintenanceScheduled")?.reason == "Paused")
                    #expect(paused.status?.nextMaintenance == nil)

                    // When: someone asks for a run with the annotation, as `kubectl annotate` does.
                    let request: Node = .mapping(["metadata": .mapping(["annotations": .mapping(["cairn.dev/maintain-now": "true"])])])
                    _ = try await harness.client.patch(ExecutorResource.storages, namespace: harness.namespace, name: "store", request)

                    // Then: one run checks and prunes, and the annotation is removed.
                    let storage = try await eventually("the requested run to succeed", .seconds(90)) {
                        let storage = try await Self.storage(harness)
                        return storage.status?.repositories?.first?.phase == "Succeeded" ? storage : nil
                    }
                    #expect(storage.metadata.annotations?["cairn.dev/maintain-now"] == nil)
                    #expect(keeper.statistics.jobsCreated == 1)
                    harness.clock.advance(by: Self.hour)
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(keeper.statistics.jobsCreated == 1, "paused: the schedule starts nothing")
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func givenATruncatedPack_whenMaintained_thenTheStorageIsUnhealthyAWarningNamesThePackAndNothingIsPruned() async throws {
        try await RetentionHarness.with(start: Date()) { harness in
            // Given: a repository one of whose pack files was overwritten.
            try await Self.repositoryWithGarbage(harness)
            let packs = URL(fileURLWithPath: harness.repository).appendingPathComponent("data")
            let damaged = try #require(FileManager.default.enumerator(at: packs, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
                .filter { !$0.hasDirectoryPath }.sorted { $0.path < $1.path }.first)
            try Data("garbage".utf8).write(to: damaged)
            let before = try Self.packBytes(harness)
            let metrics = TestMetrics()
            try await harness.withNodes {
                try await Self.maintaining(harness, metrics: metrics) { keeper in
                    try await eventually("the storage to be Ready", .seconds(20)) { try await Self.storage(harness).status?.phase == "Ready" }

                    // When: maintenance runs.
                    harness.clock.advance(by: Self.hour)

                    // Then: RepositoryHealthy is False with restic check's words, a Warning says so, and no data went.
                    let storage = try await eventually("the maintenance to fail", .seconds(90)) {
                        let storage = try await Self.storage(harness)
                        return storage.status?.repositories?.first?.phase == "Failed" ? storage : nil
                    }
                    let healthy = try #require(Self.condition(storage, "RepositoryHealthy"))
                    #expect(healthy.status == .false)
                    #expect(healthy.reason == "RepositoryDamaged")
                    #expect(healthy.message.contains("pack \(damaged.lastPathComponent.prefix(8))"), "\(healthy.message)")
                    #expect(healthy.message.contains("prune did not run"))
                    #expect(storage.status?.repositories?.first?.lastSuccessfulTime == nil)
                    let warning = try await eventually("a RepositoryDamaged Event", .seconds(10)) {
                        try await Self.events(harness, MaintenanceKeeper.damagedReason, keeper: keeper).first
                    }
                    #expect(warning["type"]?.string == "Warning")
                    #expect(try Self.packBytes(harness) == before)
                    #expect(metrics.counterTotal(label: "cairn_maintenance_runs_total", dimensions: [("result", "Failed")]) == 1)
                    let gauge = metrics.recorders(label: "cairn_repository_healthy", dimensions: [("namespace", harness.namespace), ("storage", "store")])
                    #expect(gauge.first?.lastValue == 0)
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func givenAnActiveBackupJobOnTheStorage_whenMaintenanceFallsDue_thenItWaitsAndStartsOnceTheJobIsGone() async throws {
        try await RetentionHarness.with(start: Date()) { harness in
            // Given: a backup Job of the same storage that has not finished (no kubelet runs it).
            try await Self.repositoryWithGarbage(harness)
            let busy: Node = .mapping([
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": .mapping([
                    "name": "backup-in-flight", "namespace": .string(harness.namespace),
                    "labels": .mapping(["app.kubernetes.io/managed-by": "cairn"]),
                    "annotations": .mapping(["cairn.dev/storage": .string("\(harness.namespace)/store")]),
                ]),
                "spec": .mapping(["template": .mapping(["spec": .mapping([
                    "restartPolicy": "Never", "containers": [.mapping(["name": "agent", "image": "cairn:test"])],
                ])])]),
            ])
            _ = try await harness.client.create(ExecutorResource.jobs, namespace: harness.namespace, busy)
            try await Self.maintaining(harness, busyRecheck: 60) { keeper in
                try await eventually("the storage to be Ready", .seconds(20)) { try await Self.storage(harness).status?.phase == "Ready" }

                // When: maintenance falls due.
                harness.clock.advance(by: Self.hour)

                // Then: it waits, naming the Job, and creates none.
                let entry = try await eventually("the maintenance to wait", .seconds(20)) {
                    try await Self.storage(harness).status?.repositories?.first.flatMap { $0.phase == "Waiting" ? $0 : nil }
                }
                #expect(entry.reason == "RepositoryBusy")
                #expect(entry.message?.contains("\(harness.namespace)/backup-in-flight") == true, "\(entry.message ?? "")")
                #expect(try await Self.maintenanceJobs(harness).isEmpty)

                // When: the backup Job is gone and the recheck comes; Then: the maintenance Job is created.
                _ = try await harness.client.delete(ExecutorResource.jobs, namespace: harness.namespace, name: "backup-in-flight")
                harness.clock.advance(by: 61)
                try await eventually("the maintenance Job", .seconds(20)) { try await Self.maintenanceJobs(harness).count == 1 }
                // The status is written after the Job is created.
                try await eventually("the run to show Running", .seconds(20)) {
                    try await Self.storage(harness).status?.repositories?.first?.phase == "Running"
                }
                #expect(keeper.statistics.jobsCreated == 1)
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func givenAKeeperStoppedAfterCreatingTheJob_whenANewKeeperStarts_thenItAdoptsTheJobAndRecordsItsResult() async throws {
        try await RetentionHarness.with(start: Date()) { harness in
            try await Self.repositoryWithGarbage(harness)
            // Given: a keeper that created the Job and stopped before it ran.
            try await Self.maintaining(harness) { _ in
                try await eventually("the storage to be Ready", .seconds(20)) { try await Self.storage(harness).status?.phase == "Ready" }
                harness.clock.advance(by: Self.hour)
                try await eventually("the maintenance Job", .seconds(20)) { try await Self.maintenanceJobs(harness).count == 1 }
            }
            // When: the Job runs and a new keeper starts.
            try await harness.withNodes {
                try await Self.maintaining(harness) { keeper in
                    // Then: it records the Job's result and creates no second Job.
                    try await eventually("the adopted run to succeed", .seconds(90)) {
                        try await Self.storage(harness).status?.repositories?.first?.phase == "Succeeded"
                    }
                    #expect(keeper.statistics.jobsCreated == 0)
                    #expect(try await Self.maintenanceJobs(harness).count == 1)
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func givenStoragesWithProblems_whenReconciled_thenEachStatusNamesTheFieldAndTheFix() async throws {
        try await RetentionHarness.with(start: Date()) { harness in
            // Given: a storage whose credentials Secret is missing, one with a bad schedule, one with a bad
            // readDataSubset, one whose configuration has no encryption Secret, and one nobody has backed up to.
            try await Self.repositoryWithGarbage(harness, backedUp: false)
            try await harness.base.createStorage("no-credentials") { $0.spec.credentialsSecret = LocalRef(name: "missing") }
            try await harness.base.createStorage("bad-schedule") { $0.spec.maintenance = RepositoryMaintenance(schedule: "61 * * * *") }
            try await harness.base.createStorage("bad-subset") { $0.spec.maintenance = RepositoryMaintenance(readDataSubset: "0%") }
            try await harness.base.createStorage("no-password") { $0.spec.maintenance = RepositoryMaintenance(schedule: "0 * * * *") }
            var spec = BackupConfigurationSpec(target: TargetRef(apiVersion: "v1", kind: "PersistentVolumeClaim", name: "data"),
                                               storage: NamespacedRef(name: "no-password"), sessions: [SessionSpec(name: "nightly", schedule: "@daily")])
            spec.encryptionSecret = LocalRef(name: "nowhere")
            var orphan = BackupConfiguration(metadata: ObjectMeta(name: "orphan", namespace: harness.namespace), spec: spec)
            let created = try await harness.client.create(ExecutorResource.configurations, namespace: harness.namespace, try NodeEncoder().encode(orphan))
            orphan.status = Self.backedUpStatus()
            var withStatus = created
            withStatus["status"] = try NodeEncoder().encode(orphan.status)
            _ = try await harness.client.updateStatus(ExecutorResource.configurations, namespace: harness.namespace, withStatus)

            try await Self.maintaining(harness) { keeper in
                // Then: each says what is wrong and what to do.
                let noCredentials = try await eventually("no-credentials NotReady", .seconds(20)) {
                    let storage = try await Self.storage(harness, "no-credentials")
                    return storage.status?.phase == "NotReady" ? storage : nil
                }
                let ready = try #require(Self.condition(noCredentials, "Ready"))
                #expect(ready.reason == "CredentialsNotFound")
                #expect(ready.message.contains("spec.credentialsSecret names Secret \(harness.namespace)/missing, which does not exist"), "\(ready.message)")

                let badSchedule = try await eventually("bad-schedule's condition", .seconds(20)) {
                    try await Self.condition(Self.storage(harness, "bad-schedule"), "MaintenanceScheduled")
                }
                #expect(badSchedule.status == .false && badSchedule.reason == "InvalidMaintenance")
                #expect(badSchedule.message.contains("spec.maintenance.schedule"), "\(badSchedule.message)")

                let badSubset = try await eventually("bad-subset's condition", .seconds(20)) {
                    try await Self.condition(Self.storage(harness, "bad-subset"), "MaintenanceScheduled")
                }
                #expect(badSubset.status == .false)
                #expect(badSubset.message.contains("spec.maintenance.readDataSubset \"0%\" is not a percentage"), "\(badSubset.message)")

                // When: the hour comes.
                harness.clock.advance(by: Self.hour)

                let noPassword = try await eventually("no-password's run to fail", .seconds(20)) {
                    try await Self.storage(harness, "no-password").status?.repositories?.first.flatMap { $0.phase == "Failed" ? $0 : nil }
                }
                #expect(noPassword.reason == "EncryptionSecretNotFound", "\(noPassword.reason ?? "")")
                #expect(noPassword.message?.contains("nowhere") == true && noPassword.message?.contains("tried again in 600s") == true, "\(noPassword.message ?? "")")
                // store's repository has no backup yet: the first run creates it (no kubelet runs it here).
                let first = try await eventually("store's first run", .seconds(20)) {
                    try await Self.storage(harness).status?.repositories?.first.flatMap { $0.phase == "Running" ? $0 : nil }
                }
                #expect(first.initialized == false)
                let jobs = try await Self.maintenanceJobs(harness)
                #expect(jobs.count == 1)
                let arguments = jobs.first?[path: "spec", "template", "spec", "containers"]?.sequence?.first?["args"]?.sequence?.compactMap(\.string) ?? []
                #expect(arguments.contains("--create"), "\(arguments)")
                let failed = try await eventually("a MaintenanceFailed Warning", .seconds(10)) {
                    try await Self.events(harness, MaintenanceKeeper.failedReason, keeper: keeper).first
                }
                #expect(failed["type"]?.string == "Warning")
                #expect(keeper.statistics.jobsCreated == 1)

                // When: the missing credentials Secret is created; Then: the storage is Ready at the next look.
                try await harness.base.createSecret("missing", ["AWS_ACCESS_KEY_ID": "id"])
                harness.clock.advance(by: 61)
                try await eventually("no-credentials to be Ready", .seconds(20)) { try await Self.storage(harness, "no-credentials").status?.phase == "Ready" }
            }
        }
    }

    @Test func givenAMaintenanceJobOfTheStorage_whenABackupSessionStarts_thenItStaysQueuedAndRunsAfterIt() async throws {
        try await RunnerHarness.with { harness in
            // Given: a maintenance Job of the configuration's storage that has not finished.
            try await harness.createFixtures()
            let maintenance: Node = .mapping([
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": .mapping([
                    "name": "cairn-maintain-store", "namespace": .string(harness.namespace),
                    "labels": .mapping(["app.kubernetes.io/managed-by": "cairn", "cairn.dev/maintenance": "store"]),
                    "annotations": .mapping(["cairn.dev/storage": .string("\(harness.namespace)/store")]),
                ]),
                "spec": .mapping(["template": .mapping(["spec": .mapping([
                    "restartPolicy": "Never", "containers": [.mapping(["name": "agent", "image": "cairn:test"])],
                ])])]),
            ])
            _ = try await harness.client.create(ExecutorResource.jobs, namespace: harness.namespace, maintenance)
            try await harness.running { _ in
                // When: a backup session starts.
                try await harness.createSession("b1")

                // Then: it waits Queued, naming the Job, until the Job is gone.
                let queued = try await harness.waitFor("b1", .queued)
                #expect(queued.status?.reason == "MaintenanceRunning")
                #expect(queued.status?.message?.contains("Job(s) \(harness.namespace)/cairn-maintain-store") == true, "\(queued.status?.message ?? "")")
                _ = try await harness.client.delete(ExecutorResource.jobs, namespace: harness.namespace, name: "cairn-maintain-store")
                try await harness.waitFor("b1", .running)
            }
        }
    }
}
