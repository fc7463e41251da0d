import Foundation

/// A session's schedule: a 5-field cron expression, a macro (`@daily`) or a random schedule
/// (`@daily-random`), read in an IANA time zone.
///
/// The fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12 or `jan`-`dec`) and
/// day of week (0-7 or `sun`-`sat`, Sunday as 0 or 7). Each is `*`, a value, a range `a-b`, a step
/// `*/n`, `a-b/n` or `a/n` (from `a` to the field's end), or a comma-separated list of those. When
/// both day of month and day of week are restricted, a day matching either runs, as in Vixie cron.
///
/// A random schedule is a concrete expression whose minute, hour, weekday or day of month come from
/// a stable hash (64-bit FNV-1a) of its seed, `namespace/configuration/session`: the same session
/// always gets the same time, and ``effectiveExpression`` shows which.
///
/// Time is read as Kubernetes CronJob reads it, through robfig/cron v3's `Next`: hours and minutes
/// advance in absolute time, so across daylight saving time
/// - a time inside the spring-forward gap (02:30 when clocks jump from 02:00 to 03:00) does not
///   exist on that day and is skipped; the run comes the next day;
/// - a time inside the repeated autumn hour (01:30 when clocks fall back from 02:00 to 01:00) runs
///   twice, once in each offset, an hour apart (kubernetes/kubernetes#121594 reports the same of
///   CronJob); the two runs get two session names, since names carry the UTC minute;
/// - schedules that name every hour (`*/15 * * * *`) keep their absolute spacing.
public struct CronSchedule: Sendable, Equatable {
    /// The expression as written.
    public let expression: String
    /// The concrete 5-field expression used: a macro expanded, a random schedule's choice filled in.
    public let effectiveExpression: String
    /// The zone the fields are read in.
    public let timeZone: TimeZone

    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    /// Whether day of month or day of week is unrestricted (`*`), which makes the day rule an AND.
    let dayIsAnd: Bool

    /// Parses `expression` in `timeZone` (UTC when nil); `seed` picks a random schedule's time, and
    /// `path` (`sessions[0]`) prefixes the field names in errors.
    public init(_ expression: String, timeZone: String? = nil, seed: String = "", path: String = "") throws {
        let field = { (name: String) in path.isEmpty ? name : "\(path).\(name)" }
        self.expression = expression
        self.timeZone = try Self.zone(timeZone, path: field("timeZone"))
        let concrete = try Self.expand(expression, seed: seed, path: field("schedule"))
        effectiveExpression = concrete
        let parts = concrete.split(whereSeparator: \.isWhitespace).map(String.init)
        var parser = FieldParser(expression: expression, path: field("schedule"))
        minutes = try parser.parse(parts[0], .minute)
        hours = try parser.parse(parts[1], .hour)
        daysOfMonth = try parser.parse(parts[2], .dayOfMonth)
        months = try parser.parse(parts[3], .month)
        var weekdays = try parser.parse(parts[4], .dayOfWeek)
        if weekdays & (1 << 7) != 0 { weekdays = (weekdays & ~(1 << 7)) | 1 }  // Sunday as 7
        daysOfWeek = weekdays
        dayIsAnd = parser.stars.contains(.dayOfMonth) || parser.stars.contains(.dayOfWeek)
        try checkFires(path: field("schedule"))
    }

