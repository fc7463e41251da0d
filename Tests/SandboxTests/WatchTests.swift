import Sandbox
import Testing
import YAML

@Suite struct WatchTests {
    @Test func givenAResourceVersion_whenWatchResumes_thenItGetsEveryLaterEventInOrder() async throws {
        let store = try await Fixture.storeWithNamespace()
        let a = try await store.create(Fixture.object("a"), in: Fixture.pods, namespace: "ns")
        _ = try await store.create(Fixture.object("b"), in: Fixture.pods, namespace: "ns")
        _ = try await store.update(Fixture.object("a", labels: ["x": "1"]), in: Fixture.pods, namespace: "ns", name: "a")
        let stream = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: a.rv))
        _ = try await store.delete(Fixture.pods, namespace: "ns", name: "b")
        let events = await take(3, from: stream)
        #expect(events.map(\.type) == [.added, .modified, .deleted])
        #expect(events.map { $0.object.meta("name")?.string ?? "" } == ["b", "a", "b"])
        #expect(events.map(\.resourceVersion) == ["3", "4", "5"])
        #expect(try json(events[0].node).hasPrefix(#"{"type":"ADDED","object":{"#))
    }

    @Test func givenACompactedHistory_whenWatchingFromBeforeIt_then410TooOldResourceVersion() async throws {
        let store = try await Fixture.storeWithNamespace(historyLimit: 3)
        for name in ["a", "b", "c", "d", "e"] { _ = try await store.create(Fixture.object(name), in: Fixture.pods, namespace: "ns") }
        let error = await #expect(throws: StatusError.self) {
            _ = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: "2"))
        }
        #expect(try json(#require(error).node) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 2 (3)","reason":"Expired","code":410}"#)
        let resumed = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: "3"))
        #expect(await take(3, from: resumed).map(\.resourceVersion) == ["4", "5", "6"])
    }

    @Test(arguments: ["", "0"])
    func givenNoResourceVersion_whenWatching_thenCurrentObjectsComeFirstAsAdded(version: String) async throws {
        let store = try await Fixture.storeWithNamespace()
        _ = try await store.create(Fixture.object("a"), in: Fixture.pods, namespace: "ns")
        _ = try await store.create(Fixture.object("b"), in: Fixture.pods, namespace: "ns")
        let stream = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: version))
        _ = try await store.create(Fixture.object("c"), in: Fixture.pods, namespace: "ns")
        let events = await take(3, from: stream)
        #expect(events.map(\.type) == [.added, .added, .added])
        #expect(events.map { $0.object.meta("name")?.string ?? "" } == ["a", "b", "c"])
    }

    @Test func givenALabelSelector_whenObjectsMoveInAndOut_thenTheWatcherSeesAddedAndDeleted() async throws {
        let store = try await Fixture.storeWithNamespace()
        let stream = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: "1", labelSelector: "tier=db"))
        _ = try await store.create(Fixture.object("a", labels: ["tier": "web"]), in: Fixture.pods, namespace: "ns")
        _ = try await store.update(Fixture.object("a", labels: ["tier": "db"]), in: Fixture.pods, namespace: "ns", name: "a")
        _ = try await store.update(Fixture.object("a", labels: ["tier": "db", "x": "y"]), in: Fixture.pods, namespace: "ns", name: "a")
        _ = try await store.update(Fixture.object("a", labels: ["tier": "web"]), in: Fixture.pods, namespace: "ns", name: "a")
        let events = await take(3, from: stream)
        #expect(events.map(\.type) == [.added, .modified, .deleted])
        #expect(events.map(\.resourceVersion) == ["3", "4", "5"])
    }

    @Test func givenBookmarksAllowed_whenTheServerSendsThem_thenOnlyThoseWatchersGetOne() async throws {
        let store = try await Fixture.storeWithNamespace()
        let withBookmarks = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: "1", allowBookmarks: true))
        let without = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: "1"))
        _ = try await store.create(Fixture.object("cfg"), in: Fixture.configMaps, namespace: "ns")
        await store.sendBookmarks()
        _ = try await store.create(Fixture.object("a"), in: Fixture.pods, namespace: "ns")
        let events = await take(2, from: withBookmarks)
        #expect(events.map(\.type) == [.bookmark, .added])
        #expect(try json(events[0].object) == #"{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"2"}}"#)
        #expect(await take(1, from: without).map(\.type) == [.added])
    }

    @Test func givenASlowConsumer_whenTooManyEventsPileUp_thenItsStreamEndsWith410AndWritersGoOn() async throws {
        let store = try await Fixture.storeWithNamespace(watcherBufferLimit: 3)
        let stream = try await store.watch(Fixture.pods, namespace: "ns", options: WatchOptions(resourceVersion: "1"))
        for name in ["a", "b", "c", "d", "e", "f"] { _ = try await store.create(Fixture.object(name), in: Fixture.pods, namespace: "ns") }
        var events: [WatchEvent] = []
        for await event in stream { events.append(event) }
        #expect(events.map(\.type) == [.added, .added, .added, .added, .error])
        #expect(events.last?.object["code"] == 410)
        #expect(events.last?.object["reason"] == "Expired")
        #expect(await store.watcherCount == 0)
        #expect(try await store.list(Fixture.pods, namespace: "ns").items.count == 6)
    }

    @Test func givenAWatcherThatStops_whenItsStreamIsDropped_thenTheStoreForgetsIt() async throws {
        let store = try await Fixture.storeWithNamespace()
        var stream: AsyncStream<WatchEvent>? = try await store.watch(Fixture.pods, namespace: "ns")
        #expect(await store.watcherCount == 1)
        stream = nil
        _ = stream
        for _ in 0..<100 where await store.watcherCount > 0 { await Task.yield() }
        #expect(await store.watcherCount == 0)
    }
}
