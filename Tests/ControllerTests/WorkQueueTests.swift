import Kube
import Testing

/// The work queue on its own: no server, time from a `TestClock`.
@Suite struct WorkQueueTests {
    @Test func givenAKeyAddedThreeTimes_WhenTaken_ThenItIsHandedOutOnce() async throws {
        let queue = WorkQueue<String>(clock: TestClock())
        await queue.add("a")
        await queue.add("b")
        await queue.add("a")
        await queue.add("a")

        #expect(await queue.depth == 2)
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        #expect(await queue.depth == 0)
    }

    @Test func givenAKeyBeingProcessed_WhenAddedAgain_ThenNoOtherWorkerGetsItUntilDone() async throws {
        let queue = WorkQueue<String>(clock: TestClock())
        await queue.add("a")
        let held = await queue.next()
        await queue.add("a")
        await queue.add("b")

        #expect(held == "a")
        #expect(await queue.next() == "b")  // "a" waits for its worker
        #expect(await queue.depth == 0)
        await queue.done("a")
        #expect(await queue.depth == 1)
        #expect(await queue.next() == "a")
        await queue.done("a")
        #expect(await queue.depth == 0)  // not queued a third time
    }

    @Test func givenAWaitingWorker_WhenAKeyArrives_ThenTheWorkerWakesWithIt() async throws {
        let queue = WorkQueue<String>(clock: TestClock())
        let worker = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(50))
        await queue.add("late")

        #expect(try await within(.seconds(5), "the woken worker") { await worker.value } == "late")
    }

    @Test func givenFailures_WhenAddedRateLimited_ThenEachWaitDoublesUpToTheCapUntilForgotten() async throws {
        let rateLimit = WorkQueue<String>.RateLimit(base: .milliseconds(5), cap: .milliseconds(40))
        #expect((0..<6).map { rateLimit.delay(afterFailures: $0) } == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(40), .milliseconds(40)])
        #expect(rateLimit.delay(afterFailures: 200) == .milliseconds(40))

        let clock = TestClock()
        let queue = WorkQueue<String>(rateLimit: rateLimit, clock: clock)
        for expected in [Duration.milliseconds(5), .milliseconds(10), .milliseconds(20)] {
            await queue.addRateLimited("a")
            try await eventually(.seconds(5), "the delayed add's timer") { clock.sleeperCount == 1 }
            clock.advance(by: expected - .milliseconds(1))
            #expect(await queue.depth == 0, "not due before \(expected)")
            clock.advance(by: .milliseconds(1))
            try await eventually(.seconds(5), "the key due after \(expected)") { await queue.depth == 1 }
            #expect(await queue.next() == "a")
            await queue.done("a")
        }
        #expect(await queue.failureCount("a") == 3)

        await queue.forget("a")
        #expect(await queue.failureCount("a") == 0)
        await queue.addRateLimited("a")
        try await eventually(.seconds(5), "the delayed add's timer") { clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(5))
        try await eventually(.seconds(5), "the key due after the base delay again") { await queue.depth == 1 }
    }

    @Test func givenAKeyAddedAfterADelay_WhenAddedAgainSooner_ThenTheEarlierTimeWins() async throws {
        let clock = TestClock()
        let queue = WorkQueue<String>(clock: clock)
        await queue.addAfter("a", .seconds(10))
        await queue.addAfter("a", .seconds(2))
        await queue.addAfter("a", .seconds(5))  // later than the pending time: ignored

        try await eventually(.seconds(5), "one timer left") { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(2))
        try await eventually(.seconds(5), "the key due after 2 s") { await queue.depth == 1 }
        clock.advance(by: .seconds(10))
        #expect(await queue.next() == "a")
        #expect(await queue.depth == 0)
    }

    @Test func givenWaitingWorkers_WhenShutDown_ThenNextReturnsNilAndAddsAreIgnored() async throws {
        let clock = TestClock()
        let queue = WorkQueue<String>(clock: clock)
        let workers = (0..<3).map { _ in Task { await queue.next() } }
        await queue.addAfter("later", .seconds(1))
        try await Task.sleep(for: .milliseconds(50))

        await queue.shutDown()
        await queue.add("ignored")

        for worker in workers { #expect(try await within(.seconds(5), "a worker's wake-up") { await worker.value } == nil) }
        #expect(await queue.next() == nil)
        #expect(await queue.depth == 0)
        #expect(await queue.isShuttingDown)
        try await eventually(.seconds(5), "the delayed add's timer cancelled") { clock.sleeperCount == 0 }
    }

    @Test func givenAWaitingWorker_WhenItsTaskIsCancelled_ThenNextReturnsNil() async throws {
        let queue = WorkQueue<String>(clock: TestClock())
        let worker = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(50))
        worker.cancel()

        #expect(try await within(.seconds(5), "the cancelled worker") { await worker.value } == nil)
        await queue.add("a")
        #expect(await queue.next() == "a")  // the cancelled worker did not swallow it
    }
}
