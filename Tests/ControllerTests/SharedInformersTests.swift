import CairnTesting
import Kube
import Synchronization
import Testing
import YAML

/// Shared informers against the sandbox over HTTPS: one cache and one watch per resource,
/// namespace, selector and transform, whatever the number of owners.
@Suite struct SharedInformersTests {
    @Test func givenTwoOwnersOfOneResource_WhenTheyRunTogether_ThenOneInformerListsOnceAndServesBothHandlersAndIndexes() async throws {
        try await TestCluster.with { cluster in
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "cm", count: 5) { ["tier": $0 % 2 == 0 ? "even" : "odd"] }
            let informers = SharedInformers(client: cluster.client, options: InformerTests.quickRetries)
            let first = informers.informer(configMaps, namespace: cluster.namespace)
            let second = informers.informer(configMaps, namespace: cluster.namespace)
            let firstSeen = Mutex<Set<String>>([])
            let secondSeen = Mutex<Set<String>>([])
            first.addHandler(added: { object in _ = firstSeen.withLock { $0.insert(ObjectKey(object).name) } })
            second.addHandler(added: { object in _ = secondSeen.withLock { $0.insert(ObjectKey(object).name) } })
            first.addIndexers(["tier": { [$0[path: "metadata", "labels", "tier"]?.string ?? ""] }])
            second.addIndexers(["initial": { [ObjectKey($0).name.last.map(String.init) ?? ""] }])

            try await runningAll(informers) {
                _ = try await cluster.client.create(configMaps, configMap("late", in: cluster.namespace, labels: ["tier": "even"]))
                let expected = Set((0..<5).map { "cm-\($0)" } + ["late"])
                try await eventually(.seconds(10), "both owners' handlers to see every ConfigMap") {
                    firstSeen.withLock { $0 } == expected && secondSeen.withLock { $0 } == expected
                }
                #expect(first === second)
                #expect(informers.count == 1)
                #expect(first.statistics.lists == 1, "\(first.statistics)")
                #expect(Set(second.byIndex(name: "tier", value: "even").map { ObjectKey($0).name }) == ["cm-0", "cm-2", "cm-4", "late"])
                #expect(first.byIndex(name: "initial", value: "3").map { ObjectKey($0).name } == ["cm-3"])
            }
        }
    }

    @Test func givenATransformOrAnotherNamespace_WhenAsked_ThenEachIsItsOwnInformerAndOneAskedAfterTheStartRunsToo() async throws {
        try await TestCluster.with { cluster in
            _ = try await cluster.client.create(configMaps, configMap("cm", in: cluster.namespace, data: ["v": "1"]))
            let informers = SharedInformers(client: cluster.client, options: InformerTests.quickRetries)
            let whole = informers.informer(configMaps, namespace: cluster.namespace)
            let metadata = informers.informer(configMaps, namespace: cluster.namespace, transform: .metadataOnly)
            #expect(whole !== metadata)

            try await runningAll(informers) {
                #expect(whole.get(namespace: cluster.namespace, name: "cm")?["data"]?["v"] == "1")
                #expect(metadata.get(namespace: cluster.namespace, name: "cm")?["data"] == nil)
                #expect(metadata.get(namespace: cluster.namespace, name: "cm")?[path: "metadata", "name"] == "cm")

                let selected = informers.informer(configMaps, namespace: cluster.namespace, labelSelector: "app=db")
                #expect(informers.count == 3)
                _ = try await cluster.client.create(configMaps, configMap("db", in: cluster.namespace, labels: ["app": "db"]))
                try await within(.seconds(10), "the informer asked for after the start to sync") { try await selected.waitForSync() }
                try await eventually(.seconds(10), "the selected ConfigMap") { selected.list().map { ObjectKey($0).name } == ["db"] }
            }
        }
    }

    @Test func givenAFilledCache_WhenAnOwnerAddsAnIndex_ThenTheCachedObjectsAreFiledUnderIt() async throws {
        try await TestCluster.with { cluster in
            try await createConfigMaps(cluster.client, namespace: cluster.namespace, prefix: "cm", count: 4) { ["tier": $0 < 3 ? "low" : "high"] }
            let informer = Informer(client: cluster.client, resource: configMaps, namespace: cluster.namespace, options: InformerTests.quickRetries)

            try await running(informer) {
                informer.addIndexers(["tier": { [$0[path: "metadata", "labels", "tier"]?.string ?? ""] }])
                #expect(informer.byIndex(name: "tier", value: "low").map { ObjectKey($0).name } == ["cm-0", "cm-1", "cm-2"])
                #expect(informer.indexValues(name: "tier") == ["high", "low"])
            }
        }
    }
}

/// Runs the shared informers for the duration of `body`, once all have synced, then stops them.
func runningAll<T: Sendable>(_ informers: SharedInformers, _ body: @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await informers.run() }
        defer { group.cancelAll() }
        try await within(.seconds(20), "the shared informers' first lists") { try await informers.waitForSync() }
        return try await body()
    }
}
