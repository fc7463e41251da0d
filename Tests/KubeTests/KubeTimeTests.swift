import Foundation
@testable import Kube
import Testing

@Suite struct KubeTimeTests {
    @Test func givenATime_whenWrittenAndReadBack_thenItIsTheSameSecondInUTC() {
        let date = Date(timeIntervalSince1970: 1_795_350_840)  // 2026-11-22T12:34:00Z
        #expect(KubeTime.time(date) == "2026-11-22T12:34:00Z")
        #expect(KubeTime.date("2026-11-22T12:34:00Z") == date)
        #expect(KubeTime.microTime(date.addingTimeInterval(0.5)) == "2026-11-22T12:34:00.500000Z")
    }

    @Test(arguments: [
        ("2026-11-22T12:34:00.5Z", 1_795_350_840.5),
        ("2026-11-22T13:34:00+01:00", 1_795_350_840),
        ("2026-11-22T12:34:00.250000Z", 1_795_350_840.25),
    ])
    func givenAnRFC3339TimeWithAFractionOrAnOffset_whenRead_thenItIsThatInstant(text: String, seconds: Double) throws {
        let date = try #require(KubeTime.date(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.001)
    }

    @Test(arguments: ["", "yesterday", "2026-11-22", "2026-11-22 12:34:00Z", "2026-13-22T12:34:00Z"])
    func givenTextThatIsNotAnRFC3339Time_whenRead_thenItIsNil(text: String) {
        #expect(KubeTime.date(text) == nil)
    }

    @Test func givenTimesAcrossLeapYearsAndMonthEnds_whenReadWithoutAFormatter_thenEachIsTheInstantTheFormatterReads() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        // Every day's last second from 1970 to 2100, and random instants up to 9999.
        let instants = stride(from: 86_399.0, to: 4_102_444_800, by: 86_400) + (0..<5_000).map { _ in Double(Int.random(in: 0..<253_402_300_800, using: &generator)) }
        for seconds in instants {
            let text = formatter.string(from: Date(timeIntervalSince1970: seconds))
            let fast = try #require(KubeTime.wholeSecondsUTC(text), "\(text)")
            #expect(fast == formatter.date(from: text), "\(text)")
            #expect(fast.timeIntervalSince1970 == seconds, "\(text)")
        }
    }

    @Test(arguments: ["2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T12:60:00Z",
                      "1969-12-31T23:59:59Z", "2026-11-22T12:34:00+01:00", "2026-11-22T12:34:0aZ", "2026-11-22t12:34:00Z"])
    func givenTextOutsideTheCanonicalForm_whenRead_thenTheFormatterDecides(text: String) {
        #expect(KubeTime.wholeSecondsUTC(text) == nil)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        #expect(KubeTime.date(text) == formatter.date(from: text))
    }

    @Test func givenManyTasksAtOnce_whenTheyWriteAndReadTimes_thenEachGetsItsOwnAnswer() async {
        // The formatters are shared: each call must still see only its own input.
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var mismatches = 0
                    for step in 0..<500 {
                        let date = Date(timeIntervalSince1970: Double(1_700_000_000 + task * 1_000_000 + step * 61))
                        if KubeTime.date(KubeTime.time(date)) != date { mismatches += 1 }
                    }
                    return mismatches
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
