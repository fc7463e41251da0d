import CairnAPI
import CairnTesting
@testable import Executor
import Foundation
import Kube
import Testing
import YAML

/// The retention keeper against the sandbox and a real restic repository: labels written on the
/// Snapshot objects, marked ones swept through a real `cairn agent forget` Job after the grace,
/// and the failures on the way (a wrong password, a 409, a restart, another tenant's snapshot).
@Suite struct RetentionKeeperTests {
    static let day: TimeInterval = 86_400
    static let zone = "Europe/Berlin"

    // MARK: Sixty days

    /// An independent model of retention for one snapshot a day, newest first: the newest 7 days,
    /// the newest snapshot of each of the newest 4 ISO weeks and 2 months keep their label, written
    /// with DateFormatter on the ISO 8601 calendar rather than by the planner's code.
    struct Reference {
        static let policy = Retention(keepDaily: 7, keepWeekly: 4, keepMonthly: 2)
        var times: [String: Date] = [:]
        var pinned: Set<String> = []
        var markedAt: [String: Date] = [:]
        var swept: Set<String> = []

        static func formatter(_ format: String, calendar: Calendar.Identifier = .gregorian, zone: String = RetentionKeeperTests.zone) -> DateFormatter {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.calendar = Calendar(identifier: calendar)
            formatter.timeZone = TimeZone(identifier: zone)
            formatter.dateFormat = format
            return formatter
        }

        static let days = formatter("yyyy-MM-dd")
        static let weeks = formatter("YYYY-'W'ww", calendar: .iso8601)
        static let months = formatter("yyyy-MM")
        static let utc = formatter("yyyyMMdd'T'HHmmss'Z'", zone: "UTC")

        /// The period labels of the snapshots that exist.
        func periodLabels() -> [String: [String: String]] {
            let newestFirst = times.filter { !swept.contains($0.key) }.sorted { $0.value > $1.value }
            var labels: [String: [String: String]] = Dictionary(uniqueKeysWithValues: newestFirst.map { ($0.key, [:]) })
            for (label, count, formatter) in [(RetentionLabel.daily, 7, Self.days), (RetentionLabel.weekly, 4, Self.weeks), (RetentionLabel.monthly, 2, Self.months)] {
                var seen: [String] = []
                for (name, time) in newestFirst {
                    let period = formatter.string(from: time)
                    guard !seen.contains(period), seen.count < count else { continue }
                    seen.append(period)
                    labels[name]?[label] = period
                }
            }
            return labels
        }

