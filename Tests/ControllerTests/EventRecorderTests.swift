import CairnTesting
import Kube
import Testing
import YAML

/// Events recorded against the sandbox: aggregation, the rate limit, and failures kept from the caller.
@Suite struct EventRecorderTests {
    static func events(_ cluster: TestCluster, namespace: String? = nil) async throws -> [Node] {
        try await cluster.client.list(EventRecorder.events, namespace: namespace ?? cluster.namespace).items
    }

    /// Runs the recorder for the duration of `body`, then flushes and stops it.
    static func recording<T: Sendable>(_ recorder: EventRecorder, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await recorder.run() }
            defer { group.cancelAll() }
            let result = try await body()
            try await within(.seconds(20), "the recorder to flush") { await recorder.flush() }
            return result
        }
    }

    @Test func givenTheSameWarningTenTimes_WhenRecorded_ThenOneEventCountsTen() async throws {
        try await TestCluster.with { cluster in
            let target = try await cluster.client.create(configMaps, configMap("db", in: cluster.namespace))
            let recorder = EventRecorder(client: cluster.client, options: .init(component: "cairn-controller", host: "pod-1"))

            try await Self.recording(recorder) {
                for _ in 0..<10 { recorder.record(target, type: .warning, reason: "MissingVariable", message: "set variables.cairn.dev/schedule") }
            }

            let events = try await Self.events(cluster)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event["count"] == 10)
            #expect(event["type"] == "Warning")
            #expect(event["reason"] == "MissingVariable")
            #expect(event["message"] == "set variables.cairn.dev/schedule")
            #expect(event[path: "source", "component"] == "cairn-controller")
            #expect(event[path: "source", "host"] == "pod-1")
            #expect(event["reportingComponent"] == "cairn-controller")
            let involved = try #require(event["involvedObject"])
            #expect(involved["kind"] == "ConfigMap" && involved["apiVersion"] == "v1")
            #expect(involved["name"] == "db" && involved["namespace"]?.string == cluster.namespace)
            #expect(involved["uid"] == target[path: "metadata", "uid"])
            #expect(involved["resourceVersion"] == target[path: "metadata", "resourceVersion"])
            let name = try #require(event[path: "metadata", "name"]?.string)
            #expect(name.hasPrefix("db.") && UInt64(name.dropFirst(3), radix: 16) != nil, "named <object>.<hex nanoseconds>: \(name)")
            let first = try #require(event["firstTimestamp"]?.string)
            let last = try #require(event["lastTimestamp"]?.string)
            #expect(first <= last)
        }
    }

    @Test func givenDifferentMessages_WhenRecorded_ThenEachHasItsOwnEvent() async throws {
        try await TestCluster.with { cluster in
            let target = try await cluster.client.create(configMaps, configMap("db", in: cluster.namespace))
            let recorder = EventRecorder(client: cluster.client, options: .init(component: "cairn-controller"))

            try await Self.recording(recorder) {
                recorder.record(target, type: .normal, reason: "Rendered", message: "rendered bc-1")
                recorder.record(target, type: .normal, reason: "Rendered", message: "rendered bc-2")
                recorder.record(target, type: .warning, reason: "Rendered", message: "rendered bc-2")
                recorder.record(target, type: .normal, reason: "Rendered", message: "rendered bc-1")
            }

            let events = try await Self.events(cluster)
            let summary = events.map { "\($0["type"]?.string ?? "") \($0["message"]?.string ?? "") x\($0["count"]?.int ?? 0)" }.sorted()
            #expect(summary == ["Normal rendered bc-1 x2", "Normal rendered bc-2 x1", "Warning rendered bc-2 x1"])
            #expect(Set(events.compactMap { $0[path: "metadata", "name"]?.string }).count == 3)
        }
    }

    @Test func givenAHotLoop_WhenItRecordsHundredsOfEvents_ThenTheRateLimitCapsThemAndTheCallerNeverWaits() async throws {
        try await TestCluster.with { cluster in
            let target = try await cluster.client.create(configMaps, configMap("hot", in: cluster.namespace))
            let other = try await cluster.client.create(configMaps, configMap("calm", in: cluster.namespace))
            var options = EventRecorder.Options(component: "cairn-controller")
            options.burst = 5
            let recorder = EventRecorder(client: cluster.client, options: options)

            let elapsed = try await Self.recording(recorder) {
                let clock = ContinuousClock()
                let start = clock.now
                for index in 0..<300 { recorder.record(target, type: .warning, reason: "Failed", message: "attempt \(index)") }
                recorder.record(other, type: .normal, reason: "Ok", message: "fine")
                return clock.now - start
            }

            let events = try await Self.events(cluster)
            #expect(events.filter { $0[path: "involvedObject", "name"] == "hot" }.count == 5)
            #expect(events.filter { $0[path: "involvedObject", "name"] == "calm" }.count == 1, "another object has its own budget")
            #expect(elapsed < .seconds(1), "recording 300 events took \(elapsed)")
        }
    }

    @Test func givenAnObjectWhoseNamespaceIsGone_WhenRecorded_ThenTheRefusalIsLoggedAndLaterEventsStillArrive() async throws {
        try await TestCluster.with { cluster in
            let target = try await cluster.client.create(configMaps, configMap("db", in: cluster.namespace))
            let orphan = configMap("lost", in: "no-such-namespace")
            let capture = LogCapture()
            let recorder = EventRecorder(client: cluster.client, options: .init(component: "cairn-controller"), logger: capture.logger("events"))

            try await Self.recording(recorder) {
                recorder.record(orphan, type: .warning, reason: "Failed", message: "cannot back up")
                recorder.record(target, type: .normal, reason: "Rendered", message: "rendered")
            }

            let errors = capture.messages(atLeast: .error)
            #expect(errors.count == 1)
            #expect(errors.first?.contains("no-such-namespace/lost") == true)
            #expect(errors.first?.contains("404") == true)
            let events = try await Self.events(cluster)
            #expect(events.map { $0["reason"]?.string } == ["Rendered"])
        }
    }
}
