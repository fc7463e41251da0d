import AutoBackup
import CairnAPI
import CairnTesting
import Foundation
import Kube
import Synchronization
import Testing
import YAML

extension ControllerProcessTests {
    /// Two and more `cairn controller` processes over one Lease, and a controller killed mid-way.
    @Suite struct LeaderElectionTests {
        @Test func givenTwoControllers_WhenTheLeaderIsKilled_ThenOnlyTheLeaderWroteAndTheStandbyTakesOverWithinTheLeaseDuration() async throws {
            try await TestCluster.with { cluster in
                try await cluster.installCRDs()
                try await cluster.createBlueprint()
                let takeover = Mutex<Duration?>(nil)
                let (first, firstLog) = try await CairnController.run(CairnController.arguments(cluster)) { leader in
                    try await leader.line("that it leads") { $0.contains("msg=\"started leading\"") }
                    let (second, secondLog) = try await CairnController.run(CairnController.arguments(cluster)) { standby in
                        let probes = try await standby.endpoint("--health-probe-bind-address")
                        let metrics = try await standby.endpoint("--metrics-bind-address")
                        let ready = try await eventually("the standby's /readyz to answer 200") {
                            let answer = try await httpGet(probes + "/readyz")
                            return answer.status == 200 ? answer.body : nil
                        }
                        #expect(ready.hasPrefix("ok: standing by; the Lease \(cluster.namespace)/cairn-controller is held by "))
                        #expect(metric("cairn_leader_election_is_leader", in: try await httpGet(metrics + "/metrics").body) == 0)

                        for name in ["a", "b", "c"] { try await cluster.createAnnotatedDeployment(name) }
                        for name in ["a", "b", "c"] {
                            _ = try await eventually("configuration \(name)") { try await cluster.configuration(for: name) }
                        }
                        try await eventually("the leader to log its three creates") { leader.writes.count == 3 }
                        #expect(standby.writes.isEmpty)

                        try leader.send(.kill)
                        let killed = ContinuousClock.now
                        try await leader.waitForExit()
                        try await standby.line("that it took over", within: .seconds(15)) { $0.contains("msg=\"started leading\"") }
                        takeover.withLock { $0 = ContinuousClock.now - killed }
                        try await cluster.createAnnotatedDeployment("d")
                        _ = try await eventually("configuration d from the new leader") { try await cluster.configuration(for: "d") }
                        try await eventually("the new leader to log its create") { standby.writes.count == 1 }
                        #expect(standby.writes.first?.contains("key=\"Deployment \(cluster.namespace)/d\"") == true)
                        #expect(metric("cairn_leader_election_is_leader", in: try await httpGet(metrics + "/metrics").body) == 1)
                    }
                    #expect(second == 0)
                    #expect(secondLog.filter { $0.contains("BackupConfiguration") && $0.contains("msg=\"created") }.count == 1)
                }
                #expect(first == 128 + 9)  // SIGKILL
                #expect(firstLog.filter { $0.contains("msg=\"created BackupConfiguration") }.count == 3)
                let elapsed = try #require(takeover.withLock { $0 })
                print("takeover after SIGKILL: \(elapsed) (lease duration 4s, retry period 500ms)")
                // Expiry is judged from when the standby last saw a renewal: at most the lease
                // duration after the kill, plus a jittered retry, a write and a loaded machine.
                #expect(elapsed < .seconds(7))
                #expect(try await cluster.leaseHolder() == "")  // the second released it on SIGTERM
            }
        }

        @Test func given500AnnotatedDeployments_WhenTheControllerIsKilledHalfwayAndStartedAgain_ThenEachConfigurationIsCreatedOnceAndEndsCorrect() async throws {
            let count = 500
            // The API server runs as its own process here: 500 workloads' worth of it on the test
            // runner's cooperative threads would starve other suites' timing-sensitive tests.
            try await SandboxProcess.with(within: .seconds(900)) { cluster in
                try await cluster.createBlueprint()
                let clock = ContinuousClock()
                let began = clock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for batch in 0..<10 {
                        group.addTask {
                            for index in stride(from: batch, to: count, by: 10) { try await cluster.createAnnotatedDeployment("app-\(index)", dbName: "db_\(index)") }
                        }
                    }
                    try await group.waitForAll()
                }
                let history = WriteHistory()
                let start = try await cluster.client.list(CairnResource.configurations, namespace: cluster.namespace).resourceVersion
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await history.record(cluster, from: start) }
                    defer { group.cancelAll() }
                    try await eventually("the watch to start") { await history.started }
                    print("restart halfway: \(count) Deployments created in \(clock.now - began)")

