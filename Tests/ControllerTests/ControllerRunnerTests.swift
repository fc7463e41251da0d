import CairnTesting
import Kube
import Synchronization
import Testing
import YAML

/// Workers, outcomes and shutdown of the controller runner.
@Suite struct ControllerRunnerTests {
    struct Flaky: Error {}

    @Test func givenAReconcileThatFailsTwice_WhenRun_ThenItIsRetriedWithBackoffAndForgottenOnSuccess() async throws {
        let queue = WorkQueue<String>(rateLimit: .init(base: .milliseconds(1), cap: .milliseconds(10)))
        let attempts = Mutex(0)
        let capture = LogCapture()
        let runner = ControllerRunner(queue: queue, workers: 2, logger: capture.logger("runner")) { key in
            let attempt = attempts.withLock { count in
                count += 1
                return count
            }
            if attempt < 3 { throw Flaky() }
            return .done
        }
        await queue.add("a")

        try await within(.seconds(10), "the runner") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await runner.run() }
                try await eventually(.seconds(5), "three attempts") { attempts.withLock { $0 } == 3 }  // checked below
                runner.shutDown()
            }
        }

        #expect(attempts.withLock { $0 } == 3)
        #expect(await queue.failureCount("a") == 0)
        let errors = capture.messages(atLeast: .error)
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0.contains("key=a") && $0.contains("Flaky") })
    }

    @Test func givenARequeue_WhenReconciled_ThenTheKeyComesBackAfterTheDelay() async throws {
        let clock = TestClock()
        let queue = WorkQueue<String>(clock: clock)
        let passes = Mutex(0)
        let runner = ControllerRunner(queue: queue, workers: 1) { _ in
            passes.withLock { $0 += 1 }
            return .requeue(after: .seconds(30))
        }
        await queue.add("a")

        try await within(.seconds(10), "the runner") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await runner.run() }
                try await eventually(.seconds(5), "the requeue timer") { clock.sleeperCount == 1 }
                #expect(passes.withLock { $0 } == 1)
                clock.advance(by: .seconds(30))
                try await eventually(.seconds(5), "the second pass") { passes.withLock { $0 } == 2 }
                runner.shutDown()
            }
        }
        #expect(passes.withLock { $0 } == 2)
    }

    @Test func givenManyWorkersAndOneBusyKey_WhenAddedRepeatedly_ThenItIsNeverReconciledTwiceAtOnce() async throws {
        let queue = WorkQueue<String>()
        let inFlight = Mutex<[String: Int]>([:])
        let overlap = Mutex(false)
        let passes = Mutex(0)
        let runner = ControllerRunner(queue: queue, workers: 4) { key in
            let concurrent = inFlight.withLock { counts in
                counts[key, default: 0] += 1
                return counts[key]!
            }
            if concurrent > 1 { overlap.withLock { $0 = true } }
            try await Task.sleep(for: .milliseconds(5))
            inFlight.withLock { $0[key, default: 0] -= 1 }
            passes.withLock { $0 += 1 }
            return .done
        }

        try await within(.seconds(20), "the runner") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await runner.run() }
                for round in 0..<200 {
                    await queue.add(round % 3 == 0 ? "hot" : "k\(round % 7)")
                    if round % 10 == 0 { try await Task.sleep(for: .milliseconds(2)) }
                }
                try await eventually(.seconds(10), "the queue to drain") { await queue.depth == 0 && inFlight.withLock { $0.values.allSatisfy { $0 == 0 } } }
                runner.shutDown()
            }
        }
        #expect(!overlap.withLock { $0 })
        #expect(passes.withLock { $0 } >= 8)
    }

    @Test func givenInFlightReconciles_WhenShutDown_ThenTheyFinishAndNoNewKeyIsTaken() async throws {
        let queue = WorkQueue<String>()
        let started = Mutex<[String]>([])
        let finished = Mutex<[String]>([])
        let runner = ControllerRunner(queue: queue, workers: 2, gracePeriod: .seconds(10)) { key in
            started.withLock { $0.append(key) }
            try await Task.sleep(for: .milliseconds(400))
            finished.withLock { $0.append(key) }
            return .done
        }
        for key in ["a", "b", "c", "d"] { await queue.add(key) }

        let clock = ContinuousClock()
        let elapsed = try await within(.seconds(10), "the graceful shutdown") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await runner.run() }
                try await eventually(.seconds(5), "two reconciles in flight") { started.withLock { $0.count } == 2 }
                let begin = clock.now
                runner.shutDown()
                try await group.waitForAll()
                return clock.now - begin
            }
        }

        #expect(finished.withLock { $0.sorted() } == ["a", "b"])
        #expect(started.withLock { $0.count } == 2, "no key was taken after shutdown")
        #expect(elapsed < .seconds(5))
    }

    @Test func givenAReconcileThatOutlivesTheGracePeriod_WhenCancelled_ThenRunReturnsAfterTheGracePeriod() async throws {
        let queue = WorkQueue<String>()
        let cancelled = Mutex(false)
        let started = Mutex(false)
        let runner = ControllerRunner(queue: queue, workers: 1, gracePeriod: .milliseconds(300)) { _ in
            started.withLock { $0 = true }
            do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.withLock { $0 = true } }
            return .done
        }
        await queue.add("slow")

        let clock = ContinuousClock()
        let run = Task { await runner.run() }
        try await eventually(.seconds(5), "the reconcile to start") { started.withLock { $0 } }
        let begin = clock.now
        run.cancel()
        try await within(.seconds(10), "run to return") { await run.value }
        let elapsed = clock.now - begin

        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(5), "returned after \(elapsed)")
        try await eventually(.seconds(5), "the reconcile to see its cancellation") { cancelled.withLock { $0 } }
    }

    @Test func givenAnInformerWiredToARunner_WhenObjectsAppear_ThenEachIsReconciledAgainstTheServer() async throws {
        try await TestCluster.with { cluster in
            let informer = Informer(client: cluster.client, resource: configMaps, namespace: cluster.namespace)
            let queue = WorkQueue<ObjectKey>()
            informer.enqueue(into: queue)
            let runner = ControllerRunner(queue: queue, workers: 3) { key in
                // Level-based: read the cache, act only when the state differs.
                guard let object = informer.get(key), object[path: "metadata", "annotations", "seen"] == nil else { return .done }
                _ = try await cluster.client.patch(configMaps, namespace: key.namespace, name: key.name,
                                                   .mapping(["metadata": .mapping(["annotations": .mapping(["seen": "yes"])])]))
                return .done
            }
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "cm", count: 20)

            try await running(informer) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await runner.run() }
                    try await eventually(.seconds(20), "every object annotated") {
                        let list = try await cluster.client.list(configMaps, namespace: cluster.namespace)
                        return list.items.count == 20 && list.items.allSatisfy { $0[path: "metadata", "annotations", "seen"] == "yes" }
                    }
                    runner.shutDown()
                }
            }
        }
    }
}