    /// The first run strictly after `time`; nil only if none comes within eight years.
    public func next(after time: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var t = Date(timeIntervalSince1970: time.timeIntervalSince1970.rounded(.down) + 1)
        var truncated = false
        let yearLimit = calendar.component(.year, from: t) + 8
        while true {
            let now = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: t)
            guard let year = now.year, year <= yearLimit, let month = now.month, let day = now.day,
                  let hour = now.hour, let minute = now.minute, let second = now.second, let weekday = now.weekday
            else { return nil }
            if !Self.has(months, month) {
                guard let interval = calendar.dateInterval(of: .month, for: t) else { return nil }
                (t, truncated) = (interval.end, true)
            } else if !dayMatches(day: day, weekday: weekday - 1) {
                guard let interval = calendar.dateInterval(of: .day, for: t) else { return nil }
                (t, truncated) = (interval.end, true)
            } else if !Self.has(hours, hour) {
                if !truncated { (t, truncated) = (t.addingTimeInterval(-Double(minute * 60 + second)), true) }
                t = t.addingTimeInterval(3600)
            } else if !Self.has(minutes, minute) {
                if !truncated { (t, truncated) = (t.addingTimeInterval(-Double(second)), true) }
                // Jump to the next listed minute of this hour, or to the next hour's start.
                let later = stride(from: minute + 1, through: 59, by: 1).first { Self.has(minutes, $0) } ?? 60
                t = t.addingTimeInterval(Double((later - minute) * 60))
            } else if second != 0 {
                (t, truncated) = (t.addingTimeInterval(Double(60 - second)), true)
            } else {
                return t
            }
        }
    }

    /// The latest run in `(after, through]`, if any, without stepping through every run since a
    /// distant `after`: it looks back over windows that double until one holds a run.
    public func latest(after: Date, through: Date) -> Date? {
        guard after < through else { return nil }
        var window: TimeInterval = 120
        while true {
            let start = max(after, through.addingTimeInterval(-window))
            var found: Date?
            var cursor = start
            while let run = next(after: cursor), run <= through {
                found = run
                cursor = run
            }
            if found != nil || start == after { return found }
            window *= 2
        }
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let dayOfMonth = Self.has(daysOfMonth, day)
        let dayOfWeek = Self.has(daysOfWeek, weekday)
        return dayIsAnd ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
    }

    private static func has(_ set: UInt64, _ value: Int) -> Bool { set & (1 << UInt64(value)) != 0 }

    /// Refuses an expression that no date matches, such as `0 0 30 2 *` (February 30th).
    private func checkFires(path: String) throws {
        guard dayIsAnd, daysOfWeek & 0x7F == 0x7F else { return }
        let longest = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let fires = (1...12).contains { month in
            Self.has(months, month) && (1...longest[month]).contains { Self.has(daysOfMonth, $0) }
        }
        guard !fires else { return }
        throw ScheduleError(.neverFires, path: path, value: expression,
                            reason: "no month listed has the days of month listed, so it never runs; pick days that exist in those months")
    }
}

// MARK: - Time zones and macros

extension CronSchedule {
    private static func zone(_ name: String?, path: String) throws -> TimeZone {
        guard let name, !name.isEmpty else { return TimeZone(identifier: "UTC")! }
        // Foundation also accepts abbreviations ("EST") and offsets ("GMT+1"); Kubernetes takes IANA names only.
        guard TimeZone.knownTimeZoneIdentifiers.contains(name) || name == "UTC", let zone = TimeZone(identifier: name) else {
            throw ScheduleError(.timeZone, path: path, value: name,
                                reason: "not an IANA time zone name; write one such as \"UTC\", \"Europe/Berlin\" or \"America/New_York\"")
        }
        return zone
    }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    static let randomMacros = ["@hourly-random", "@daily-random", "@weekly-random", "@monthly-random"]

    /// The 5-field expression behind `expression`.
    private static func expand(_ expression: String, seed: String, path: String) throws -> String {
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("@") {
            let word = trimmed.lowercased()
            if let fields = macros[word] { return fields }
            if randomMacros.contains(word) { return random(word, seed: seed) }
            let known = (macros.keys.sorted() + randomMacros).joined(separator: ", ")
            throw ScheduleError(.unknownMacro, path: path, value: expression, reason: "unknown macro \(trimmed); use one of \(known)")
        }
        if trimmed.hasPrefix("TZ=") || trimmed.hasPrefix("CRON_TZ=") {
            throw ScheduleError(.syntax, path: path, value: expression,
                                reason: "a time zone inside the schedule is not supported; remove it and set \(path.dropLast("schedule".count))timeZone instead")
        }
        let parts = trimmed.split(whereSeparator: \.isWhitespace)
        guard parts.count == 5 else {
            let hint = parts.count == 6 ? " (seconds are not supported)" : ""
            throw ScheduleError(.fieldCount, path: path, value: expression,
                                reason: "expected 5 fields (minute hour day-of-month month day-of-week), found \(parts.count)\(hint); for example \"30 1 * * *\" or \"@daily\"")
        }
        return parts.joined(separator: " ")
    }