        /// Plans at `now`: marks what no period keeps, sweeps what was marked `grace` ago or more,
        /// and returns the labels each remaining Snapshot should carry.
        mutating func step(now: Date, grace: TimeInterval) -> [String: [String: String]] {
            var expected = periodLabels()
            for (name, labels) in expected where labels.isEmpty && !pinned.contains(name) {
                let marked = markedAt[name] ?? now
                markedAt[name] = marked
                if marked.addingTimeInterval(grace) <= now {
                    swept.insert(name)
                    expected[name] = nil
                } else {
                    expected[name]?[RetentionLabel.deleteAfter] = Self.utc.string(from: marked.addingTimeInterval(grace))
                }
            }
            for name in pinned where expected[name] != nil { expected[name]?[RetentionLabel.keep] = "true" }
            return expected
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func givenSixtySimulatedDaysOfDailyBackups_whenTheKeeperRunsAfterEachDay_thenLabelsMatchTheReferenceAndResticAgreesWithTheSnapshots() async throws {
        let start = try #require(ISO8601DateFormatter().date(from: "2026-09-01T10:00:00Z"))
        try await RetentionHarness.with(start: start) { harness in
            // Given: a configuration keeping 7 daily, 4 weekly and 2 monthly in Europe/Berlin, and 60 real restic snapshots a day apart.
            let configuration = try await harness.createFixtures(retention: Reference.policy, timeZone: Self.zone)
            // Two backups at once (restic's lock is shared): more would starve the suites running beside this one.
            let ids = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var ids = Array(repeating: "", count: 60)
                for day in 0..<60 {
                    if day >= 2, let (done, id) = try await group.next() { ids[done] = id }
                    group.addTask { (day, try await harness.resticBackup(time: start.addingTimeInterval(Double(day) * Self.day))) }
                }
                for try await (done, id) in group { ids[done] = id }
                return ids
            }
            let grace = 2 * Self.day
            let pinned: Set<String> = ["day-03", "day-20"]

            try await harness.withNodes {
                try await harness.keeping(grace: grace) { keeper in
                    var reference = Reference()
                    reference.pinned = pinned
                    for day in 0..<60 {
                        // When: the day comes, its Snapshot object appears, and the keeper runs.
                        let time = start.addingTimeInterval(Double(day) * Self.day)
                        let now = time.addingTimeInterval(30)
                        harness.clock.advance(to: now)
                        let name = String(format: "day-%02d", day)
                        reference.times[name] = time
                        try await harness.createSnapshot(name, configuration: configuration, time: time, resticID: ids[day],
                                                         pinned: reference.pinned.contains(name))
                        let expected = reference.step(now: now, grace: grace)

                        // Then: the objects and their labels are the reference's, and no forget Job is left.
                        do {
                            try await eventually("day \(day): the Snapshots to be \(expected.keys.sorted())", .seconds(60), interval: .milliseconds(100)) {
                                let objects = try await harness.snapshots()
                                return objects.mapValues(\.retentionLabels) == expected ? try await harness.forgetJobs().isEmpty : false
                            }
                        } catch let error as DeadlineExceeded {
                            // Say what the keeper left, so a failure names its cause.
                            let objects = try await harness.snapshots().mapValues(\.retentionLabels)
                            let jobs = try await harness.forgetJobs().map { try JSON.emit($0["status"] ?? .null) }
                            let warnings = try await harness.events(reason: RetentionKeeper.forgetFailedReason, keeper: keeper).map { $0["message"]?.string ?? "" }
                            Issue.record("expected \(expected.sorted { $0.key < $1.key }), found \(objects.sorted { $0.key < $1.key }); forget Jobs \(jobs); warnings \(warnings); \(keeper.statistics)")
                            throw error
                        }
                    }
                    let statistics = keeper.statistics
                    // One Job a day at most, more than one snapshot in a batch when two came due together.
                    #expect(statistics.snapshotsDeleted == reference.swept.count)
                    #expect((1...reference.swept.count).contains(statistics.forgetJobs), "\(statistics)")
                    #expect(statistics.forgetFailures == 0)
                    // And: most were swept, the pinned ones survived, and restic holds exactly the objects' snapshots.
                    #expect(reference.swept.count >= 40, "\(reference.swept.count) swept")
                    let objects = try await harness.snapshots()
                    #expect(objects["day-03"]?.metadata.labels?[RetentionLabel.keep] == "true")
                    #expect(objects["day-20"] != nil)
                    #expect(objects.count == 60 - reference.swept.count)
                    let restic = try await harness.resticSnapshotIDs()
                    #expect(restic == Set(objects.values.compactMap(\.spec.resticSnapshotID)))
                }
            }
        }
    }

    // MARK: Tenants

    @Test(.timeLimit(.minutes(3)))
    func givenTwoNamespacesSharingOneRepository_whenBothSweep_thenNeitherForgetsTheOthersSnapshots() async throws {
        let start = try #require(ISO8601DateFormatter().date(from: "2026-11-20T01:00:00Z"))
        try await RetentionHarness.with(start: start.addingTimeInterval(3 * Self.day)) { harness in
            // Given: namespaces A and B keep their last snapshot each, in one repository; A also holds
            // an object that names B's newest restic snapshot (a mistake, or a tenant trying it).
            let other = try await harness.base.createNamespace("tenant-b")
            let configurationA = try await harness.createFixtures(retention: Retention(keepLast: 1))
            let configurationB = try await harness.createFixtures(namespace: other, retention: Retention(keepLast: 1))
            var backups: [(a: String, b: String)] = []
            for day in 0..<3 {
                let time = start.addingTimeInterval(Double(day) * Self.day)
                backups.append((try await harness.resticBackup(time: time), try await harness.resticBackup(namespace: other, time: time)))
                try await harness.createSnapshot("a-\(day)", configuration: configurationA, time: time, resticID: backups[day].a)
                try await harness.createSnapshot("b-\(day)", configuration: configurationB, time: time, resticID: backups[day].b)
            }
            let (idsA, idsB) = (backups.map(\.a), backups.map(\.b))
            try await harness.createSnapshot("intruder", configuration: configurationA, time: start.addingTimeInterval(-Self.day), resticID: idsB[2])

            try await harness.withNodes {
                try await harness.keeping(grace: 3_600, retryDelay: 600) { keeperA in
                    try await harness.keeping(namespace: other, grace: 3_600) { _ in
                        // When: both have marked their old snapshots, and the grace passes.
                        try await eventually("A and B to mark their old snapshots", .seconds(20)) {
                            let a = try await harness.snapshots()
                            let b = try await harness.snapshots(namespace: other)
                            return a.values.filter { $0.metadata.labels?[RetentionLabel.deleteAfter] != nil }.count == 3
                                && b.values.filter { $0.metadata.labels?[RetentionLabel.deleteAfter] != nil }.count == 2
                        }
                        harness.clock.advance(by: 7_200)

                        // Then: B forgets its own two; A's forget is refused whole, its objects are kept, and a Warning says why.
                        try await eventually("B's two old snapshots to be swept", .seconds(60)) {
                            try await harness.snapshots(namespace: other).keys.sorted() == ["b-2"]
                        }
                        let warning = try await eventually("a ForgetFailed Warning in A", .seconds(60)) {
                            try await harness.events(reason: RetentionKeeper.forgetFailedReason, keeper: keeperA).first
                        }
                        let message = warning["message"]?.string ?? ""
                        #expect(message.contains("refusing") && message.contains("the Snapshot objects are kept"), "\(message)")
                        #expect(warning["type"]?.string == "Warning")
                        #expect(try await harness.snapshots().count == 4)
                        #expect(try await harness.resticSnapshotIDs(namespace: other) == [idsB[2]])
                        #expect(try await harness.resticSnapshotIDs() == Set(idsA))

                        // When: the intruder is removed and the retry comes.
                        _ = try await harness.client.delete(ExecutorResource.snapshots, namespace: harness.namespace, name: "intruder")
                        harness.clock.advance(by: 601)

                        // Then: A forgets its own two, and B's newest is still there.
                        try await eventually("A's two old snapshots to be swept", .seconds(60)) {
                            try await harness.snapshots().keys.sorted() == ["a-2"]
                        }
                        #expect(try await harness.resticSnapshotIDs() == [idsA[2]])
                        #expect(try await harness.resticSnapshotIDs(namespace: other) == [idsB[2]])
                        #expect(keeperA.statistics.forgetFailures == 1)
                    }
                }
            }
        }
    }

