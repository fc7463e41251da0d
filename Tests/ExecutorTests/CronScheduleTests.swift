import Executor
import Foundation
import Testing

/// `2026-11-21T10:07:00Z` as a date.
func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: text) else { fatalError("not an RFC 3339 time in a test table: \(text)") }
    return date
}

@Suite struct CronScheduleTests {
    struct NextCase: Sendable, CustomTestStringConvertible {
        let expression: String
        let zone: String?
        let after: String
        let expected: String
        var testDescription: String { "\(expression) in \(zone ?? "UTC") after \(after)" }
        init(_ expression: String, _ zone: String? = nil, after: String, _ expected: String) {
            (self.expression, self.zone, self.after, self.expected) = (expression, zone, after, expected)
        }
    }

    // 2026-11-21 is a Saturday.
    static let nextCases: [NextCase] = [
        NextCase("*/15 * * * *", after: "2026-11-21T10:07:00Z", "2026-11-21T10:15:00Z"),
        NextCase("5/20 * * * *", after: "2026-11-21T10:07:00Z", "2026-11-21T10:25:00Z"),
        NextCase("30 1 * * *", after: "2026-11-21T01:30:00Z", "2026-11-22T01:30:00Z"),
        NextCase("30 1 * * *", after: "2026-11-21T01:29:59Z", "2026-11-21T01:30:00Z"),
        NextCase("0 0 * * 0", after: "2026-11-21T10:00:00Z", "2026-11-22T00:00:00Z"),
        NextCase("0 0 * * 7", after: "2026-11-21T10:00:00Z", "2026-11-22T00:00:00Z"),
        NextCase("0 0 * * 5-7", after: "2026-11-21T10:00:00Z", "2026-11-22T00:00:00Z"),
        NextCase("0 9 * * mon-fri", after: "2026-11-21T10:00:00Z", "2026-11-23T09:00:00Z"),
        NextCase("0 9 * * MON", after: "2026-11-21T10:00:00Z", "2026-11-23T09:00:00Z"),
        NextCase("0 0 1,15 * *", after: "2026-11-21T10:00:00Z", "2026-12-01T00:00:00Z"),
        NextCase("0 0 */10 * *", after: "2026-11-21T10:00:00Z", "2026-12-01T00:00:00Z"),
        // Both day fields restricted: either one matching runs (Friday the 27th before the 13th).
        NextCase("0 0 13 * fri", after: "2026-11-21T10:00:00Z", "2026-11-27T00:00:00Z"),
        // A stepped weekday is a restriction too, so the day rule stays an OR (robfig/cron).
        NextCase("0 0 13 * */7", after: "2026-11-21T10:00:00Z", "2026-11-22T00:00:00Z"),
        NextCase("0 12 * jan,jul *", after: "2026-11-21T10:00:00Z", "2027-01-01T12:00:00Z"),
        NextCase("0 0 1 JAN *", after: "2026-11-21T10:00:00Z", "2027-01-01T00:00:00Z"),
        NextCase("0 0 29 2 *", after: "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        NextCase("@hourly", after: "2026-11-21T10:07:00Z", "2026-11-21T11:00:00Z"),
        NextCase("@daily", after: "2026-11-21T10:07:00Z", "2026-11-22T00:00:00Z"),
        NextCase("@midnight", after: "2026-11-21T10:07:00Z", "2026-11-22T00:00:00Z"),
        NextCase("@weekly", after: "2026-11-21T10:07:00Z", "2026-11-22T00:00:00Z"),
        NextCase("@monthly", after: "2026-11-21T10:07:00Z", "2026-12-01T00:00:00Z"),
        NextCase("@yearly", after: "2026-11-21T10:07:00Z", "2027-01-01T00:00:00Z"),
        NextCase("@annually", after: "2026-11-21T10:07:00Z", "2027-01-01T00:00:00Z"),
        NextCase("30 1 * * *", "Europe/Berlin", after: "2026-11-21T00:00:00Z", "2026-11-21T00:30:00Z"),
        NextCase("0 0 * * *", "Asia/Tokyo", after: "2026-11-21T10:07:00Z", "2026-11-21T15:00:00Z"),
        // Spring forward in New York, 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist that
        // day and is skipped, as robfig/cron (Kubernetes CronJob) skips it.
        NextCase("30 2 * * *", "America/New_York", after: "2026-03-07T08:00:00Z", "2026-03-09T06:30:00Z"),
        NextCase("0 * * * *", "America/New_York", after: "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"),
        // Fall back in New York, 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 comes twice and runs in
        // both offsets, as in robfig/cron.
        NextCase("30 1 * * *", "America/New_York", after: "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"),
        NextCase("30 1 * * *", "America/New_York", after: "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"),
        NextCase("30 1 * * *", "America/New_York", after: "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"),
        // Spring forward in Berlin, 2026-03-29 02:00 CET -> 03:00 CEST.
        NextCase("30 2 * * *", "Europe/Berlin", after: "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"),
    ]

    @Test(arguments: nextCases)
    func givenASchedule_whenAskedForTheNextRun_thenItIsTheExpectedInstant(_ row: NextCase) throws {
        let schedule = try CronSchedule(row.expression, timeZone: row.zone)
        #expect(schedule.next(after: utc(row.after)) == utc(row.expected))
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let expression: String
        let zone: String?
        let message: String
        var testDescription: String { "\(expression) \(zone ?? "")" }
        init(_ expression: String, zone: String? = nil, _ message: String) {
            (self.expression, self.zone, self.message) = (expression, zone, message)
        }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase("61 * * * *", #"sessions[0].schedule "61 * * * *": minute 61 is out of range 0-59"#),
        ErrorCase("* 24 * * *", #"sessions[0].schedule "* 24 * * *": hour 24 is out of range 0-23"#),
        ErrorCase("* * 0 * *", #"sessions[0].schedule "* * 0 * *": day of month 0 is out of range 1-31"#),
        ErrorCase("* * * 13 *", #"sessions[0].schedule "* * * 13 *": month 13 is out of range 1-12"#),
        ErrorCase("* * * * 8", #"sessions[0].schedule "* * * * 8": day of week 8 is out of range 0-7"#),
        ErrorCase("* * * foo *", #"sessions[0].schedule "* * * foo *": month "foo" is not a value; use a number or a name such as jan"#),
        ErrorCase("* x * * *", #"sessions[0].schedule "* x * * *": hour "x" is not a value; use a number"#),
        ErrorCase("* * *", #"sessions[0].schedule "* * *": expected 5 fields (minute hour day-of-month month day-of-week), found 3; for example "30 1 * * *" or "@daily""#),
        ErrorCase("0 0 0 * * *", #"sessions[0].schedule "0 0 0 * * *": expected 5 fields (minute hour day-of-month month day-of-week), found 6 (seconds are not supported); for example "30 1 * * *" or "@daily""#),
        ErrorCase("*/0 * * * *", #"sessions[0].schedule "*/0 * * * *": minute "*/0": the step must be at least 1"#),
        ErrorCase("5-1 * * * *", #"sessions[0].schedule "5-1 * * * *": minute "5-1": the range 5-1 runs backwards; write the smaller value first (1-5) or list both parts"#),
        ErrorCase("1,,2 * * * *", #"sessions[0].schedule "1,,2 * * * *": minute "": expected a value, a range a-b, * or a step such as */5"#),
        ErrorCase("0 0 30 2 *", #"sessions[0].schedule "0 0 30 2 *": no month listed has the days of month listed, so it never runs; pick days that exist in those months"#),
        ErrorCase("@fortnightly", #"sessions[0].schedule "@fortnightly": unknown macro @fortnightly; use one of @annually, @daily, @hourly, @midnight, @monthly, @weekly, @yearly, @hourly-random, @daily-random, @weekly-random, @monthly-random"#),
        ErrorCase("TZ=UTC 0 0 * * *", #"sessions[0].schedule "TZ=UTC 0 0 * * *": a time zone inside the schedule is not supported; remove it and set sessions[0].timeZone instead"#),
        ErrorCase("@daily", zone: "Mars/Olympus", #"sessions[0].timeZone "Mars/Olympus": not an IANA time zone name; write one such as "UTC", "Europe/Berlin" or "America/New_York""#),
        ErrorCase("@daily", zone: "EST5EDTX", #"sessions[0].timeZone "EST5EDTX": not an IANA time zone name; write one such as "UTC", "Europe/Berlin" or "America/New_York""#),
    ]

    @Test(arguments: errorCases)
    func givenABadScheduleOrZone_whenParsed_thenTheErrorNamesTheFieldTheValueAndTheFix(_ row: ErrorCase) {
        #expect(throws: (any Error).self) { try CronSchedule(row.expression, timeZone: row.zone, path: "sessions[0]") }
        do {
            _ = try CronSchedule(row.expression, timeZone: row.zone, path: "sessions[0]")
        } catch {
            #expect("\(error)" == row.message)
        }
    }

    struct RandomCase: Sendable, CustomTestStringConvertible {
        let macro: String
        let seed: String
        let expected: String
        var testDescription: String { "\(macro) seeded \(seed)" }
    }

    // Expected values computed outside Swift: 64-bit FNV-1a of the seed, then minute = h % 60,
    // hour = (h / 60) % 24, weekday = (h / 1440) % 7 or day = (h / 1440) % 28 + 1.
    static let randomCases: [RandomCase] = [
        RandomCase(macro: "@hourly-random", seed: "app/deployment-pg/hourly", expected: "44 * * * *"),
        RandomCase(macro: "@daily-random", seed: "app/deployment-pg/nightly", expected: "42 6 * * *"),
        RandomCase(macro: "@weekly-random", seed: "app/deployment-pg/weekly", expected: "18 19 * * 5"),
        RandomCase(macro: "@monthly-random", seed: "app/deployment-pg/monthly", expected: "54 10 1 * *"),
    ]

    @Test(arguments: randomCases)
    func givenARandomSchedule_whenParsedWithItsSeed_thenTheChosenExpressionIsStable(_ row: RandomCase) throws {
        let schedule = try CronSchedule(row.macro, seed: row.seed)
        #expect(schedule.effectiveExpression == row.expected)
        #expect(try CronSchedule(row.macro, seed: row.seed).effectiveExpression == row.expected)
    }

    @Test func givenManySeeds_whenDailyRandom_thenTheTimesSpreadOverTheDayAndStayInRange() throws {
        var hours = Set<String>()
        for index in 0..<200 {
            let fields = try CronSchedule("@daily-random", seed: "ns/config-\(index)/nightly").effectiveExpression.split(separator: " ")
            #expect(fields.count == 5)
            #expect((0...59).contains(Int(fields[0]) ?? -1))
            #expect((0...23).contains(Int(fields[1]) ?? -1))
            hours.insert(String(fields[1]))
        }
        #expect(hours.count >= 20)  // 200 seeds over 24 hours: a hash that clusters fails here
    }

    @Test func givenAMacroOrExtraSpaces_thenTheEffectiveExpressionIsTheConcreteOne() throws {
        #expect(try CronSchedule("@weekly").effectiveExpression == "0 0 * * 0")
        #expect(try CronSchedule(" 30  1 * *   * ").effectiveExpression == "30 1 * * *")
    }

    @Test func givenAGapOfYears_whenAskedForTheLatestRun_thenItIsFoundWithoutWalkingEveryMinute() throws {
        let schedule = try CronSchedule("* * * * *")
        let clock = ContinuousClock()
        let start = clock.now
        let latest = schedule.latest(after: utc("2020-01-01T00:00:00Z"), through: utc("2026-11-21T10:07:30Z"))
        #expect(latest == utc("2026-11-21T10:07:00Z"))
        #expect(clock.now - start < .seconds(1))
        #expect(schedule.latest(after: utc("2026-11-21T10:07:00Z"), through: utc("2026-11-21T10:07:30Z")) == nil)
    }
}
