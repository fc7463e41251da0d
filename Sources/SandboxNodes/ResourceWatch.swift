import Foundation
import Kube
import Logging
import Synchronization
import YAML

// The one place the simulated components read the cluster: list, then watch, into a local cache.
// It is deliberately small (no indexes, no resync, no per-key queue) so that it can be swapped for
// the Kube informers once they exist; the components only see `ObjectCache` and `Wakeup`.

/// The objects of one resource type as last listed and watched, keyed `namespace/name`.
public final class ObjectCache: Sendable {
    /// The resource type it mirrors.
    public let resource: Resource
    private let state = Mutex<(objects: [String: Node], synced: Bool)>(([:], false))

    /// Creates an empty cache for `resource`.
    public init(resource: Resource) { self.resource = resource }

    /// Whether the first list has been loaded.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// Every cached object, in key order.
    public var objects: [Node] { state.withLock { $0.objects.sorted { $0.key < $1.key }.map(\.value) } }

    /// The cached object at `namespace/name` (or `name` for cluster-scoped objects).
    public func object(namespace: String?, name: String) -> Node? {
        state.withLock { $0.objects[Self.key(namespace: namespace, name: name)] }
    }

    func replaceAll(_ items: [Node]) {
        let objects = Dictionary(items.map { (Self.key(of: $0), $0) }, uniquingKeysWith: { _, last in last })
        state.withLock { $0 = (objects, true) }
    }

    func apply(_ event: WatchEvent) {
        state.withLock { state in
            switch event {
            case .added(let object), .modified(let object): state.objects[Self.key(of: object)] = object
            case .deleted(let object): state.objects[Self.key(of: object)] = nil
            case .bookmark, .error: break
            }
        }
    }

    static func key(of object: Node) -> String { key(namespace: object.namespace, name: object.name) }
    static func key(namespace: String?, name: String) -> String {
        if let namespace, !namespace.isEmpty { "\(namespace)/\(name)" } else { name }
    }
}

/// A coalescing signal for one waiter: any number of `signal()` calls wake the next `wait` once.
public final class Wakeup: Sendable {
    private struct State {
        var raised = false
        var expired = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    /// Creates a signal that is not yet raised.
    public init() {}

    /// Raises the signal.
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.raised = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits until the signal is raised or `timeout` passes; false once the task is cancelled.
    /// Only one task waits at a time.
    func wait(timeout: Duration) async -> Bool {
        state.withLock { $0.expired = false }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch {
                    // cancelled: the signal came first, or the waiting task is being cancelled
                }
                self.expire()
            }
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.raised || state.expired {
                        state.raised = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
            group.cancelAll()
        }
        return !Task.isCancelled
    }

    /// Ends the current wait without raising the signal.
    private func expire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.expired = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}

/// Keeps an `ObjectCache` current: lists, then watches from the list's resourceVersion; lists
/// again after 410 Gone; reconnects with exponential backoff after errors, which it logs.
struct ResourceWatch: Sendable {
    let client: KubeClient
    let cache: ObjectCache
    let onChange: @Sendable () -> Void
    let logger: Logger
    /// How long the server keeps one watch open before it is renewed.
    var watchTimeoutSeconds = 300
    var maximumBackoff: Duration = .seconds(10)

    /// Runs until the task is cancelled.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let list = try await client.list(cache.resource)
                cache.replaceAll(list.items)
                onChange()
                try await follow(from: list.resourceVersion, failures: &failures)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                logger.warning("watch of \(cache.resource) failed; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                do { try await Task.sleep(for: backoff(after: failures)) } catch { return }
            }
        }
    }

    /// Watches until the server answers 410 (returns, to list again) or the stream fails (throws).
    private func follow(from resourceVersion: String, failures: inout Int) async throws {
        var version = resourceVersion
        while !Task.isCancelled {
            let options = WatchOptions(resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds)
            for try await event in client.watch(cache.resource, options: options) {
                failures = 0
                switch event {
                case .error(let status):
                    if status.code == 410 { return }
                    throw NodesError("the watch of \(cache.resource) reported an error: \(status.message ?? "no message") (code \(status.code ?? 0))")
                case .added(let object), .modified(let object), .deleted(let object), .bookmark(let object):
                    if let next = object[path: "metadata", "resourceVersion"]?.string { version = next }
                }
                cache.apply(event)
                if case .bookmark = event { continue }
                onChange()
            }
        }
    }

    private func backoff(after failures: Int) -> Duration {
        min(.milliseconds(100) * (1 << min(failures, 10)), maximumBackoff)
    }
}
