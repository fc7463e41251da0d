import CairnTesting
import Kube
import Testing
import YAML

/// Label and field selectors, and paginated lists. Every object carries `suite=list`, so the
/// ConfigMaps a real cluster adds to each namespace (`kube-root-ca.crt`) stay out of the results.
@Suite struct ListTests {
    static let configMaps = Conformance.configMaps
    static let labels: [String: [String: String]] = [
        "a": ["tier": "db", "env": "prod"], "b": ["tier": "web"], "c": ["tier": "cache", "env": "dev"], "d": [:],
    ]

    private func seed(_ cluster: TestCluster) async throws {
        for (name, labels) in Self.labels.sorted(by: { $0.key < $1.key }) {
            let all = labels.merging(["suite": "list"]) { first, _ in first }
            _ = try await cluster.client.create(Self.configMaps, Conformance.configMap(name, in: cluster.namespace, labels: all))
        }
    }

    @Test(arguments: [
        ("tier=db", ["a"]), ("tier==db", ["a"]), ("tier!=db", ["b", "c", "d"]), ("tier in (web,cache)", ["b", "c"]),
        ("tier notin (web,cache)", ["a", "d"]), ("env", ["a", "c"]), ("!env", ["b", "d"]), ("tier,env=dev", ["c"]),
    ])
    func givenLabelledObjects_WhenListedWithALabelSelector_ThenOnlyTheMatchingOnesComeBack(selector: String, names: [String]) async throws {
        try await TestCluster.with { cluster in
            try await seed(cluster)

            let list = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace,
                                                     options: ListOptions(labelSelector: "suite=list,\(selector)"))

            #expect(list.items.map(\.name).sorted() == names)
        }
    }

    @Test func givenObjects_WhenListedWithFieldSelectors_ThenNameAndNamespaceSelect() async throws {
        try await TestCluster.with { cluster in
            try await seed(cluster)

            let byName = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace, options: ListOptions(fieldSelector: "metadata.name=b"))
            let allButB = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace,
                                                        options: ListOptions(labelSelector: "suite=list", fieldSelector: "metadata.name!=b"))
            let everywhere = try await cluster.client.list(Self.configMaps, options: ListOptions(
                labelSelector: "suite=list", fieldSelector: "metadata.namespace=\(cluster.namespace)"))

            #expect(byName.items.map(\.name) == ["b"])
            #expect(allButB.items.map(\.name).sorted() == ["a", "c", "d"])
            #expect(everywhere.items.map(\.name).sorted() == ["a", "b", "c", "d"])
        }
    }

    @Test func givenABadSelector_WhenListed_ThenBadRequest() async throws {
        try await TestCluster.with { cluster in
            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.list(Self.configMaps, namespace: cluster.namespace, options: ListOptions(labelSelector: "tier in ("))
            }
            #expect(error?.kind == .badRequest)
            #expect(error?.httpCode == 400)
        }
    }

    @Test func givenTwentyFiveObjects_WhenListedTenAtATime_ThenThePagesHoldEachOnceFromOneSnapshot() async throws {
        try await TestCluster.with { cluster in
            let expected = (0..<25).map { String(format: "page-%02d", $0) }
            for name in expected {
                _ = try await cluster.client.create(Self.configMaps, Conformance.configMap(name, in: cluster.namespace, labels: ["suite": "pages"]))
            }

            var pages: [ObjectList] = []
            var token: String?
            repeat {
                let page = try await cluster.client.list(Self.configMaps, namespace: cluster.namespace,
                                                         options: ListOptions(labelSelector: "suite=pages", limit: 10, continueToken: token))
                pages.append(page)
                token = page.continueToken
                // Created while paging: a consistent snapshot does not show it.
                if pages.count == 1 {
                    _ = try await cluster.client.create(Self.configMaps, Conformance.configMap("page-00a", in: cluster.namespace, labels: ["suite": "pages"]))
                }
            } while token != nil && pages.count < 10

            #expect(pages.map(\.items.count) == [10, 10, 5])
            #expect(pages.flatMap(\.items).map(\.name) == expected)
            #expect(Set(pages.map(\.resourceVersion)).count == 1, "every page is read at the first page's resourceVersion")
        }
    }

    @Test func givenAForgedContinueToken_WhenListed_ThenBadRequest() async throws {
        try await TestCluster.with { cluster in
            let error = await #expect(throws: KubeError.self) {
                try await cluster.client.list(Self.configMaps, namespace: cluster.namespace, options: ListOptions(limit: 10, continueToken: "not-a-token"))
            }
            #expect(error?.kind == .badRequest)
        }
    }
}
