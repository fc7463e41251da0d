import CairnAPI
import Foundation

/// Decides the retention labels of one group of snapshots (one configuration, session and PVC),
/// which ones to mark for deletion and which marked ones to sweep. Pure.
///
/// Periods follow restic's `forget --keep-*` exactly: walking the snapshots newest first, each rule
/// keeps a snapshot when its period (hour, day, ISO week, month, year in the session's time zone)
/// differs from the last period that rule kept, until the rule's count is used up; so
/// `keepDaily: 7` keeps the newest snapshot of each of the 7 newest days that have snapshots. A
/// kept snapshot carries its period as a label (see ``RetentionLabel``).
///
/// Mark and sweep:
/// - A snapshot with no period label that is not pinned (`cairn.dev/keep=true`) is marked
///   `cairn.dev/delete-after=<now + grace>`; a mark already there keeps its date.
/// - A marked snapshot that regains a period label, or is pinned, is unmarked.
/// - A marked snapshot whose date has come is to be swept.
/// - A retention with no rule at all keeps everything, as restic refuses to forget without a policy.
public enum RetentionPlanner {
    /// What the planner needs to know of one snapshot.
    public struct SnapshotFact: Sendable, Equatable {
        public var name: String
        public var time: Date
        /// The snapshot's current labels.
        public var labels: [String: String]

        /// Creates a fact.
        public init(name: String, time: Date, labels: [String: String] = [:]) {
            self.name = name
            self.time = time
            self.labels = labels
        }

        /// Whether `cairn.dev/keep=true` pins it.
        public var isPinned: Bool { labels[RetentionLabel.keep] == "true" }
    }

    /// The decision for one snapshot.
    public struct Decision: Sendable, Equatable {
        public var name: String
        /// The retention labels it should carry (period labels and `delete-after`), and no others.
        public var labels: [String: String]
        /// The label changes from its current labels: a value to set, nil to remove.
        public var changes: [String: String?]
        /// Whether it is marked and past its date: forget it and delete the object.
        public var sweep: Bool

        /// Whether a period keeps it.
        public var isKept: Bool { RetentionLabel.periods.contains { labels[$0] != nil } }
    }

    /// One day.
    public static let defaultGrace: TimeInterval = 86_400

    /// Plans retention for one group; the decisions come newest first.
    public static func plan(_ snapshots: [SnapshotFact], retention: Retention, timeZone: TimeZone,
                            now: Date, grace: TimeInterval = defaultGrace) -> [Decision] {
        let ordered = snapshots.sorted { ($0.time, $0.name) > ($1.time, $1.name) }
        let rules = Rule.rules(retention, timeZone: timeZone)
        var kept = Array(repeating: [String: String](), count: ordered.count)
        for var rule in rules {
            for (index, snapshot) in ordered.enumerated() {
                guard rule.remaining != 0 else { break }
                let period = rule.period(snapshot.time, index)
                guard period != rule.lastPeriod else { continue }
                rule.lastPeriod = period
                rule.remaining -= rule.remaining > 0 ? 1 : 0
                kept[index][rule.label] = rule.label == RetentionLabel.last ? "true" : period
            }
        }
        return ordered.indices.map { index in
            decide(ordered[index], periods: kept[index], keepAll: rules.isEmpty, now: now, grace: grace)
        }
    }

    private static func decide(_ snapshot: SnapshotFact, periods: [String: String], keepAll: Bool,
                               now: Date, grace: TimeInterval) -> Decision {
        var labels = periods
        var sweep = false
        if periods.isEmpty, !snapshot.isPinned, !keepAll {
            let existing = snapshot.labels[RetentionLabel.deleteAfter]
            let date = existing.flatMap(parseDeleteAfter) ?? now.addingTimeInterval(grace)
            labels[RetentionLabel.deleteAfter] = deleteAfterValue(date)
            sweep = date <= now
        }
        var changes: [String: String?] = [:]
        for key in RetentionLabel.managed where snapshot.labels[key] != labels[key] {
            changes[key] = .some(labels[key])
        }
        return Decision(name: snapshot.name, labels: labels, changes: changes, sweep: sweep)
    }

    /// `20261122T013000Z`: the time in UTC, as a valid label value.
    public static func deleteAfterValue(_ date: Date) -> String {
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                      parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    /// Reads a ``deleteAfterValue(_:)``; nil for anything else.
    public static func parseDeleteAfter(_ value: String) -> Date? {
        let digits = Array(value.utf8)
        guard digits.count == 16, digits[8] == UInt8(ascii: "T"), digits[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard digits[range].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
            return Int(String(decoding: digits[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15) else { return nil }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard components.isValidDate(in: utc) else { return nil }
        return utc.date(from: components)
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

/// One `keep*` rule: its label, how many it may still keep (-1 for all), and its period function.
private struct Rule {
    let label: String
    var remaining: Int
    var lastPeriod: String?
    let period: (Date, Int) -> String

    static func rules(_ retention: Retention, timeZone: TimeZone) -> [Rule] {
        // Gregorian with ISO 8601 weeks: they start on Monday, and week 1 holds the year's first Thursday.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        func stamp(_ date: Date, _ units: Set<Calendar.Component>) -> DateComponents { calendar.dateComponents(units, from: date) }
        let candidates: [(String, Int?, (Date, Int) -> String)] = [
            (RetentionLabel.last, retention.keepLast, { _, index in "\(index)" }),
            (RetentionLabel.hourly, retention.keepHourly, { date, _ in
                let c = stamp(date, [.year, .month, .day, .hour])
                return String(format: "%04d-%02d-%02dT%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0)
            }),
            (RetentionLabel.daily, retention.keepDaily, { date, _ in
                let c = stamp(date, [.year, .month, .day])
                return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
            }),
            (RetentionLabel.weekly, retention.keepWeekly, { date, _ in
                let c = stamp(date, [.yearForWeekOfYear, .weekOfYear])
                return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
            }),
            (RetentionLabel.monthly, retention.keepMonthly, { date, _ in
                let c = stamp(date, [.year, .month])
                return String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
            }),
            (RetentionLabel.yearly, retention.keepYearly, { date, _ in String(format: "%04d", stamp(date, [.year]).year ?? 0) }),
        ]
        return candidates.compactMap { label, count, period in
            guard let count, count != 0 else { return nil }
            return Rule(label: label, remaining: count < 0 ? -1 : count, period: period)
        }
    }
}
