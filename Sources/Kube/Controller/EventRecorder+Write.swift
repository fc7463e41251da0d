import YAML

/// The Events already written, by what makes two of them the same (client-go's `EventLogger`):
/// the name and count of each, the least recently used forgotten first.
struct EventCorrelator {
    struct Seen {
        var name: String
        var count: Int
        var firstTimestamp: String
        var used: Int
    }

    private let capacity: Int
    private var seen: [String: Seen] = [:]
    private var tick = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    static func key(_ event: EventRecorder.Pending) -> String {
        let object = ["kind", "namespace", "name", "uid", "apiVersion"].map { event.involvedObject[$0]?.string ?? "" }
        return (object + [event.type.rawValue, event.reason, event.message]).joined(separator: "\u{1F}")
    }

    /// What was written for this key, if anything.
    func lookup(_ key: String) -> Seen? { seen[key] }

    /// Remembers a write.
    mutating func store(_ key: String, name: String, count: Int, firstTimestamp: String) {
        tick += 1
        if seen[key] == nil, seen.count >= capacity, let oldest = seen.min(by: { $0.value.used < $1.value.used })?.key {
            seen[oldest] = nil
        }
        seen[key] = Seen(name: name, count: count, firstTimestamp: firstTimestamp, used: tick)
    }

    /// Forgets a key whose Event could not be written.
    mutating func forget(_ key: String) { seen[key] = nil }
}

extension EventRecorder {
    /// Writes one Event: a patch of the earlier one when it repeats, else a new one.
    func write(_ event: Pending, correlator: inout EventCorrelator) async {
        let key = EventCorrelator.key(event)
        if let earlier = correlator.lookup(key) {
            let count = earlier.count + 1
            let patch: Node = .mapping(["count": .int(count), "lastTimestamp": .string(event.timestamp)])
            do {
                _ = try await client.patch(Self.events, namespace: event.namespace, name: earlier.name, patch)
                correlator.store(key, name: earlier.name, count: count, firstTimestamp: earlier.firstTimestamp)
                return
            } catch let error as KubeError where error.kind == .notFound {
                // Events expire (an hour by default): write it afresh under the same name.
                await create(event, key: key, name: earlier.name, count: count, firstTimestamp: earlier.firstTimestamp, correlator: &correlator)
                return
            } catch {
                log(error, event)
                return
            }
        }
        let name = "\(event.name).\(String(event.nanoseconds, radix: 16))"
        await create(event, key: key, name: name, count: 1, firstTimestamp: event.timestamp, correlator: &correlator)
    }

    private func create(_ event: Pending, key: String, name: String, count: Int, firstTimestamp: String,
                        correlator: inout EventCorrelator) async {
        do {
            _ = try await client.create(Self.events, namespace: event.namespace, body(event, name: name, count: count, firstTimestamp: firstTimestamp))
            correlator.store(key, name: name, count: count, firstTimestamp: firstTimestamp)
        } catch {
            correlator.forget(key)
            log(error, event)
        }
    }

    private func body(_ event: Pending, name: String, count: Int, firstTimestamp: String) -> Node {
        var source: Node = .mapping(["component": .string(options.component)])
        source["host"] = options.host.map { .string($0) }
        var body: Node = .mapping([
            "apiVersion": "v1", "kind": "Event",
            "metadata": .mapping(["name": .string(name), "namespace": .string(event.namespace)]),
            "involvedObject": event.involvedObject, "reason": .string(event.reason), "message": .string(event.message),
            "type": .string(event.type.rawValue), "source": source, "firstTimestamp": .string(firstTimestamp),
            "lastTimestamp": .string(event.timestamp), "count": .int(count), "reportingComponent": .string(options.component),
        ])
        body["reportingInstance"] = options.host.map { .string($0) }
        return body
    }

    private func log(_ error: any Error, _ event: Pending) {
        logger.error("could not write event", metadata: [
            "object": "\(event.namespace)/\(event.name)", "reason": "\(event.reason)", "error": "\(error)",
        ])
    }
}
