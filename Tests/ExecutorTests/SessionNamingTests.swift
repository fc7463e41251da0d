import Executor
import Foundation
import Testing

@Suite struct SessionNamingTests {
    @Test func givenAScheduledTime_whenNamed_thenTheNameCarriesTheMinuteInUTC() throws {
        let time = try #require(ISO8601DateFormatter().date(from: "2026-11-21T01:30:00+02:00"))
        let name = SessionNaming.scheduledSession(configuration: "deployment-pg", session: "nightly", scheduledTime: time)
        #expect(name == "deployment-pg-nightly-202611202330")
    }

    @Test func givenTheSameScheduledTimeTwice_thenTheNamesAgree_andADifferentMinuteDiffers() {
        let time = Date(timeIntervalSince1970: 1_790_000_040)  // on a minute boundary
        let first = SessionNaming.scheduledSession(configuration: "c", session: "s", scheduledTime: time)
        #expect(first == SessionNaming.scheduledSession(configuration: "c", session: "s", scheduledTime: time.addingTimeInterval(59)))
        #expect(first != SessionNaming.scheduledSession(configuration: "c", session: "s", scheduledTime: time.addingTimeInterval(60)))
    }

    @Test func givenALongConfigurationName_thenTheSessionNameIsShortenedTo63Characters() {
        let name = SessionNaming.scheduledSession(
            configuration: String(repeating: "a", count: 60), session: "nightly", scheduledTime: Date(timeIntervalSince1970: 0))
        #expect(name.count == 63)
        #expect(name != SessionNaming.scheduledSession(
            configuration: String(repeating: "a", count: 60), session: "weekly", scheduledTime: Date(timeIntervalSince1970: 0)))
    }
}