    /// A random macro's concrete fields, chosen by the seed's hash.
    private static func random(_ macro: String, seed: String) -> String {
        var hash = fnv1a(seed)
        func pick(_ count: UInt64) -> UInt64 {
            defer { hash /= count }
            return hash % count
        }
        let minute = pick(60)
        switch macro {
        case "@hourly-random": return "\(minute) * * * *"
        case "@daily-random": return "\(minute) \(pick(24)) * * *"
        case "@weekly-random":
            let hour = pick(24)
            return "\(minute) \(hour) * * \(pick(7))"
        default:
            let hour = pick(24)
            return "\(minute) \(hour) \(pick(28) + 1) * *"  // days 1-28 exist in every month
        }
    }

    /// 64-bit FNV-1a over the UTF-8 bytes: stable across processes, unlike `hashValue`.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

// MARK: - Fields

/// One of the five fields, with its range and names.
enum CronField: String, Sendable, CaseIterable {
    case minute, hour
    case dayOfMonth = "day of month"
    case month
    case dayOfWeek = "day of week"

    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// The values `*` and an open step `a/n` run over: day of week stops at 6, so `*/2` or `1/2`
    /// never adds Sunday twice (as 7), as in robfig/cron.
    var stepRange: ClosedRange<Int> { self == .dayOfWeek ? 0...6 : range }

    var names: [String: Int] {
        switch self {
        case .month:
            Dictionary(uniqueKeysWithValues: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
                .enumerated().map { ($1, $0 + 1) })
        case .dayOfWeek:
            Dictionary(uniqueKeysWithValues: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"].enumerated().map { ($1, $0) })
        default: [:]
        }
    }
}

/// Parses fields into bit sets, remembering which were unrestricted.
struct FieldParser {
    let expression: String
    let path: String
    var stars: Set<CronField> = []

    mutating func parse(_ text: String, _ field: CronField) throws -> UInt64 {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try parseItem(String(item), field)
        }
        return bits
    }

    private mutating func parseItem(_ item: String, _ field: CronField) throws -> UInt64 {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else { throw syntax(field, item, "expected a value, a range a-b, * or a step such as */5") }
        let step = try parts.count == 2 ? parseStep(parts[1], field, item) : 1
        var bounds: ClosedRange<Int>
        if parts[0] == "*" || parts[0] == "?" {
            bounds = field.stepRange
            if step == 1 { stars.insert(field) }
        } else {
            let ends = parts[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard (1...2).contains(ends.count) else { throw syntax(field, item, "a range has one dash, as in 1-5") }
            let low = try value(ends[0], field)
            let high = try ends.count == 2 ? value(ends[1], field) : (parts.count == 2 ? field.stepRange.upperBound : low)
            guard low <= high else {
                throw syntax(field, item, "the range \(parts[0]) runs backwards; write the smaller value first (\(high)-\(low)) or list both parts")
            }
            bounds = low...high
        }
        var bits: UInt64 = 0
        for value in stride(from: bounds.lowerBound, through: bounds.upperBound, by: step) { bits |= 1 << UInt64(value) }
        return bits
    }

    private func parseStep(_ text: String, _ field: CronField, _ item: String) throws -> Int {
        guard let step = Int(text), text.allSatisfy(\.isASCII) else { throw syntax(field, item, "the step \"\(text)\" is not a number") }
        guard step >= 1 else { throw syntax(field, item, "the step must be at least 1") }
        return step
    }

    private func value(_ text: String, _ field: CronField) throws -> Int {
        if let number = Int(text), text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard field.range.contains(number) else {
                throw ScheduleError(.outOfRange, path: path, value: expression,
                                    reason: "\(field.rawValue) \(number) is out of range \(field.range.lowerBound)-\(field.range.upperBound)")
            }
            return number
        }
        if let named = field.names[text.lowercased()] { return named }
        let hint = field.names.isEmpty ? "use a number" : "use a number or a name such as \(field == .month ? "jan" : "mon")"
        throw ScheduleError(.unknownName, path: path, value: expression, reason: "\(field.rawValue) \"\(text)\" is not a value; \(hint)")
    }

    private func syntax(_ field: CronField, _ item: String, _ detail: String) -> ScheduleError {
        ScheduleError(.syntax, path: path, value: expression, reason: "\(field.rawValue) \"\(item)\": \(detail)")
    }
}
