import CairnTesting
import Kube
import Synchronization
import Testing
import YAML

/// The informer against the sandbox over HTTPS.
@Suite struct InformerTests {
    static var quickRetries: Informer.Options {
        var options = Informer.Options()
        options.backoff = Backoff(initial: .milliseconds(50), cap: .milliseconds(500))
        return options
    }

    @Test func givenThreeHundredObjects_WhenTheInformerListsInPages_ThenItsCacheMatchesTheServer() async throws {
        try await TestCluster.with { cluster in
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "cm", count: 300)
            var options = Self.quickRetries
            options.pageSize = 40
            let informer = Informer(client: cluster.client, resource: configMaps, namespace: cluster.namespace, options: options)

            try await running(informer) {
                #expect(informer.hasSynced)
                #expect(informer.list().count == 300)
                let expected = try await serverState(cluster.client, namespace: cluster.namespace)
                #expect(versions(informer.list(namespace: cluster.namespace)) == expected)
                #expect(informer.get(namespace: cluster.namespace, name: "cm-7")?[path: "metadata", "name"] == "cm-7")
                #expect(informer.get(namespace: cluster.namespace, name: "absent") == nil)
                #expect(informer.statistics.lists == 1)
            }
        }
    }

    @Test func givenARunningInformer_WhenAnObjectIsCreatedUpdatedAndDeleted_ThenTheEventsArriveInOrder() async throws {
        try await TestCluster.with { cluster in
            let informer = Informer(client: cluster.client, resource: configMaps, namespace: cluster.namespace, options: Self.quickRetries)
            let events = informer.events()
            let handled = Mutex<[String]>([])
            informer.addHandler(
                added: { object in handled.withLock { $0.append("added \(ObjectKey(object).name)") } },
                updated: { old, new in handled.withLock { $0.append("updated \(old["data"]?["v"]?.string ?? "-")->\(new["data"]?["v"]?.string ?? "-")") } },
                deleted: { object in handled.withLock { $0.append("deleted \(ObjectKey(object).name) \(object["data"]?["v"]?.string ?? "-")") } })

            try await running(informer) {
                let created = try await cluster.client.create(configMaps, configMap("a", in: cluster.namespace, data: ["v": "1"]))
                var changed = created
                changed["data"] = mapping(["v": "2"])
                _ = try await cluster.client.update(configMaps, changed)
                try await cluster.client.delete(configMaps, namespace: cluster.namespace, name: "a")

                let seen = try await within(.seconds(10), "three events") {
                    var seen: [InformerEvent] = []
                    for await event in events {
                        seen.append(event)
                        if seen.count == 3 { break }
                    }
                    return seen
                }
                guard case .added(let added) = seen[0], case .updated(let old, let new) = seen[1], case .deleted(let gone) = seen[2] else {
                    Issue.record("unexpected events: \(seen)")
                    return
                }
                #expect(added["data"]?["v"] == "1")
                #expect(old["data"]?["v"] == "1" && new["data"]?["v"] == "2")
                #expect(gone["data"]?["v"] == "2")
                try await eventually(.seconds(5), "the handlers") { handled.withLock { $0.count } == 3 }
                #expect(handled.withLock { $0 } == ["added a", "updated 1->2", "deleted a 2"])
                #expect(informer.get(namespace: cluster.namespace, name: "a") == nil)
            }
        }
    }

    @Test func givenAWatchThatFellBehindTheHistory_WhenItResumes_ThenItRelistsAndDeliversTheDifferences() async throws {
        try await TestCluster.with(historyLimit: 20) { cluster in
            let store = try #require(cluster.store)
            let restartable = try await RestartableServer(store: store, directory: cluster.directory)
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "old", count: 10)
            let informer = Informer(client: try restartable.client(), resource: configMaps, namespace: cluster.namespace, options: Self.quickRetries)
            let deleted = Mutex<Set<String>>([])
            let added = Mutex<Set<String>>([])
            informer.addHandler(added: { object in _ = added.withLock { $0.insert(ObjectKey(object).name) } },
                                deleted: { object in _ = deleted.withLock { $0.insert(ObjectKey(object).name) } })

            try await running(informer) {
                try await restartable.stop()
                // More writes than the history keeps, while the informer cannot watch.
                try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "new", count: 30)
                for index in 0..<5 { try await cluster.client.delete(configMaps, namespace: cluster.namespace, name: "old-\(index)") }
                for index in 5..<10 {
                    _ = try await cluster.client.patch(configMaps, namespace: cluster.namespace, name: "old-\(index)", .mapping(["data": mapping(["v": "2"])]))
                }
                try await restartable.start()

                let expected = try await serverState(cluster.client, namespace: cluster.namespace)
                try await eventually(.seconds(20), "the cache to match a fresh list") { versions(informer.list()) == expected }
                #expect(informer.statistics.relists >= 1)
                // Handlers run after the cache is updated, on the informer's delivery task.
                try await eventually(.seconds(10), "the relist's delete and add handlers") {
                    deleted.withLock { $0 } == Set((0..<5).map { "old-\($0)" })
                        && added.withLock { $0 }.isSuperset(of: (0..<30).map { "new-\($0)" })
                }
                #expect(informer.get(namespace: cluster.namespace, name: "old-7")?["data"]?["v"] == "2")
            }
            try await restartable.stop()
        }
    }

    @Test func givenTheServerGoesAwayMidWatch_WhenItComesBack_ThenTheInformerResumesWithoutRelisting() async throws {
        try await TestCluster.with { cluster in
            let store = try #require(cluster.store)
            let restartable = try await RestartableServer(store: store, directory: cluster.directory)
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "cm", count: 5)
            let informer = Informer(client: try restartable.client(), resource: configMaps, namespace: cluster.namespace, options: Self.quickRetries)

            try await running(informer) {
                let watchesBefore = informer.statistics.watches
                try await restartable.stop()
                _ = try await cluster.client.create(configMaps, configMap("while-down", in: cluster.namespace))
                try await cluster.client.delete(configMaps, namespace: cluster.namespace, name: "cm-0")
                try await Task.sleep(for: .milliseconds(300))  // let it fail to reconnect a few times
                try await restartable.start()

                let expected = try await serverState(cluster.client, namespace: cluster.namespace)
                try await eventually(.seconds(20), "the cache to match a fresh list") { versions(informer.list()) == expected }
                let statistics = informer.statistics
                #expect(statistics.lists == 1 && statistics.relists == 0, "resumed from its resourceVersion: \(statistics)")
                #expect(statistics.watches > watchesBefore + 1, "it retried while the server was down: \(statistics)")
                #expect(statistics.lastError != nil)
            }
            try await restartable.stop()
        }
    }

    @Test func givenLabelsAndAnnotationsThatChange_WhenIndexed_ThenTheIndexesFollow() async throws {
        try await TestCluster.with { cluster in
            let blueprintIndex = "blueprint"
            let informer = Informer(
                client: cluster.client, resource: configMaps, namespace: cluster.namespace,
                indexers: [blueprintIndex: { object in
                    [object[path: "metadata", "annotations", "blueprint.cairn.dev/name"]?.string].compactMap { $0 }
                }], options: Self.quickRetries)
            for (name, app, blueprint) in [("one", "db", "nightly"), ("two", "db", "hourly"), ("three", "web", "nightly")] {
                _ = try await cluster.client.create(configMaps, configMap(name, in: cluster.namespace, labels: ["app": app],
                                                                          annotations: ["blueprint.cairn.dev/name": blueprint]))
            }

            try await running(informer) {
                let names = { @Sendable (index: String, value: String) in informer.byIndex(name: index, value: value).map { ObjectKey($0).name } }
                #expect(names(Informer.labelIndex, "app=db") == ["one", "two"])
                #expect(names(blueprintIndex, "nightly") == ["one", "three"])
                #expect(names(Informer.namespaceIndex, cluster.namespace).count == 3)

                _ = try await cluster.client.patch(configMaps, namespace: cluster.namespace, name: "one", .mapping(["metadata": .mapping([
                    "labels": .mapping(["app": "web"]), "annotations": .mapping(["blueprint.cairn.dev/name": "hourly"]),
                ])]))
                try await cluster.client.delete(configMaps, namespace: cluster.namespace, name: "three")

                try await eventually(.seconds(10), "the index to follow") { names(Informer.labelIndex, "app=web") == ["one"] }
                #expect(names(Informer.labelIndex, "app=db") == ["two"])
                #expect(names(blueprintIndex, "hourly") == ["one", "two"])
                #expect(names(blueprintIndex, "nightly") == [])
                #expect(informer.indexValues(name: blueprintIndex) == ["hourly"])
            }
        }
    }

    @Test func givenALabelSelector_WhenAnObjectStopsMatching_ThenItLeavesTheCacheAsADelete() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(configMaps, configMap("in", in: cluster.namespace, labels: ["tier": "db"]))
            _ = try await cluster.client.create(configMaps, configMap("out", in: cluster.namespace, labels: ["tier": "web"]))
            let informer = Informer(client: cluster.client, resource: configMaps, namespace: cluster.namespace, labelSelector: "tier=db",
                                    options: Self.quickRetries)
            let events = informer.events()

            try await running(informer) {
                #expect(informer.list().map { ObjectKey($0).name } == ["in"])
                _ = try await cluster.client.patch(configMaps, namespace: cluster.namespace, name: "in", .mapping(["metadata": .mapping(["labels": .mapping(["tier": "web"])])]))
                let seen = try await within(.seconds(10), "the delete") {
                    var seen: [InformerEvent] = []
                    for await event in events {
                        seen.append(event)
                        if case .deleted = event { break }
                    }
                    return seen
                }
                #expect(seen.count == 2)  // the first list's add, then the delete
                #expect(informer.list().isEmpty)
            }
        }
    }

    @Test func givenAResyncInterval_WhenItPasses_ThenEveryCachedObjectIsDeliveredAgainAsAnUpdate() async throws {
        try await TestCluster.with { cluster in
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "cm", count: 3)
            let clock = TestClock()
            var options = Self.quickRetries
            options.resyncInterval = .seconds(60)
            let informer = Informer(client: cluster.client, resource: configMaps, namespace: cluster.namespace, options: options, clock: clock)
            let updates = Mutex<[String]>([])
            informer.addHandler(updated: { old, new in
                if old == new { updates.withLock { $0.append(ObjectKey(new).name) } }
            })

            try await running(informer) {
                try await eventually(.seconds(5), "the resync timer") { clock.sleeperCount >= 1 }
                #expect(updates.withLock { $0 }.isEmpty)
                clock.advance(by: .seconds(60))
                try await eventually(.seconds(5), "the resync") { updates.withLock { $0.count } == 3 }
                #expect(updates.withLock { $0 } == ["cm-0", "cm-1", "cm-2"])
            }
        }
    }
}

