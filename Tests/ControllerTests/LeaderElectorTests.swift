import CairnTesting
import Kube
import Logging
import Synchronization
import Testing
import YAML

/// Leader election over a Lease in the sandbox, with short timings: a 4 s lease, renewed every 300 ms.
@Suite struct LeaderElectorTests {
    // Long enough that a loaded 2-core machine running the whole suite in parallel does not miss a
    // renewal deadline (3 s) by scheduling delay alone; short enough to keep the suite quick.
    static let leaseDuration = Duration.seconds(4)
    static let retryPeriod = Duration.milliseconds(300)

    /// Who leads, as the callbacks report it.
    final class Leadership: Sendable {
        let leading = Mutex<Set<String>>([])
        let stopped = Mutex<[String]>([])
        let overlap = Mutex(false)

        var leaders: Set<String> { leading.withLock { $0 } }

        func started(_ identity: String) {
            leading.withLock { leading in
                leading.insert(identity)
                if leading.count > 1 { overlap.withLock { $0 = true } }
            }
        }

        func ended(_ identity: String) {
            _ = leading.withLock { $0.remove(identity) }
            stopped.withLock { $0.append(identity) }
        }
    }

    static func elector(_ cluster: TestCluster, _ identity: String, releaseOnCancel: Bool = true,
                        leaseDuration: Duration = leaseDuration, logger: Logger? = nil) -> LeaderElector {
        var options = LeaderElector.Options(namespace: cluster.namespace, name: "cairn-controller", identity: identity)
        options.leaseDuration = leaseDuration
        options.renewDeadline = leaseDuration * 3 / 4
        options.retryPeriod = retryPeriod
        options.releaseOnCancel = releaseOnCancel
        if let logger { return LeaderElector(client: cluster.client, options: options, logger: logger) }
        return LeaderElector(client: cluster.client, options: options)
    }

    /// Starts a campaign whose leading work marks `leadership` and waits to be cancelled.
    static func campaign(_ elector: LeaderElector, _ leadership: Leadership) -> Task<Void, Never> {
        let identity = elector.options.identity
        return Task {
            await elector.run(onStartedLeading: {
                leadership.started(identity)
                do { try await Task.sleep(for: .seconds(3600)) } catch {}  // cancelled: leadership ended
                _ = leadership.leading.withLock { $0.remove(identity) }
            }, onStoppedLeading: { leadership.ended(identity) })
        }
    }

    /// Cancels a campaign and waits until it has ended (and released, if it does).
    static func stop(_ campaigns: Task<Void, Never>...) async throws {
        for task in campaigns { task.cancel() }
        for task in campaigns { try await within(.seconds(10), "the campaign to end") { await task.value } }
    }

    static func lease(_ cluster: TestCluster) async throws -> Node {
        try await cluster.client.get(LeaderElector.leases, namespace: cluster.namespace, name: "cairn-controller")
    }

    @Test func givenTwoCandidates_WhenBothCampaign_ThenExactlyOneLeads() async throws {
        try await TestCluster.with { cluster in
            let leadership = Leadership()
            let campaigns = ["a", "b"].map { Self.campaign(Self.elector(cluster, $0), leadership) }
            defer { for task in campaigns { task.cancel() } }

            try await eventually(.seconds(10), "a leader") { leadership.leaders.count == 1 }
            let leader = try #require(leadership.leaders.first)
            try await Task.sleep(for: Self.leaseDuration)  // a whole lease duration of renewals

            #expect(leadership.leaders == [leader])
            #expect(!leadership.overlap.withLock { $0 })
            let spec = try await Self.lease(cluster)["spec"]
            #expect(spec?["holderIdentity"]?.string == leader)
            #expect(spec?["leaseDurationSeconds"] == 4)
            #expect(spec?["leaseTransitions"] == 0)
            try await Self.stop(campaigns[0], campaigns[1])
        }
    }

