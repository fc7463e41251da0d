import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import MetricsTestKit
import Synchronization
import Testing
import YAML

/// A session across restarts, limits and time: adoption, queueing, history and metrics.
@Suite struct LifecycleTests {
    @Test func givenARunnerRestartedBeforeItWroteRunning_whenAnotherStarts_thenItAdoptsTheJobAndCreatesNoSecond() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            let initial = try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).resourceVersion
            let added = Mutex(0)
            let completed = Mutex(false)
            let watcher = Task {
                let stream = harness.client.watch(ExecutorResource.jobs, namespace: harness.namespace, options: WatchOptions(resourceVersion: initial))
                for try await event in stream {
                    switch event {
                    case .added: added.withLock { $0 += 1 }
                    case .modified(let job):
                        if job[path: "status", "conditions"]?.sequence?.isEmpty == false { completed.withLock { $0 = true } }
                    default: break
                    }
                }
            }
            defer { watcher.cancel() }
            try await harness.createSession("s1")
            try await harness.running { _ in try await harness.waitFor("s1", .running) }
            // The first runner is gone; pretend it died between creating the Job and writing Running.
            var session = try await harness.client.get(ExecutorResource.sessions, namespace: harness.namespace, name: "s1")
            session["status"] = .mapping(["phase": "Pending"])
            _ = try await harness.client.updateStatus(ExecutorResource.sessions, namespace: harness.namespace, session)

            try await harness.running { _ in
                let adopted = try await harness.waitFor("s1", .running)
                #expect(adopted.status?.job == SessionNaming.backupJob(session: "s1"))
                try await harness.endJob(of: "s1", message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("data", id: "abc")]))
                try await harness.waitFor("s1", .succeeded)
            }
            try await eventually("the watch to see the Job end", .seconds(10)) { completed.withLock { $0 } }
            #expect(added.withLock { $0 } == 1)
            #expect(try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items.count == 1)
        }
    }

    @Test func givenAConfigurationWithHooks_whenItsSessionStarts_thenAWarningSaysTheHooksAreNotRunYet() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures { configuration in
                configuration.spec.hooks = Hooks(preBackup: [Hook(name: "dump", exec: ExecAction(command: ["pg_dump", "orders"]))])
            }
            try await harness.running { runner in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                let warnings = try await harness.events(about: "s1", runner: runner).filter { $0["reason"] == "HooksNotRun" }
                #expect(warnings.count == 1)
                #expect(warnings.first?["type"] == "Warning")
                #expect(warnings.first?["message"]?.string == "BackupConfiguration \(harness.namespace)/\(RunnerHarness.configurationName): "
                    + "spec.hooks (dump) are not run by this version of Cairn yet, so this backup copies the volumes as they are, without them")
            }
        }
    }

    @Test func givenARunningSession_whenItsJobIsDeleted_thenTheSessionFailsAsJobDeleted() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                _ = try await harness.client.delete(ExecutorResource.jobs, namespace: harness.namespace, name: SessionNaming.backupJob(session: "s1"))
                let session = try await harness.waitFor("s1", .failed)
                #expect(session.status?.reason == "JobDeleted")
                #expect(session.status?.message?.contains("was deleted before it finished") == true)
            }
        }
    }

    @Test func givenAGlobalLimitOfOne_whenThreeSessionsArrive_thenOneRunsAndTheOthersStartInCreationOrder() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.running(configure: { $0.maxRunning = 1 }) { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                try await harness.createSession("s2")
                try await harness.createSession("s3")
                for name in ["s2", "s3"] {
                    let queued = try await harness.waitFor(name, .queued)
                    #expect(queued.status?.reason == "ConcurrencyLimit")
                }

                try await harness.endJob(of: "s1", message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("data", id: "1")]))
                try await harness.waitFor("s2", .running)
                #expect(try await harness.session("s3").status?.phase == .queued)
                try await harness.endJob(of: "s2", message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("data", id: "2")]))
                try await harness.waitFor("s3", .running)
                let jobs = try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items
                #expect(jobs.count == 3)
            }
        }
    }

    @Test func givenAPerNodeLimitOfOne_whenTwoSessionsNeedTheSameNode_thenTheSecondWaitsAndOneElsewhereRuns() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createStorage()
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            for (claim, node) in [("a", "node-a"), ("b", "node-a"), ("c", "node-b")] {
                try await harness.createClaim(claim)
                try await harness.createRunningPod("pod-\(claim)", node: node, claims: [claim])
                try await harness.createConfiguration("config-\(claim)", target: "app") { $0.spec.volumes = VolumeSelection(pvcs: [claim]) }
            }
            try await harness.createDeployment("app", claims: [])
            try await harness.running(configure: { ($0.maxRunning, $0.maxRunningPerNode) = (nil, 1) }) { _ in
                try await harness.createSession("sa", configuration: "config-a")
                try await harness.waitFor("sa", .running)
                try await harness.createSession("sb", configuration: "config-b")
                try await harness.createSession("sc", configuration: "config-c")
                let queued = try await harness.waitFor("sb", .queued)
                #expect(queued.status?.reason == "NodeConcurrencyLimit")
                #expect(queued.status?.message?.contains("node-a") == true)
                try await harness.waitFor("sc", .running)

                try await harness.endJob(of: "sa", message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("a", id: "1")]))
                try await harness.waitFor("sb", .running)
                let job = try await harness.job(for: "sb")
                #expect(job[path: "spec", "template", "spec", "nodeSelector", "kubernetes.io/hostname"]?.string == "node-a")
            }
        }
    }

    @Test func givenMoreFinishedSessionsThanTheHistoryLimit_thenTheOldestAreDeleted() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures { $0.spec.historyLimit = 2 }
            for (index, name) in ["h1", "h2", "h3", "h4"].enumerated() {
                try await harness.finishedSession(name, session: "nightly", completed: "2026-11-2\(index)T01:00:00Z")
            }
            try await harness.finishedSession("w1", session: "weekly", completed: "2026-11-01T01:00:00Z")
            try await harness.running { _ in
                try await eventually("h1 and h2 to be deleted", .seconds(20)) {
                    let names = try await harness.client.list(ExecutorResource.sessions, namespace: harness.namespace).items.map(\.name)
                    return names.sorted() == ["h3", "h4", "w1"]
                }
            }
        }
    }

    @Test func givenSessionsThatRunAndEnd_thenTheMetricsCountThemByPhase() async throws {
        let metrics = TestMetrics()
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.running(configure: { $0.metricsFactory = metrics; $0.maxRunning = 1 }) { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                try await harness.createSession("s2")
                try await harness.waitFor("s2", .queued)
                try await eventually("the gauges to show one running and one queued", .seconds(10)) {
                    metrics.gauge("cairn_executor_running_sessions") == 1 && metrics.gauge("cairn_executor_queued_sessions") == 1
                }
                try await harness.endJob(of: "s1", message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("data", id: "1")]))
                try await harness.waitFor("s2", .running)
                try await harness.endJob(of: "s2", message: nil)
                try await harness.waitFor("s2", .failed)
                // Counted once the status write is accepted, a moment after the test can read it.
                try await eventually("one Succeeded and one Failed session counted", .seconds(10)) {
                    metrics.counterTotal(label: "cairn_executor_sessions_total", dimensions: [("phase", "Succeeded")]) == 1
                        && metrics.counterTotal(label: "cairn_executor_sessions_total", dimensions: [("phase", "Failed")]) == 1
                }
                try await eventually("the gauges to show nothing running or queued", .seconds(10)) {
                    metrics.gauge("cairn_executor_running_sessions") == 0 && metrics.gauge("cairn_executor_queued_sessions") == 0
                }
            }
        }
    }
}

extension RunnerHarness {
    /// A session that finished at `completed`, as a runner would have left it.
    func finishedSession(_ name: String, session: String, completed: String) async throws {
        var object = try await createSession(name, session: session)
        var status = BackupSessionStatus(phase: .succeeded)
        status.completionTime = completed
        object["status"] = try NodeEncoder().encode(status)
        _ = try await client.updateStatus(ExecutorResource.sessions, namespace: namespace, object)
    }
}

extension TestMetrics {
    /// The last value of a gauge without dimensions.
    func gauge(_ label: String) -> Double? { recorders(label: label, dimensions: []).first?.lastValue }
}
