import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Testing
import YAML

@Suite struct SchedulerTests {
    static let hourly = SessionSpec(name: "hourly", schedule: "0 * * * *")

    static func name(_ time: Date, session: String = "hourly") -> String {
        SessionNaming.scheduledSession(configuration: SchedulerHarness.configuration, session: session, scheduledTime: time)
    }

    @Test func givenAnHourlySession_whenTheClockPassesItsTime_thenExactlyOneSessionNamedAfterThatTimeIsCreated() async throws {
        try await SchedulerHarness.with { harness in
            let configuration = try await harness.createConfiguration([Self.hourly])
            let first = try harness.next("0 * * * *")
            try await harness.withScheduler { scheduler in
                try await harness.waitForNextBackup(first)
                #expect(try await harness.sessions().isEmpty)
                let status = try await harness.configurationNow().status
                #expect(status?.nextSchedule == [NextRun(session: "hourly", schedule: "0 * * * *", time: KubeTime.time(first))])
                #expect(status?.conditions?.first { $0.type == "Scheduled" }?.status == .true)

                harness.clock.advance(to: first.addingTimeInterval(2))
                try await harness.waitForNextBackup(first.addingTimeInterval(3600))
                let sessions = try await harness.sessions()
                try #require(sessions.count == 1)
                let session = sessions[0]
                #expect(session.metadata.name == Self.name(first))
                #expect(session.spec == BackupSessionSpec(
                    configuration: SchedulerHarness.configuration, session: "hourly", trigger: .scheduled, scheduledTime: KubeTime.time(first)))
                #expect(session.metadata.labels?[SessionLabel.configuration] == SchedulerHarness.configuration)
                #expect(session.metadata.labels?[SessionLabel.session] == "hourly")
                #expect(session.metadata.ownerReferences?.first?.uid == configuration.metadata.uid)
                #expect(session.metadata.ownerReferences?.first?.controller == true)
                #expect(session.status?.phase == nil)  // left for the session runner
                #expect(scheduler.statistics.created == 1)
                #expect(scheduler.statistics.lateness == [2])
            }
        }
    }

    @Test func givenASessionAlreadyCreated_whenASecondSchedulerStartsOverTheSameState_thenNoDuplicateIsCreated() async throws {
        try await SchedulerHarness.with { harness in
            try await harness.createConfiguration([Self.hourly])
            let first = try harness.next("0 * * * *")
            try await harness.withScheduler { _ in
                harness.clock.advance(to: first.addingTimeInterval(1))
                try await harness.waitForNextBackup(first.addingTimeInterval(3600))
            }
            harness.clock.advance(to: first.addingTimeInterval(30))
            try await harness.withScheduler { restarted in
                try await eventually("the restarted scheduler to plan", .seconds(20)) { restarted.statistics.reconciles >= 1 }
                #expect(restarted.statistics.created == 0)
                #expect(restarted.statistics.statusWrites == 0)  // nothing changed
                #expect(try await harness.sessions().map(\.metadata.name) == [Self.name(first)])
            }
        }
    }

    @Test func givenAnOutageOfTenRuns_whenTheSchedulerStarts_thenOnlyTheLatestRunIsCreated() async throws {
        try await SchedulerHarness.with { harness in
            try await harness.createConfiguration([Self.hourly]) { $0.startingDeadline = "15m" }
            let first = try harness.next("0 * * * *")
            let latest = first.addingTimeInterval(9 * 3600)
            harness.clock.advance(to: latest.addingTimeInterval(600))  // ten runs missed, the last 10 minutes ago
            try await harness.withScheduler { scheduler in
                try await harness.waitForNextBackup(latest.addingTimeInterval(3600))
                #expect(try await harness.sessions().map(\.metadata.name) == [Self.name(latest)])
                #expect(scheduler.statistics.created == 1)
            }
        }
    }

    @Test func givenAnOutage_whenTheLatestMissedRunIsPastTheStartingDeadline_thenNoneIsCreated_andAWarningSaysSo() async throws {
        try await SchedulerHarness.with { harness in
            try await harness.createConfiguration([Self.hourly]) { $0.startingDeadline = "5m" }
            let first = try harness.next("0 * * * *")
            let latest = first.addingTimeInterval(9 * 3600)
            harness.clock.advance(to: latest.addingTimeInterval(600))
            try await harness.withScheduler { scheduler in
                try await harness.waitForNextBackup(latest.addingTimeInterval(3600))
                #expect(try await harness.sessions().isEmpty)
                #expect(scheduler.statistics.missed == 1)
                let events = try await eventually("a MissedSchedule Event", .seconds(20)) {
                    let found = try await harness.events(reason: Scheduler.missedReason)
                    return found.isEmpty ? nil : found
                }
                #expect(events[0]["type"]?.string == "Warning")
                #expect(events[0]["message"]?.string?.contains("the run scheduled at \(KubeTime.time(latest)) was missed by more than startingDeadline 5m") == true)
            }
        }
    }

    @Test func givenAPausedSession_whenItsTimePasses_thenNothingIsCreated_whileItsUnpausedTwinRuns() async throws {
        try await SchedulerHarness.with { harness in
            var paused = Self.hourly
            paused.paused = true
            try await harness.createConfiguration([paused, SessionSpec(name: "twin", schedule: "0 * * * *")])
            let first = try harness.next("0 * * * *")
            try await harness.withScheduler { _ in
                try await harness.waitForNextBackup(first)
                #expect(try await harness.configurationNow().status?.nextSchedule?.map(\.session) == ["twin"])
                harness.clock.advance(to: first.addingTimeInterval(1))
                // Both sessions are planned in the same pass, so once the twin's run exists the paused one was decided too.
                try await harness.waitForNextBackup(first.addingTimeInterval(3600))
                #expect(try await harness.sessions().map(\.metadata.name) == [Self.name(first, session: "twin")])
            }
        }
    }

    @Test func givenAnActiveSession_andForbid_whenTheNextRunComes_thenASkippedSessionRecordsIt() async throws {
        try await SchedulerHarness.with { harness in
            try await harness.createConfiguration([Self.hourly])
            let manual = BackupSession(
                metadata: ObjectMeta(name: "deployment-pg-hourly-manual", namespace: harness.namespace),
                spec: BackupSessionSpec(configuration: SchedulerHarness.configuration, session: "hourly", trigger: .manual))
            _ = try await harness.client.create(ExecutorResource.sessions, namespace: harness.namespace, manual)
            let first = try harness.next("0 * * * *")
            try await harness.withScheduler { scheduler in
                try await harness.waitForNextBackup(first)
                harness.clock.advance(to: first.addingTimeInterval(1))
                let skipped = try await eventually("a Skipped session", .seconds(20)) {
                    try await harness.sessions().first { $0.metadata.name == Self.name(first) && $0.status?.phase == .skipped }
                }
                #expect(skipped.status?.reason == "ConcurrencyForbidden")
                #expect(skipped.status?.message == "BackupSession deployment-pg-hourly-manual of session hourly is still active and concurrencyPolicy is Forbid")
                #expect(skipped.metadata.annotations?[Scheduler.skippedAnnotation] == "ConcurrencyForbidden")
                #expect(scheduler.statistics.skipped == 1)
                #expect(scheduler.statistics.created == 0)
            }
        }
    }

    @Test func givenARunningSessionWithAJob_andReplace_whenTheNextRunComes_thenItAndItsJobAreDeleted_andTheNewRunIsCreated() async throws {
        try await SchedulerHarness.with { harness in
            // Given: a configuration with Replace, and a Running manual session that owns a Job.
            try await harness.createConfiguration([Self.hourly]) { $0.concurrencyPolicy = .replace }
            let manual = BackupSession(
                metadata: ObjectMeta(name: "deployment-pg-hourly-manual", namespace: harness.namespace),
                spec: BackupSessionSpec(configuration: SchedulerHarness.configuration, session: "hourly", trigger: .manual))
            let old = try await harness.client.create(ExecutorResource.sessions, namespace: harness.namespace, manual)
            let job: Node = .mapping([
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": .mapping([
                    "name": "deployment-pg-hourly-manual",
                    "ownerReferences": .sequence([.mapping([
                        "apiVersion": "cairn.dev/v1alpha1", "kind": "BackupSession", "name": "deployment-pg-hourly-manual",
                        "uid": .string(old.metadata.uid ?? ""), "controller": true, "blockOwnerDeletion": true,
                    ])]),
                ]),
                "spec": .mapping(["template": .mapping(["spec": .mapping([
                    "restartPolicy": "Never", "containers": .sequence([.mapping(["name": "agent", "image": "cairn"])]),
                ])])]),
            ])
            _ = try await harness.client.create(ExecutorResource.jobs, namespace: harness.namespace, job)
            let first = try harness.next("0 * * * *")
            try await harness.withScheduler { scheduler in
                try await harness.waitForNextBackup(first)
                // When: the next run comes.
                harness.clock.advance(to: first.addingTimeInterval(1))
                // Then: the new run exists, the old session is gone and its Job went with it.
                try await eventually("only the new run to remain", .seconds(20)) {
                    try await harness.sessions().map(\.metadata.name) == [Self.name(first)]
                }
                try await eventually("the old session's Job to be collected", .seconds(20)) {
                    try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items.isEmpty
                }
                let events = try await eventually("a Replaced Event", .seconds(20)) {
                    let found = try await harness.events(reason: "Replaced")
                    return found.isEmpty ? nil : found
                }
                #expect(events[0]["message"]?.string
                    == "deleted active BackupSession deployment-pg-hourly-manual and its Job for the newer run \(Self.name(first)), as concurrencyPolicy is Replace")
                #expect(scheduler.statistics.replaced == 1)
                #expect(scheduler.statistics.created == 1)
                #expect(try await harness.sessions().first?.status?.phase != .skipped)
            }
        }
    }

    @Test func givenAnInvalidSchedule_thenTheConditionAndAWarningNameTheField_andFixingItClearsThem() async throws {
        try await SchedulerHarness.with { harness in
            try await harness.createConfiguration([SessionSpec(name: "hourly", schedule: "61 * * * *")])
            let message = #"sessions[0].schedule "61 * * * *": minute 61 is out of range 0-59"#
            try await harness.withScheduler { _ in
                let condition = try await eventually("the Scheduled condition to be False", .seconds(20)) {
                    try await harness.configurationNow().status?.conditions?.first { $0.type == "Scheduled" && $0.status == .false }
                }
                #expect(condition.reason == "ScheduleInvalid")
                #expect(condition.message == message)
                let events = try await eventually("a ScheduleInvalid Event", .seconds(20)) {
                    let found = try await harness.events(reason: "ScheduleInvalid")
                    return found.isEmpty ? nil : found
                }
                #expect(events[0]["message"]?.string == message)
                #expect(events[0]["type"]?.string == "Warning")

                var fixed = try await harness.configurationNow()
                fixed.spec.sessions[0].schedule = "0 * * * *"
                _ = try await harness.client.update(ExecutorResource.configurations, namespace: harness.namespace, fixed)
                try await harness.waitForNextBackup(try harness.next("0 * * * *"))
                let cleared = try await harness.configurationNow().status?.conditions?.first { $0.type == "Scheduled" }
                #expect(cleared?.status == .true)
                #expect(cleared?.reason == "ScheduleValid")
            }
        }
    }
}