                    let (first, _) = try await CairnController.run(CairnController.arguments(cluster), within: .seconds(300)) { controller in
                        try await eventually("half the configurations", .seconds(240)) { await history.added >= count / 2 }
                        try controller.send(.kill)
                        try await controller.waitForExit()
                    }
                    #expect(first == 128 + 9)
                    let atKill = await history.added
                    print("restart halfway: \(atKill) of \(count) configurations when the first controller was killed, at \(clock.now - began)")
                    #expect(atKill < count, "the first controller finished before it was killed: the restart tested nothing")

                    let (second, _) = try await CairnController.run(CairnController.arguments(cluster), within: .seconds(400)) { _ in
                        try await eventually("all \(count) configurations", .seconds(300), interval: .milliseconds(200)) { await history.added == count }
                        // Settle: a restart that flaps would now update or recreate what it found.
                        try await Task.sleep(for: .seconds(3))
                    }
                    #expect(second == 0)
                    print("restart halfway: all \(count) configurations at \(clock.now - began) (3 s of settling included)")
                }
                let summary = await history.summary
                print("restart halfway: \(summary.added) ADDED, \(summary.modified) MODIFIED (\(summary.specChanges) changing more than status), \(summary.deleted) DELETED")
                #expect(summary.added == count)
                #expect(summary.createdTwice.isEmpty)
                #expect(summary.deleted == 0)
                #expect(summary.specChanges == 0)

                let live = try await cluster.client.list(CairnResource.configurations, namespace: cluster.namespace).items
                #expect(live.count == count)
                for configuration in live {
                    let target = try #require(configuration[path: "spec", "target", "name"]?.string)
                    let index = try #require(target.split(separator: "-").last.flatMap { Int($0) })
                    #expect(configurationName(configuration) == "deployment-\(target)")
                    let command = configuration[path: "spec", "hooks", "preBackup"]?.sequence?.first?[path: "exec", "command"]?.sequence?.last?.string
                    #expect(command?.contains("db_\(index)") == true, "\(configurationName(configuration)): \(command ?? "no dump command")")
                    #expect(configuration[path: "metadata", "annotations", "cairn.dev/rendered-hash"]?.string?.isEmpty == false)
                }
            }
        }
    }
}

/// Every BackupConfiguration event of one namespace from a resourceVersion on.
actor WriteHistory {
    private(set) var started = false
    private var firstSeen: [String: Node] = [:]
    private var addedNames: [String] = []
    private(set) var modified = 0
    private(set) var specChanges = 0
    private(set) var deleted = 0

    var added: Int { addedNames.count }

    /// ADDED, MODIFIED (and how many changed more than status), DELETED, and names added twice.
    var summary: (added: Int, modified: Int, specChanges: Int, deleted: Int, createdTwice: [String]) {
        let twice = Dictionary(grouping: addedNames, by: { $0 }).filter { $0.value.count > 1 }.map(\.key)
        return (addedNames.count, modified, specChanges, deleted, twice)
    }

    /// Watches until cancelled; a watch the server ends is an error, since events would be lost.
    func record(_ cluster: some TestTarget, from resourceVersion: String) async throws {
        let events = cluster.client.watch(CairnResource.configurations, namespace: cluster.namespace,
                                          options: WatchOptions(resourceVersion: resourceVersion))
        started = true
        for try await event in events {
            switch event {
            case .added(let object):
                addedNames.append(configurationName(object))
                firstSeen[configurationName(object)] = object
            case .modified(let object):
                modified += 1
                if let first = firstSeen[configurationName(object)], Self.withoutStatus(first) != Self.withoutStatus(object) { specChanges += 1 }
            case .deleted: deleted += 1
            case .bookmark: continue
            case .error(let status): throw HarnessError(description: "the watch failed: \(status)")
            }
        }
        guard Task.isCancelled else { throw HarnessError(description: "the server ended the watch on BackupConfigurations") }
    }

    /// The object less what a status write changes.
    private static func withoutStatus(_ object: Node) -> Node {
        var copy = object
        copy["status"] = Node?.none
        var metadata = copy["metadata"] ?? .mapping([])
        for field in ["resourceVersion", "managedFields", "generation"] { metadata[field] = Node?.none }
        copy["metadata"] = metadata
        return copy
    }
}

/// `metadata.name`.
func configurationName(_ object: Node) -> String { object[path: "metadata", "name"]?.string ?? "" }