    @Test func givenALeaderThatDiesWithoutReleasing_WhenTheLeaseExpires_ThenTheOtherTakesOverWithinTheLeaseDuration() async throws {
        try await TestCluster.with { cluster in
            let leadership = Leadership()
            let first = Self.campaign(Self.elector(cluster, "first", releaseOnCancel: false), leadership)
            try await eventually(.seconds(10), "the first leader") { leadership.leaders == ["first"] }
            let second = Self.campaign(Self.elector(cluster, "second"), leadership)
            defer { second.cancel() }
            try await Task.sleep(for: .milliseconds(500))
            #expect(leadership.leaders == ["first"])

            let clock = ContinuousClock()
            let killed = clock.now
            first.cancel()  // no release: the lease stays with "first" until it expires
            try await within(.seconds(5), "the dead leader's task") { await first.value }
            try await eventually(.seconds(10), "the takeover") { leadership.leaders == ["second"] }
            let takeover = clock.now - killed

            #expect(takeover >= Self.leaseDuration - Self.retryPeriod * 2, "took over after \(takeover), before the lease could expire")
            // Expiry is judged from when the candidate last saw the lease change (up to a jittered
            // retry period after the last renewal), then noticed on its next retry; the rest is slack
            // for a loaded machine.
            #expect(takeover <= Self.leaseDuration + .seconds(2), "took over after \(takeover)")
            let spec = try await Self.lease(cluster)["spec"]
            #expect(spec?["holderIdentity"] == "second")
            #expect(spec?["leaseTransitions"] == 1)
            #expect(!leadership.overlap.withLock { $0 })
            try await Self.stop(second)
        }
    }

    @Test func givenALeaderThatStopsGracefully_WhenItReleases_ThenTheOtherTakesOverAtOnce() async throws {
        try await TestCluster.with { cluster in
            let leadership = Leadership()
            // A long lease, so that a takeover well inside it can only come from the release, even
            // when a loaded machine delays the candidate's retries.
            let lease = Duration.seconds(10)
            let first = Self.campaign(Self.elector(cluster, "first", leaseDuration: lease), leadership)
            try await eventually(.seconds(10), "the first leader") { leadership.leaders == ["first"] }
            let second = Self.campaign(Self.elector(cluster, "second", leaseDuration: lease), leadership)
            defer { second.cancel() }
            try await Task.sleep(for: .milliseconds(500))

            let clock = ContinuousClock()
            let stopped = clock.now
            first.cancel()
            try await within(.seconds(5), "the leader to release") { await first.value }
            #expect(leadership.stopped.withLock { $0 } == ["first"])
            try await eventually(.seconds(10), "the takeover") { leadership.leaders == ["second"] }
            let takeover = clock.now - stopped

            #expect(takeover < lease / 2, "took over after \(takeover)")
            #expect(try await Self.lease(cluster)["spec"]?["holderIdentity"] == "second")
            try await Self.stop(second)
        }
    }

    @Test func givenALeaseChangedUnderTheLeader_WhenItRenews_ThenThe409IsAbsorbedAndItKeepsLeading() async throws {
        try await TestCluster.with { cluster in
            let leadership = Leadership()
            let capture = LogCapture()
            let task = Self.campaign(Self.elector(cluster, "only", logger: capture.logger("elector")), leadership)
            defer { task.cancel() }
            try await eventually(.seconds(10), "the leader") { leadership.leaders == ["only"] }

            // Someone else writes the lease (a label): the leader's cached resourceVersion is stale now.
            _ = try await cluster.client.patch(LeaderElector.leases, namespace: cluster.namespace, name: "cairn-controller",
                                               .mapping(["metadata": .mapping(["labels": .mapping(["touched": "yes"])])]))
            try await eventually(.seconds(5), "the stale renewal") { capture.messages(atLeast: .info).contains { $0.contains("409") } }
            try await Task.sleep(for: Self.retryPeriod * 3)

            #expect(leadership.leaders == ["only"])
            #expect(leadership.stopped.withLock { $0 }.isEmpty)
            let lease = try await Self.lease(cluster)
            #expect(lease[path: "metadata", "labels", "touched"] == "yes", "the renewal after the 409 kept the other writer's change")
            #expect(lease["spec"]?["holderIdentity"] == "only")
            try await Self.stop(task)
        }
    }

    @Test func givenAnotherHolderWritesTheLease_WhenTheLeaderNextRenews_ThenItStopsLeading() async throws {
        try await TestCluster.with { cluster in
            let leadership = Leadership()
            let task = Self.campaign(Self.elector(cluster, "first"), leadership)
            defer { task.cancel() }
            try await eventually(.seconds(10), "the leader") { leadership.leaders == ["first"] }

            _ = try await cluster.client.patch(LeaderElector.leases, namespace: cluster.namespace, name: "cairn-controller",
                                               .mapping(["spec": .mapping(["holderIdentity": "intruder", "leaseDurationSeconds": 30])]))

            try await within(.seconds(5), "the leader to step down") { await task.value }
            #expect(leadership.stopped.withLock { $0 } == ["first"])
            #expect(leadership.leaders.isEmpty)
            #expect(try await Self.lease(cluster)["spec"]?["holderIdentity"] == "intruder", "a deposed leader does not release another's lease")
        }
    }
}
