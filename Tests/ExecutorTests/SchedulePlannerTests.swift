import CairnAPI
import Executor
import Foundation
import Testing

@Suite struct SchedulePlannerTests {
    /// An hourly session `hourly` of configuration `deployment-pg` in `app`.
    static func input(_ schedule: String = "0 * * * *", now: String, last: String? = nil,
                      configure: (inout SchedulePlanner.Input) -> Void = { _ in }) -> SchedulePlanner.Input {
        var input = SchedulePlanner.Input(
            namespace: "app", configuration: "deployment-pg", index: 0, session: SessionSpec(name: "hourly", schedule: schedule),
            now: utc(now))
        input.lastScheduledTime = last.map(utc)
        configure(&input)
        return input
    }

    static func name(_ time: String) -> String {
        SessionNaming.scheduledSession(configuration: "deployment-pg", session: "hourly", scheduledTime: utc(time))
    }

    @Test func givenANewConfiguration_whenPlannedBeforeItsFirstRun_thenNothingIsCreated_andTheNextRunIsNamed() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T10:07:00Z") { $0.createdAt = utc("2026-11-21T10:06:00Z") })
        #expect(plan.action == nil)
        #expect(plan.next == utc("2026-11-21T11:00:00Z"))
        #expect(plan.effectiveSchedule == "0 * * * *")
    }

    @Test func givenTheScheduledTimePassed_whenPlanned_thenOneSessionNamedAfterTheScheduledTimeIsCreated() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T11:00:02Z", last: "2026-11-21T10:00:00Z"))
        #expect(plan.action == .create(name: Self.name("2026-11-21T11:00:00Z"), scheduledTime: utc("2026-11-21T11:00:00Z")))
        #expect(Self.name("2026-11-21T11:00:00Z") == "deployment-pg-hourly-202611211100")
        #expect(plan.next == utc("2026-11-21T12:00:00Z"))
    }

    @Test func givenTheRunIsAlreadyHandled_whenPlannedAgain_thenNothingIsCreated() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T11:30:00Z", last: "2026-11-21T11:00:00Z"))
        #expect(plan.action == nil)
        #expect(plan.missed == nil)
    }

    @Test func givenAnOutageOfTenRuns_whenPlanned_thenOnlyTheLatestMissedRunIsCreated() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T20:10:00Z", last: "2026-11-21T10:00:00Z"))
        #expect(plan.action == .create(name: Self.name("2026-11-21T20:00:00Z"), scheduledTime: utc("2026-11-21T20:00:00Z")))
        // Once that run exists, the ten before it are never made.
        let after = try SchedulePlanner.plan(Self.input(now: "2026-11-21T20:10:00Z", last: "2026-11-21T20:00:00Z"))
        #expect(after.action == nil)
    }

    @Test func givenAnOutage_whenTheLatestRunIsPastTheStartingDeadline_thenNothingIsCreated_andTheMissIsReported() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T20:10:00Z", last: "2026-11-21T10:00:00Z") {
            $0.startingDeadline = "5m"
        })
        #expect(plan.action == nil)
        #expect(plan.missed == utc("2026-11-21T20:00:00Z"))
        #expect(plan.next == utc("2026-11-21T21:00:00Z"))
    }

    @Test func givenAnOutage_whenTheLatestRunIsWithinTheStartingDeadline_thenItIsCreated() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T20:10:00Z", last: "2026-11-21T10:00:00Z") {
            $0.startingDeadline = "15m"
        })
        #expect(plan.action == .create(name: Self.name("2026-11-21T20:00:00Z"), scheduledTime: utc("2026-11-21T20:00:00Z")))
    }

    @Test func givenAPausedSession_whenItsTimePassed_thenNothingIsCreated_andNoNextRunIsShown() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T11:00:02Z", last: "2026-11-21T10:00:00Z") {
            $0.session.paused = true
        })
        #expect(plan.action == nil)
        #expect(plan.next == nil)
    }

    @Test(arguments: [ConcurrencyPolicy?.none, .forbid])
    func givenAnActiveSession_andForbid_whenTheNextRunComes_thenASkippedSessionRecordsIt(_ policy: ConcurrencyPolicy?) throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T11:00:02Z", last: "2026-11-21T10:00:00Z") {
            $0.concurrencyPolicy = policy
            $0.activeSessions = ["deployment-pg-hourly-manual", "deployment-pg-hourly-202611211000"]
        })
        #expect(plan.action == .skip(
            name: Self.name("2026-11-21T11:00:00Z"), scheduledTime: utc("2026-11-21T11:00:00Z"), reason: "ConcurrencyForbidden",
            message: "BackupSession deployment-pg-hourly-202611211000 of session hourly is still active and concurrencyPolicy is Forbid"))
    }

    @Test func givenAnActiveSession_andAllow_whenTheNextRunComes_thenItIsCreatedBesideIt() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T11:00:02Z", last: "2026-11-21T10:00:00Z") {
            $0.concurrencyPolicy = .allow
            $0.activeSessions = ["deployment-pg-hourly-202611211000"]
        })
        #expect(plan.action == .create(name: Self.name("2026-11-21T11:00:00Z"), scheduledTime: utc("2026-11-21T11:00:00Z")))
    }

    @Test func givenTwoActiveSessions_andReplace_whenTheNextRunComes_thenBothAreReplacedByIt() throws {
        let plan = try SchedulePlanner.plan(Self.input(now: "2026-11-21T11:00:02Z", last: "2026-11-21T10:00:00Z") {
            $0.concurrencyPolicy = .replace
            $0.activeSessions = ["deployment-pg-hourly-manual", "deployment-pg-hourly-202611211000"]
        })
        #expect(plan.action == .replace(name: Self.name("2026-11-21T11:00:00Z"), scheduledTime: utc("2026-11-21T11:00:00Z"),
                                        replacing: ["deployment-pg-hourly-202611211000", "deployment-pg-hourly-manual"]))
    }

    @Test func givenNoSessionYet_butARunMissedSinceTheConfigurationWasCreated_whenPlanned_thenThatRunIsCaughtUp() throws {
        let plan = try SchedulePlanner.plan(Self.input("@daily", now: "2026-11-22T00:05:00Z") {
            $0.createdAt = utc("2026-11-21T23:00:00Z")
        })
        #expect(plan.action == .create(
            name: SessionNaming.scheduledSession(configuration: "deployment-pg", session: "hourly", scheduledTime: utc("2026-11-22T00:00:00Z")),
            scheduledTime: utc("2026-11-22T00:00:00Z")))
    }

    @Test func givenARandomSchedule_whenPlanned_thenTheSeedIsNamespaceConfigurationAndSession() throws {
        let plan = try SchedulePlanner.plan(Self.input("@daily-random", now: "2026-11-21T10:00:00Z") { $0.session.name = "nightly" })
        #expect(plan.effectiveSchedule == "42 6 * * *")  // FNV-1a of app/deployment-pg/nightly, as in CronScheduleTests
        #expect(plan.next == utc("2026-11-22T06:42:00Z"))
    }

    @Test func givenABadScheduleInTheThirdSession_whenPlanned_thenTheErrorNamesThatSession() {
        #expect {
            try SchedulePlanner.plan(Self.input("0 25 * * *", now: "2026-11-21T10:00:00Z") { $0.index = 2 })
        } throws: { error in
            "\(error)" == #"sessions[2].schedule "0 25 * * *": hour 25 is out of range 0-23"#
        }
    }

    @Test func givenABadStartingDeadline_whenPlanned_thenTheErrorNamesTheField() {
        #expect {
            try SchedulePlanner.plan(Self.input(now: "2026-11-21T10:00:00Z") { $0.startingDeadline = "5min" })
        } throws: { error in
            "\(error)".hasPrefix(#"startingDeadline "5min": invalid duration "5min": unknown unit "min""#)
        }
    }
}
