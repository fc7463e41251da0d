import Foundation
import Logging
import Synchronization
import YAML

/// Records core/v1 Events about objects, the way client-go's recorder with its `EventCorrelator`
/// does:
///
/// - The same object, type, reason and message again patches `count` and `lastTimestamp` of the
///   Event already written instead of creating another.
/// - Each object has its own token bucket (`burst` Events, then one per `refillInterval`), so a
///   hot loop cannot flood the API server; the excess is dropped.
/// - `record` never throws and never waits: Events are written in the background by `run()`, and
///   a write the server refuses is logged.
public final class EventRecorder: Sendable {
    /// `v1 events`.
    public static let events = Resource(group: "", version: "v1", plural: "events", namespaced: true)

    /// The kind of Event.
    public enum EventType: String, Sendable {
        /// Something expected happened.
        case normal = "Normal"
        /// Something needs a person's attention.
        case warning = "Warning"
    }

    /// Who reports, and how much.
    public struct Options: Sendable {
        /// `source.component` and `reportingComponent`: `cairn-controller`.
        public var component: String
        /// `source.host` and `reportingInstance`, if any: the pod's name.
        public var host: String?
        /// Events an object may have at once before the rate limit applies (client-go: 25).
        public var burst = 25
        /// The time in which one more Event per object is allowed (client-go: 5 minutes).
        public var refillInterval: Duration = .seconds(300)
        /// How many distinct Events the correlator remembers, and how many objects the rate limiter.
        public var cacheSize = 4096
        /// How many Events may wait to be written; beyond it new ones are dropped.
        public var bufferSize = 1000

        /// Creates options for `component`, with client-go's limits.
        public init(component: String, host: String? = nil) {
            self.component = component
            self.host = host
        }
    }

    /// One Event waiting to be written, or a `flush()` marker.
    enum Item: Sendable {
        case event(Pending)
        case flush(CheckedContinuation<Void, Never>)
    }

    struct Pending: Sendable {
        var involvedObject: Node
        var namespace: String
        var name: String
        var type: EventType
        var reason: String
        var message: String
        var timestamp: String
        var nanoseconds: UInt64
    }

    /// The options this recorder runs with.
    public let options: Options
    let client: KubeClient
    let clock: any KubeClock
    let wallClock: @Sendable () -> Date
    let logger: Logger
    private let buckets: Mutex<[String: (tokens: Double, last: Duration)]> = Mutex([:])
    private let stopped = Mutex(false)
    private let items: AsyncStream<Item>
    private let input: AsyncStream<Item>.Continuation

    /// Creates a recorder; nothing is written until `run()` runs.
    public init(client: KubeClient, options: Options, clock: any KubeClock = SystemKubeClock(),
                wallClock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "cairn.events")) {
        self.client = client
        self.options = options
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        (items, input) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(max(1, options.bufferSize)))
    }

    /// Records an Event about `object` (a full object, or anything with apiVersion, kind and
    /// metadata); returns at once.
    public func record(_ object: Node, type: EventType, reason: String, message: String) {
        let reference = Self.reference(to: object)
        let name = reference["name"]?.string ?? ""
        guard admit(reference) else {
            logger.debug("event dropped by the per-object rate limit", metadata: ["object": "\(name)", "reason": "\(reason)"])
            return
        }
        let now = wallClock()
        let pending = Pending(
            involvedObject: reference, namespace: reference["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            name: name, type: type, reason: reason, message: message, timestamp: KubeTime.time(now),
            nanoseconds: UInt64(max(0, now.timeIntervalSince1970 * 1_000_000_000)))
        if case .dropped = input.yield(.event(pending)) {
            logger.warning("event dropped: too many waiting to be written", metadata: ["object": "\(name)", "reason": "\(reason)"])
        }
    }

    /// Waits until everything recorded before the call has been written (or refused).
    public func flush() async {
        guard !stopped.withLock({ $0 }) else { return }
        await withCheckedContinuation { continuation in
            if case .dropped = input.yield(.flush(continuation)) { continuation.resume() }
        }
    }

    /// Writes Events until the task is cancelled.
    public func run() async {
        var correlator = EventCorrelator(capacity: options.cacheSize)
        for await item in items {
            switch item {
            case .flush(let continuation): continuation.resume()
            case .event(let pending): await write(pending, correlator: &correlator)
            }
        }
        stopped.withLock { $0 = true }
    }

    /// The `involvedObject` for an object.
    static func reference(to object: Node) -> Node {
        var reference: Node = .mapping([])
        for field in ["apiVersion", "kind"] { reference[field] = object[field]?.string.map { Node.string($0) } }
        for field in ["namespace", "name", "uid", "resourceVersion"] {
            reference[field] = object[path: "metadata", field]?.string.map { Node.string($0) }
        }
        return reference
    }

    /// Takes a token from the object's bucket; false when it is empty.
    private func admit(_ reference: Node) -> Bool {
        let key = ["kind", "namespace", "name", "uid", "apiVersion"].map { reference[$0]?.string ?? "" }.joined(separator: "\u{1F}")
        let now = clock.now()
        let refill = options.refillInterval
        let burst = Double(max(1, options.burst))
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? (burst, now)
            let elapsed = now - bucket.last
            if refill > .zero { bucket.tokens = min(burst, bucket.tokens + elapsed / refill) }
            bucket.last = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            if buckets.count >= options.cacheSize, buckets[key] == nil, let oldest = buckets.min(by: { $0.value.last < $1.value.last })?.key {
                buckets[oldest] = nil
            }
            buckets[key] = bucket
            return true
        }
    }
}
