import CairnAPI
import CairnTesting
import Executor
import Foundation
import Testing
import YAML

/// Sixty simulated days of snapshots, labelled by ``RetentionPlanner`` as they come, checked against
/// real restic's `forget --dry-run` over the same snapshot times.
@Suite struct RetentionResticTests {
    static let zoneName = "Europe/Berlin"  // the simulation crosses the end of summer time on 2026-10-25
    static let retention = Retention(keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 2)
    static let resticPolicy = ["--keep-last", "3", "--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "2"]
    static let reasons = [
        "last snapshot": RetentionLabel.last, "daily snapshot": RetentionLabel.daily,
        "weekly snapshot": RetentionLabel.weekly, "monthly snapshot": RetentionLabel.monthly,
    ]

    /// Two to four snapshots a day from 2026-09-01, at irregular local times (never 02:00-03:00,
    /// which is ambiguous on the day summer time ends).
    static func snapshotTimes() -> [(local: String, date: Date)] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zoneName)!
        var times: [(String, Date)] = []
        for day in 0..<60 {
            for index in 0..<(2 + day % 3) {
                let hour = [0, 6, 12, 18][index] + (day * 5 + index) % 5
                let minute = (day * 7 + index * 13) % 60
                var components = DateComponents(year: 2026, month: 9, day: 1 + day, hour: hour, minute: minute)
                components.timeZone = calendar.timeZone
                let date = calendar.date(from: components)!
                let parts = calendar.dateComponents([.year, .month, .day], from: date)
                let local = String(format: "%04d-%02d-%02d %02d:%02d:00", parts.year!, parts.month!, parts.day!, hour, minute)
                times.append((local, date))
            }
        }
        return times
    }

    struct Simulated {
        var labels: [String: [String: String]] = [:]
        var times: [String: Date] = [:]
        var markedAt: [String: Date] = [:]
        var swept: [String] = []
    }

    @Test func givenSixtyDaysOfSnapshots_whenRetentionRunsAfterEach_thenTheLabelledSnapshotsAreThoseResticKeeps() async throws {
        let times = Self.snapshotTimes()
        let pinned: Set<String> = ["snap-004", "snap-050"]
        let grace: TimeInterval = 86_400
        var state = Simulated()
        for (index, time) in times.enumerated() {
            let name = String(format: "snap-%03d", index)
            state.times[name] = time.date
            state.labels[name] = pinned.contains(name) ? [RetentionLabel.keep: "true"] : [:]
            try Self.runRetention(&state, now: time.date, grace: grace)
        }
        #expect(state.swept.count > 100)
        for name in pinned {
            #expect(state.labels[name]?[RetentionLabel.keep] == "true", "\(name) is pinned and survives")
            #expect(state.labels[name]?[RetentionLabel.deleteAfter] == nil)
        }

        let kept = try await Self.resticKeeps(times.map(\.local))
        let labelled = state.labels.filter { _, labels in RetentionLabel.periods.contains { labels[$0] != nil } }
        var ours: [Date: Set<String>] = [:]
        for (name, labels) in labelled { ours[state.times[name]!] = Set(labels.keys).intersection(RetentionLabel.periods) }
        #expect(kept.count >= 10)  // 3 last, 7 daily, 4 weekly and 2 monthly, some overlapping
        #expect(ours.count == kept.count)
        #expect(ours == kept)
    }

    /// Plans once at `now`, applies the label changes, sweeps what is due, and checks the grace.
    static func runRetention(_ state: inout Simulated, now: Date, grace: TimeInterval) throws {
        let facts = state.labels.map { name, labels in RetentionPlanner.SnapshotFact(name: name, time: state.times[name]!, labels: labels) }
        let decisions = RetentionPlanner.plan(facts, retention: retention, timeZone: TimeZone(identifier: zoneName)!, now: now, grace: grace)
        for decision in decisions {
            for (key, value) in decision.changes { state.labels[decision.name]?[key] = value }
            if decision.labels[RetentionLabel.deleteAfter] == nil {
                state.markedAt[decision.name] = nil
            } else if state.markedAt[decision.name] == nil {
                state.markedAt[decision.name] = now
            }
            guard decision.sweep else { continue }
            let marked = try #require(state.markedAt[decision.name])
            #expect(now.timeIntervalSince(marked) >= grace, "\(decision.name) swept before its grace ran out")
            state.labels[decision.name] = nil
            state.swept.append(decision.name)
        }
    }

    /// Backs up a tiny directory once per local time with real restic, then asks `forget
    /// --dry-run --json` which it keeps: each kept snapshot's time and the labels its reasons name.
    static func resticKeeps(_ localTimes: [String]) async throws -> [Date: Set<String>] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-retention-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }  // best-effort cleanup of a temporary directory
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("retention\n".utf8).write(to: data.appendingPathComponent("file"))
        try Data("test-password\n".utf8).write(to: directory.appendingPathComponent("password"))
        let base = ["TZ=\(zoneName)", "restic", "--repo", directory.appendingPathComponent("repo").path,
                    "--password-file", directory.appendingPathComponent("password").path, "--no-cache"]
        try await restic(base + ["init", "--quiet"])
        // Backups take restic's shared lock, so two run at once; more would starve the suites
        // running beside this one on two cores (each restic spends ~0.5 s of CPU deriving its key).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, time) in localTimes.enumerated() {
                if index >= 2 { try await group.next() }
                group.addTask { try await restic(base + ["backup", "--quiet", "--time", time, "--host", "h", "--tag", "t", data.path]) }
            }
            try await group.waitForAll()
        }
        let output = try await restic(base + ["forget", "--dry-run", "--json"] + resticPolicy)
        let groups = try #require(try JSON.parse(output).sequence)
        try #require(groups.count == 1)
        var kept: [Date: Set<String>] = [:]
        for reason in try #require(groups[0]["reasons"]?.sequence) {
            let time = try #require(reason[path: "snapshot", "time"]?.string.flatMap { ISO8601DateFormatter().date(from: $0) })
            kept[time] = Set(try #require(reason["matches"]?.sequence).compactMap { $0.string.flatMap { reasons[$0] } })
        }
        #expect(kept.count == groups[0]["keep"]?.sequence?.count)
        return kept
    }

    @discardableResult
    static func restic(_ arguments: [String]) async throws -> String {
        let result = try await Processes.run("/usr/bin/env", arguments)
        guard result.status == 0 else {
            throw HarnessError(description: "restic \(arguments.dropFirst(6).joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }
}
