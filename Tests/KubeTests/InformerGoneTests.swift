import Synchronization
import Testing
import YAML
@testable import Kube

/// The informer against a scripted HTTP server, for answers the sandbox never gives: a watch
/// refused with an HTTP 410 (the sandbox reports expiry as an ERROR event instead).
@Suite struct InformerGoneTests {
    static func pod(_ name: String, _ version: String) -> String {
        #"{"metadata":{"name":"\#(name)","namespace":"app","resourceVersion":"\#(version)"}}"#
    }

    static func list(_ items: [String], version: String, continueToken: String? = nil) -> Reply {
        let token = continueToken.map { #","continue":"\#($0)""# } ?? ""
        return .json(200, #"{"kind":"PodList","metadata":{"resourceVersion":"\#(version)"\#(token)},"items":[\#(items.joined(separator: ","))]}"#)
    }

    /// Runs `informer` until `count` events arrived and the server saw `watchCount` watches, then
    /// stops it; the events as `added a@3`, `updated b 4->17`, `deleted a`. Fails after 20 s.
    static func firstEvents(_ count: Int, of informer: Informer, _ events: AsyncStream<InformerEvent>,
                            thenWatches watchCount: Int, _ watches: Counter) async throws -> [String] {
        let seen = try await withThrowingTaskGroup(of: [InformerEvent]?.self) { group in
            group.addTask {
                await informer.run()
                return nil
            }
            group.addTask {
                var seen: [InformerEvent] = []
                for await event in events {
                    seen.append(event)
                    if seen.count == count { break }
                }
                while watches.value < watchCount { try await Task.sleep(for: .milliseconds(10)) }  // the watch after the relist
                return seen
            }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                return nil
            }
            let seen = try await group.next() ?? nil
            group.cancelAll()
            return seen
        }
        return try #require(seen, "\(count) events and \(watchCount) watches within 20 s").map { event -> String in
            switch event {
            case .added(let object): "added \(ObjectKey(object).name)@\(object[path: "metadata", "resourceVersion"]?.string ?? "")"
            case .updated(let old, let new): "updated \(ObjectKey(new).name) \(old[path: "metadata", "resourceVersion"]?.string ?? "")->\(new[path: "metadata", "resourceVersion"]?.string ?? "")"
            case .deleted(let object): "deleted \(ObjectKey(object).name)"
            }
        }
    }

    @Test func givenAWatchRefusedWithHTTP410_WhenTheInformerRuns_ThenItRelistsAndReportsTheDifferences() async throws {
        let watches = Counter()
        let lists = Counter()
        let server = try ScriptedServer { request, _ in
            if request.query["watch"] == "true" {
                let index = watches.increment()
                if index == 1 { return status(410, "Expired", "too old resource version: 10 (15)") }
                return .chunks([""], delayMilliseconds: 30_000, terminate: false)  // a quiet watch, until cancelled
            }
            let index = lists.increment()
            switch (index, request.query["continue"]) {
            case (1, nil): return Self.list([Self.pod("a", "3")], version: "10", continueToken: "page-2")
            case (_, "page-2"): return Self.list([Self.pod("b", "4")], version: "10")
            default: return Self.list([Self.pod("b", "17"), Self.pod("c", "18")], version: "20")
            }
        }
        defer { server.stop() }
        var options = Informer.Options()
        options.pageSize = 1
        options.backoff = Backoff(initial: .milliseconds(10), cap: .milliseconds(10))
        let informer = Informer(client: makeClient(server), resource: pods, namespace: "app", options: options)
        let events = informer.events()
        let names = try await Self.firstEvents(5, of: informer, events, thenWatches: 2, watches)
        #expect(names == ["added a@3", "added b@4", "deleted a", "updated b 4->17", "added c@18"])
        #expect(informer.statistics.relists == 1)
        let requests = server.received
        #expect(requests.first?.query["limit"] == "1")
        let firstWatch = try #require(requests.first { $0.query["watch"] == "true" })
        #expect(firstWatch.query["resourceVersion"] == "10")
        #expect(firstWatch.query["allowWatchBookmarks"] == "true")
        let lastWatch = try #require(requests.last { $0.query["watch"] == "true" })
        #expect(lastWatch.query["resourceVersion"] == "20")
    }
}

extension InformerGoneTests {
    @Test func givenAPagedRelist_WhenAnObjectIsGone_ThenEachPageIsStoredBeforeTheNextAndTheDeleteComesWithTheLastPage() async throws {
        let watches = Counter()
        let lists = Counter()
        let informerBox = Shared<Informer>()
        let cachedWhenPageTwoWasAsked = Shared<String>()
        let server = try ScriptedServer { request, _ in
            if request.query["watch"] == "true" {
                if watches.increment() == 1 { return status(410, "Expired", "too old resource version: 10 (15)") }
                return .chunks([""], delayMilliseconds: 30_000, terminate: false)  // a quiet watch, until cancelled
            }
            _ = lists.increment()
            switch request.query["continue"] {
            case nil where watches.value == 0: return Self.list([Self.pod("a", "1"), Self.pod("b", "2")], version: "10", continueToken: "first-2")
            case "first-2": return Self.list([Self.pod("c", "3")], version: "10")
            case nil: return Self.list([Self.pod("a", "1"), Self.pod("c", "5")], version: "20", continueToken: "second-2")
            default:
                // The relist's first page must be in the cache before its second is asked for.
                let cached = informerBox.value?.get(namespace: "app", name: "c")
                cachedWhenPageTwoWasAsked.value = cached?[path: "metadata", "resourceVersion"]?.string
                return Self.list([Self.pod("d", "6")], version: "20")
            }
        }
        defer { server.stop() }
        var options = Informer.Options()
        options.pageSize = 2
        options.backoff = Backoff(initial: .milliseconds(10), cap: .milliseconds(10))
        let informer = Informer(client: makeClient(server), resource: pods, namespace: "app", options: options)
        informerBox.value = informer
        let events = informer.events()
        let names = try await Self.firstEvents(6, of: informer, events, thenWatches: 2, watches)
        #expect(names == ["added a@1", "added b@2", "added c@3", "updated c 3->5", "deleted b", "added d@6"])
        #expect(cachedWhenPageTwoWasAsked.value == "5")
        #expect(informer.list().map { ObjectKey($0).name } == ["a", "c", "d"])
        #expect(informer.statistics.relists == 1 && informer.statistics.lists == 2)
        #expect(lists.value == 4)
        let lastWatch = try #require(server.received.last { $0.query["watch"] == "true" })
        #expect(lastWatch.query["resourceVersion"] == "20")
    }
}

/// A count shared between the server's handler and the test.
final class Counter: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }

    /// Adds one and returns the new count.
    func increment() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }
}

/// A value shared between the server's handler and the test, set once it is known.
final class Shared<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)

    var value: Value? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