/// `Options.transform`: what the cache keeps of each object.
@Suite struct InformerTransformTests {
    @Test func givenTheMetadataOnlyTransform_WhenObjectsAreListedAndWatched_ThenTheCacheHoldsOnlyTheirMetadata() async throws {
        try await TestCluster.with { cluster in
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "listed", count: 3)
            var options = InformerTests.quickRetries
            options.transform = Informer.metadataOnly
            let informer = Informer(client: cluster.client, resource: configMaps, namespace: cluster.namespace, options: options)
            let events = informer.events()

            try await running(informer) {
                let listed = try #require(informer.get(namespace: cluster.namespace, name: "listed-1"))
                #expect(listed["data"] == nil)
                #expect(listed[path: "metadata", "name"] == "listed-1")
                #expect(listed["apiVersion"] == "v1")
                #expect(listed["kind"] == nil || listed["kind"] == "ConfigMap")

                let created = try await cluster.client.create(configMaps, configMap("watched", in: cluster.namespace, data: ["v": "1"]))
                let delivered: Node? = try await within(.seconds(10), "the watched object") {
                    for await event in events where ObjectKey(event.object).name == "watched" { return event.object }
                    return nil
                }
                #expect(delivered?["data"] == nil)
                #expect(delivered?[path: "metadata", "uid"] == created[path: "metadata", "uid"])
                let cached = try #require(informer.get(namespace: cluster.namespace, name: "watched"))
                #expect(cached["data"] == nil)
            }
        }
    }
}
