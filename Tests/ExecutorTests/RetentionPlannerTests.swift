import CairnAPI
import Executor
import Foundation
import Testing

@Suite struct RetentionPlannerTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let now = utc("2026-11-21T12:00:00Z")

    static func fact(_ name: String, _ time: String, _ labels: [String: String] = [:]) -> RetentionPlanner.SnapshotFact {
        RetentionPlanner.SnapshotFact(name: name, time: utc(time), labels: labels)
    }

    static func plan(_ facts: [RetentionPlanner.SnapshotFact], _ retention: Retention, zone: TimeZone = berlin,
                     now: Date = now) -> [String: RetentionPlanner.Decision] {
        Dictionary(uniqueKeysWithValues: RetentionPlanner.plan(facts, retention: retention, timeZone: zone, now: now).map { ($0.name, $0) })
    }

    static let mark = [RetentionLabel.deleteAfter: "20261122T120000Z"]

    /// A change that removes `key`.
    static func removed(_ key: String) -> [String: String?] { [key: String?.none] }

    @Test func givenKeepLastTwo_whenThreeSnapshots_thenTheNewestTwoAreLabelled_andTheOldestIsMarkedForADay() {
        let decisions = Self.plan([
            Self.fact("a", "2026-11-21T09:00:00Z"), Self.fact("b", "2026-11-21T10:00:00Z"), Self.fact("c", "2026-11-21T11:00:00Z"),
        ], Retention(keepLast: 2))
        #expect(decisions["c"]?.labels == [RetentionLabel.last: "true"])
        #expect(decisions["b"]?.labels == [RetentionLabel.last: "true"])
        #expect(decisions["a"]?.labels == Self.mark)
        #expect(decisions["a"]?.changes == [RetentionLabel.deleteAfter: "20261122T120000Z"])
        #expect(decisions["a"]?.sweep == false)
    }

    @Test func givenKeepDailyTwo_whenThreeDaysOfTwoSnapshots_thenTheNewestOfEachOfTheTwoNewestDaysIsLabelled() {
        let decisions = Self.plan([
            Self.fact("d1-early", "2026-11-19T08:00:00Z"), Self.fact("d1-late", "2026-11-19T20:00:00Z"),
            Self.fact("d2-early", "2026-11-20T08:00:00Z"), Self.fact("d2-late", "2026-11-20T20:00:00Z"),
            Self.fact("d3-early", "2026-11-21T08:00:00Z"), Self.fact("d3-late", "2026-11-21T10:00:00Z"),
        ], Retention(keepDaily: 2))
        #expect(decisions["d3-late"]?.labels == [RetentionLabel.daily: "2026-11-21"])
        #expect(decisions["d2-late"]?.labels == [RetentionLabel.daily: "2026-11-20"])
        for name in ["d1-early", "d1-late", "d2-early", "d3-early"] { #expect(decisions[name]?.labels == Self.mark, "\(name)") }
    }

    struct PeriodCase: Sendable, CustomTestStringConvertible {
        let time: String
        let zone: String
        let retention: Retention
        let label: String
        let value: String
        var testDescription: String { "\(label) of \(time) in \(zone)" }
    }

    static let periodCases: [PeriodCase] = [
        PeriodCase(time: "2026-11-21T13:45:00Z", zone: "UTC", retention: Retention(keepHourly: 1), label: RetentionLabel.hourly, value: "2026-11-21T13"),
        PeriodCase(time: "2026-11-21T13:45:00Z", zone: "Europe/Berlin", retention: Retention(keepHourly: 1), label: RetentionLabel.hourly, value: "2026-11-21T14"),
        // 23:30 UTC is already the next day in Berlin.
        PeriodCase(time: "2026-11-21T23:30:00Z", zone: "Europe/Berlin", retention: Retention(keepDaily: 1), label: RetentionLabel.daily, value: "2026-11-22"),
        PeriodCase(time: "2026-11-21T23:30:00Z", zone: "UTC", retention: Retention(keepDaily: 1), label: RetentionLabel.daily, value: "2026-11-21"),
        PeriodCase(time: "2026-11-21T10:00:00Z", zone: "UTC", retention: Retention(keepWeekly: 1), label: RetentionLabel.weekly, value: "2026-W47"),
        // 2027-01-02 belongs to the last ISO week of 2026, and 2026-12-28 to that week too.
        PeriodCase(time: "2027-01-02T10:00:00Z", zone: "UTC", retention: Retention(keepWeekly: 1), label: RetentionLabel.weekly, value: "2026-W53"),
        PeriodCase(time: "2025-12-29T10:00:00Z", zone: "UTC", retention: Retention(keepWeekly: 1), label: RetentionLabel.weekly, value: "2026-W01"),
        PeriodCase(time: "2026-11-30T23:30:00Z", zone: "Europe/Berlin", retention: Retention(keepMonthly: 1), label: RetentionLabel.monthly, value: "2026-12"),
        PeriodCase(time: "2026-12-31T23:30:00Z", zone: "Europe/Berlin", retention: Retention(keepYearly: 1), label: RetentionLabel.yearly, value: "2027"),
    ]

    @Test(arguments: periodCases)
    func givenOneSnapshot_whenItsPeriodIsKept_thenTheLabelValueIsThePeriodInTheZone(_ row: PeriodCase) throws {
        let decisions = Self.plan([Self.fact("s", row.time)], row.retention, zone: try #require(TimeZone(identifier: row.zone)))
        #expect(decisions["s"]?.labels == [row.label: row.value])
    }

    @Test func givenAPinnedSnapshotNoPeriodKeeps_whenPlanned_thenItIsNotMarked_andAnOldMarkIsRemoved() {
        let decisions = Self.plan([
            Self.fact("old", "2026-11-19T08:00:00Z", [RetentionLabel.keep: "true", RetentionLabel.deleteAfter: "20261120T000000Z"]),
            Self.fact("new", "2026-11-21T08:00:00Z"),
        ], Retention(keepLast: 1))
        #expect(decisions["old"]?.labels == [:])
        #expect(decisions["old"]?.changes == Self.removed(RetentionLabel.deleteAfter))
        #expect(decisions["old"]?.sweep == false)
    }

    @Test func givenAMarkedSnapshotThatRegainsAPeriod_whenPlanned_thenItIsUnmarked() {
        let decisions = Self.plan([Self.fact("s", "2026-11-21T08:00:00Z", [RetentionLabel.deleteAfter: "20261122T000000Z"])],
                                  Retention(keepDaily: 3))
        #expect(decisions["s"]?.labels == [RetentionLabel.daily: "2026-11-21"])
        #expect(decisions["s"]?.changes == [RetentionLabel.daily: "2026-11-21", RetentionLabel.deleteAfter: String?.none] as [String: String?])
    }

    @Test(arguments: [("20261121T115959Z", true), ("20261121T120000Z", true), ("20261121T120001Z", false)])
    func givenAMarkedSnapshot_whenItsDateHasOrHasNotCome_thenItIsSweptOnlyOnceItHas(_ mark: String, _ swept: Bool) {
        let decisions = Self.plan([
            Self.fact("old", "2026-11-19T08:00:00Z", [RetentionLabel.deleteAfter: mark]), Self.fact("new", "2026-11-21T08:00:00Z"),
        ], Retention(keepLast: 1))
        #expect(decisions["old"]?.sweep == swept)
        #expect(decisions["old"]?.labels == [RetentionLabel.deleteAfter: mark])  // the mark keeps its date
        #expect(decisions["old"]?.changes == [:])
    }

    @Test func givenAMalformedMark_whenPlanned_thenItIsReplacedByAFreshOne_andNothingIsSwept() {
        let decisions = Self.plan([
            Self.fact("old", "2026-11-19T08:00:00Z", [RetentionLabel.deleteAfter: "tomorrow"]), Self.fact("new", "2026-11-21T08:00:00Z"),
        ], Retention(keepLast: 1))
        #expect(decisions["old"]?.labels == Self.mark)
        #expect(decisions["old"]?.sweep == false)
    }

    @Test func givenARetentionWithNoRule_whenPlanned_thenEverythingIsKept_andNothingIsMarked() {
        let decisions = Self.plan([Self.fact("a", "2026-11-19T08:00:00Z", Self.mark), Self.fact("b", "2026-11-21T08:00:00Z")], Retention())
        #expect(decisions["a"]?.labels == [:])
        #expect(decisions["a"]?.changes == Self.removed(RetentionLabel.deleteAfter))
        #expect(decisions["b"]?.changes == [:])
    }

    @Test func givenStaleLabelsFromAnEarlierPlan_whenPlanned_thenLabelsThatNoLongerHoldAreRemoved() {
        let decisions = Self.plan([
            Self.fact("a", "2026-11-20T08:00:00Z", [RetentionLabel.daily: "2026-11-20", RetentionLabel.last: "true", "app": "db"]),
            Self.fact("b", "2026-11-21T08:00:00Z"),
        ], Retention(keepLast: 1, keepDaily: 2))
        #expect(decisions["a"]?.labels == [RetentionLabel.daily: "2026-11-20"])
        #expect(decisions["a"]?.changes == Self.removed(RetentionLabel.last))  // `app` is not retention's
        #expect(decisions["b"]?.labels == [RetentionLabel.last: "true", RetentionLabel.daily: "2026-11-21"])
    }

    @Test func givenADeleteAfterValue_thenItIsAValidLabelValue_andReadsBack() throws {
        let value = RetentionPlanner.deleteAfterValue(utc("2026-11-22T01:30:00Z"))
        #expect(value == "20261122T013000Z")
        #expect(value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(RetentionPlanner.parseDeleteAfter(value) == utc("2026-11-22T01:30:00Z"))
        #expect(RetentionPlanner.parseDeleteAfter("20261322T013000Z") == nil)
        #expect(RetentionPlanner.parseDeleteAfter("2026-11-22") == nil)
    }
}