/// The scheduler and the session runner as `cairn controller` runs them: on one set of shared
/// informers, so that both read a single cache of BackupSessions.
@Suite struct SharedInformerWiringTests {
    @Test func givenASchedulerAndARunnerOnSharedInformers_whenARunIsDue_thenTheSchedulerCreatesItAndTheRunnerTakesItUp() async throws {
        try await SchedulerHarness.with { harness in
            try await harness.createConfiguration([SchedulerTests.hourly])  // its storage does not exist
            let first = try harness.next("0 * * * *")
            let informers = SharedInformers(client: harness.client)
            let scheduler = Scheduler(client: harness.client, clock: harness.clock, options: .init(namespace: harness.namespace), informers: informers)
            let runner = SessionRunner(client: harness.client, options: .init(namespace: harness.namespace), informers: informers)
            #expect(informers.count == 3, "configurations, sessions and Jobs, each once")

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await informers.run() }
                group.addTask { await scheduler.run() }
                group.addTask { await runner.run() }
                defer { group.cancelAll() }
                try await withDeadline("the shared informers to sync", .seconds(20)) {
                    try await scheduler.waitForSync()
                    try await runner.waitForSync()
                }
                harness.clock.advance(to: first.addingTimeInterval(1))
                try await eventually("the runner to finish the scheduled session", .seconds(20)) {
                    try await harness.sessions().first?.status?.phase == .failed
                }
                let sessions = try await harness.sessions()
                #expect(sessions.map(\.metadata.name) == [SchedulerTests.name(first)])
                #expect(sessions.first?.status?.reason == "StorageNotFound")
                #expect(scheduler.statistics.created == 1)
            }
        }
    }
}