    // MARK: Failures

    /// Backs up three days with real restic and records a Snapshot object `s-<day>` for each; returns their IDs.
    static func threeSnapshots(_ harness: RetentionHarness, configuration: Node, start: Date) async throws -> [String] {
        var ids: [String] = []
        for day in 0..<3 {
            let time = start.addingTimeInterval(Double(day) * Self.day)
            ids.append(try await harness.resticBackup(time: time))
            try await harness.createSnapshot("s-\(day)", configuration: configuration, time: time, resticID: ids[day])
        }
        return ids
    }

    @Test(.timeLimit(.minutes(3)))
    func givenAWrongPassword_whenTheForgetJobFails_thenTheObjectsAreKeptAWarningIsRecordedAndTheRetryAfterTheFixSweeps() async throws {
        let start = try #require(ISO8601DateFormatter().date(from: "2026-11-20T01:00:00Z"))
        try await RetentionHarness.with(start: start.addingTimeInterval(3 * Self.day)) { harness in
            // Given: three snapshots, keepLast 1, and a Secret with the wrong password.
            let configuration = try await harness.createFixtures(retention: Retention(keepLast: 1), password: "not the password")
            let ids = try await Self.threeSnapshots(harness, configuration: configuration, start: start)
            try await harness.withNodes {
                try await harness.keeping(grace: 3_600, retryDelay: 900) { keeper in
                    try await eventually("two snapshots to be marked", .seconds(20)) {
                        try await harness.snapshots().values.filter { $0.metadata.labels?[RetentionLabel.deleteAfter] != nil }.count == 2
                    }

                    // When: the grace passes and the forget Job runs with the wrong password.
                    harness.clock.advance(by: 3_601)
                    let warning = try await eventually("a ForgetFailed Warning", .seconds(60)) {
                        try await harness.events(reason: RetentionKeeper.forgetFailedReason, keeper: keeper).first
                    }

                    // Then: the objects and the restic snapshots are all kept, and the Warning names the reason.
                    let message = warning["message"]?.string ?? ""
                    #expect(message.contains("WrongPassword"), "\(message)")
                    #expect(try await harness.snapshots().count == 3)
                    #expect(try await harness.resticSnapshotIDs() == Set(ids))
                    #expect(keeper.statistics.forgetJobs == 1)

                    // When: the password is fixed; nothing is retried before the delay, then it is.
                    var secret = try await harness.client.get(ExecutorResource.secrets, namespace: harness.namespace, name: "restic")
                    secret["data"] = strings(["RESTIC_PASSWORD": Data(RunnerHarness.password.utf8).base64EncodedString()])
                    _ = try await harness.client.update(ExecutorResource.secrets, namespace: harness.namespace, secret)
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(keeper.statistics.forgetJobs == 1)
                    harness.clock.advance(by: 901)

                    // Then: the retry forgets them, and restic and the objects agree.
                    try await eventually("the two old snapshots to be swept", .seconds(60)) {
                        try await harness.snapshots().keys.sorted() == ["s-2"]
                    }
                    #expect(try await harness.resticSnapshotIDs() == [ids[2]])
                    #expect(keeper.statistics.forgetJobs == 2 && keeper.statistics.forgetFailures == 1)
                    try await eventually("the forget Job to be gone", .seconds(20)) { try await harness.forgetJobs().isEmpty }
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func givenAKeeperStoppedAfterCreatingAForgetJob_whenANewKeeperStarts_thenItAdoptsTheJobAndDeletesWhatItForgot() async throws {
        let start = try #require(ISO8601DateFormatter().date(from: "2026-11-20T01:00:00Z"))
        try await RetentionHarness.with(start: start.addingTimeInterval(3 * Self.day)) { harness in
            // Given: three snapshots, keepLast 1, and a keeper that created a forget Job but stopped before it ran.
            let configuration = try await harness.createFixtures(retention: Retention(keepLast: 1))
            let ids = try await Self.threeSnapshots(harness, configuration: configuration, start: start)
            try await harness.keeping(grace: 3_600) { _ in
                try await eventually("two snapshots to be marked", .seconds(20)) {
                    try await harness.snapshots().values.filter { $0.metadata.labels?[RetentionLabel.deleteAfter] != nil }.count == 2
                }
                harness.clock.advance(by: 3_601)
                try await eventually("the forget Job", .seconds(20)) { try await harness.forgetJobs().count == 1 }
            }
            let job = try #require(try await harness.forgetJobs().first)
            #expect(job.name.hasPrefix("cairn-forget-\(RetentionHarness.configuration)-nightly-data-"))

            try await harness.withNodes {
                // When: the Job runs while no keeper does, and then a new keeper starts.
                try await eventually("the forget Job to complete", .seconds(60)) {
                    let live = try await harness.client.get(ExecutorResource.jobs, namespace: harness.namespace, name: job.name)
                    return (live[path: "status", "conditions"]?.sequence ?? []).contains { $0["type"]?.string == "Complete" }
                }
                #expect(try await harness.snapshots().count == 3)
                try await harness.keeping(grace: 3_600) { keeper in
                    // Then: it deletes the objects the Job forgot, and the Job, without a second Job.
                    try await eventually("the swept objects and the Job to be gone", .seconds(30)) {
                        let left = try await harness.snapshots().keys.sorted()
                        let jobs = try await harness.forgetJobs()
                        return left == ["s-2"] && jobs.isEmpty
                    }
                    #expect(keeper.statistics.forgetJobs == 0 && keeper.statistics.snapshotsDeleted == 2)
                }
            }
            #expect(try await harness.resticSnapshotIDs() == [ids[2]])
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func givenASnapshotPinnedAfterTheKeeperReadIt_whenTheLabelPatchIsWritten_thenItMeets409AndThePinHolds() async throws {
        let start = try #require(ISO8601DateFormatter().date(from: "2026-11-20T01:00:00Z"))
        try await RetentionHarness.with(start: start.addingTimeInterval(3 * Self.day)) { harness in
            // Given: an old snapshot as the keeper read it, then pinned by hand.
            let configuration = try await harness.createFixtures(retention: Retention(keepLast: 1))
            let stale = try await harness.createSnapshot("s-0", configuration: configuration, time: start, resticID: String(repeating: "a", count: 64))
            try await harness.createSnapshot("s-1", configuration: configuration, time: start.addingTimeInterval(Self.day), resticID: String(repeating: "b", count: 64))
            _ = try await harness.client.patch(ExecutorResource.snapshots, namespace: harness.namespace, name: "s-0",
                                               .mapping(["metadata": .mapping(["labels": .mapping([.init(key: .string(RetentionLabel.keep), value: "true")])])]))
            let keeper = RetentionKeeper(client: harness.client, clock: harness.clock, options: .init(namespace: harness.namespace), logger: quietLogger())

            // When: the keeper writes its mark from what it read.
            let error = await #expect(throws: KubeError.self) {
                try await keeper.patchLabels(stale, [RetentionLabel.deleteAfter: "20261124T010000Z"])
            }

            // Then: 409 Conflict, nothing marked; and a keeper that runs plans from the pinned object.
            #expect(error?.kind == .conflict)
            #expect(try await harness.snapshots()["s-0"]?.metadata.labels?[RetentionLabel.deleteAfter] == nil)
            try await harness.keeping(grace: 3_600) { _ in
                try await eventually("s-1 to be labelled last", .seconds(20)) {
                    try await harness.snapshots()["s-1"]?.metadata.labels?[RetentionLabel.last] == "true"
                }
                harness.clock.advance(by: 7_200)
                try await Task.sleep(for: .milliseconds(300))
                let s0 = try #require(try await harness.snapshots()["s-0"])
                #expect(s0.retentionLabels == [RetentionLabel.keep: "true"])
            }
        }
    }
}
