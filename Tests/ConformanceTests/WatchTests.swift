import CairnTesting
import Kube
import Testing
import YAML

/// Watches through the client: event types, bookmarks, resuming, expiry and timeouts.
@Suite struct WatchTests {
    static let configMaps = Conformance.configMaps

    @Test func givenAWatchFromAList_WhenAnObjectIsCreatedUpdatedAndDeleted_ThenAddedModifiedDeletedArriveInOrder() async throws {
        try await TestCluster.with { cluster in
            let list = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace)
            let stream = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(
                fieldSelector: "metadata.name=watched", resourceVersion: list.resourceVersion))
            let events = Task { try await collect(stream) { $0.count == 3 } }

            var object = try await cluster.client.create(Self.configMaps, Conformance.configMap("watched", in: cluster.namespace, data: ["v": "1"]))
            object["data"] = .mapping(["v": "2"])
            object = try await cluster.client.update(Self.configMaps, object)
            try await cluster.client.delete(Self.configMaps, namespace: cluster.namespace, name: "watched")

            let seen = try await withDeadline("three watch events") { try await events.value }
            #expect(seen.map(\.summary) == ["ADDED watched", "MODIFIED watched", "DELETED watched"])
            guard case .modified(let modified) = seen[1] else { return }
            #expect(modified[path: "data", "v"] == "2")
            #expect(modified.resourceVersion == object.resourceVersion)
        }
    }

    @Test func givenBookmarksAllowed_WhenTheWatchIsQuiet_ThenABookmarkCarriesAResourceVersion() async throws {
        try await TestCluster.with { cluster in
            let list = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace)
            let stream = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(
                resourceVersion: list.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 150))

            // The sandbox sends one a second here; kube-apiserver about once a minute.
            let events = try await withDeadline("a bookmark", .seconds(120)) {
                try await collect(stream, bookmarks: true) { events in
                    if case .bookmark = events.last { return true } else { return false }
                }
            }

            guard case .bookmark(let bookmark)? = events.last else {
                Issue.record("the watch ended without a bookmark: \(events.map(\.summary))")
                return
            }
            #expect(bookmark["kind"] == "ConfigMap")
            #expect(!bookmark.resourceVersion.isEmpty)
        }
    }

    @Test func givenAResourceVersion_WhenAWatchResumesFromIt_ThenOnlyLaterChangesArrive() async throws {
        try await TestCluster.with { cluster in
            var first = try await cluster.client.create(Self.configMaps, Conformance.configMap("first", in: cluster.namespace))
            let resumeAt = first.resourceVersion
            first["data"] = .mapping(["changed": "yes"])
            _ = try await cluster.client.update(Self.configMaps, first)
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("second", in: cluster.namespace))

            let stream = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(
                labelSelector: nil, resourceVersion: resumeAt))
            let seen = try await withDeadline("the changes after the resourceVersion") {
                try await collect(stream) { $0.count == 2 }
            }

            #expect(seen.map(\.summary) == ["MODIFIED first", "ADDED second"])
        }
    }

    @Test func givenAResourceVersionOlderThanTheHistory_WhenWatched_Then410AndARelistRecovers() async throws {
        try await TestCluster.with(historyLimit: 5) { cluster in
            let list = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace)
            for index in 0..<10 {
                _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("churn-\(index)", in: cluster.namespace))
            }
            // The sandbox keeps 5 events here; a real cluster compacts within minutes, and
            // resourceVersion 1 is long gone on any cluster that has run a while.
            let old = cluster.isSandbox ? list.resourceVersion : "1"

            let expired = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(resourceVersion: old))
            let status: KubeStatus
            do {
                let events = try await withDeadline("the expiry") { try await collect(expired) { _ in true } }
                guard case .error(let error)? = events.first else {
                    Issue.record("expected an ERROR event, got \(events.map(\.summary))")
                    return
                }
                status = error
            } catch let error as KubeError {
                status = try #require(error.status)  // some servers refuse the watch outright
            }
            #expect(status.errorKind == .gone)
            #expect(status.code == 410)
            #expect(status.reason == "Expired")

            let relist = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace)
            #expect(relist.items.count >= 10)
            let resumed = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(
                fieldSelector: "metadata.name=after", resourceVersion: relist.resourceVersion))
            let events = Task { try await collect(resumed) { $0.count == 1 } }
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("after", in: cluster.namespace))
            let seen = try await withDeadline("the event after the relist") { try await events.value }
            #expect(seen.map(\.summary) == ["ADDED after"])
        }
    }

    @Test func givenTimeoutSeconds_WhenNothingHappens_ThenTheServerEndsTheWatch() async throws {
        try await TestCluster.with { cluster in
            let clock = ContinuousClock()
            let start = clock.now
            let stream = cluster.client.watch(Self.configMaps, namespace: cluster.namespace, options: WatchOptions(
                fieldSelector: "metadata.name=nothing", allowWatchBookmarks: false, timeoutSeconds: 2))

            let events = try await withDeadline("the server to end the watch") {
                try await collect(stream) { _ in false }
            }

            #expect(events.isEmpty)
            #expect(clock.now - start >= .seconds(1))
        }
    }
}
