import Foundation
import Hummingbird
import Synchronization
import YAML

extension SandboxResponder {
    /// A watch: newline-delimited JSON events over a chunked response, ended by `timeoutSeconds`,
    /// by the store (with a 410 ERROR event) or by the server's graceful shutdown.
    func watch(_ call: ResourceRequest) async throws(StatusError) -> Response {
        let options = WatchOptions(resourceVersion: call.query["resourceVersion"] ?? "", labelSelector: call.query["labelSelector"] ?? "",
                                   fieldSelector: call.query["fieldSelector"] ?? "", allowBookmarks: call.query.flag("allowWatchBookmarks"))
        let events: AsyncStream<WatchEvent>
        do {
            events = try await store.watch(call.resource, namespace: call.path.namespace, options: options)
        } catch where error.code == 410 {
            // kube-apiserver accepts the watch and then reports the expiry as its only event.
            events = AsyncStream { $0.yield(WatchEvent(type: .error, object: error.node)); $0.finish() }
        }
        let timeout = call.query["timeoutSeconds"].flatMap { Int($0) }.map { Duration.seconds($0) }
        let table = call.table(now: store.configuration.clock())
        let limited = Self.limited(events, timeout: timeout, watches: watches)
        let body = ResponseBody { writer in
            for await event in limited {
                try await writer.write(ByteBuffer(string: try Self.line(event, table: table)))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// One line of the stream; with a table, an object event carries a one-row Table.
    static func line(_ event: WatchEvent, table: TableConverter?) throws(StatusError) -> String {
        var event = event
        if let table, [.added, .modified, .deleted].contains(event.type) { event.object = table.table([event.object]) }
        do {
            return try JSON.emit(event.node) + "\n"
        } catch {
            throw .internalError("a watch event cannot be written as JSON: \(error)")
        }
    }

    /// The events until `timeout` or the server's shutdown; ending the result stops the store's watch.
    static func limited(_ events: AsyncStream<WatchEvent>, timeout: Duration?, watches: WatchRegistry) -> AsyncStream<WatchEvent> {
        let (output, continuation) = AsyncStream.makeStream(of: WatchEvent.self)
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await event in events { continuation.yield(event) } }
                if let timeout {
                    group.addTask {
                        do {
                            try await Task.sleep(for: timeout)
                        } catch {
                            return  // cancelled because the events ended first
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        let id = watches.add { task.cancel() }
        continuation.onTermination = { _ in
            task.cancel()
            watches.remove(id)
        }
        return output
    }
}

/// The open watch streams, so that graceful shutdown can end them: HTTP connections close only
/// once their response ends, and a watch response would otherwise never end.
final class WatchRegistry: Sendable {
    private let state = Mutex<(closed: Bool, next: Int, stops: [Int: @Sendable () -> Void])>((false, 0, [:]))

    /// Registers a watch's stop action; after `stopAll()` it runs at once.
    func add(_ stop: @escaping @Sendable () -> Void) -> Int {
        let (id, closed) = state.withLock { state in
            state.next += 1
            if !state.closed { state.stops[state.next] = stop }
            return (state.next, state.closed)
        }
        if closed { stop() }
        return id
    }

    /// Forgets a watch that ended.
    func remove(_ id: Int) { _ = state.withLock { $0.stops.removeValue(forKey: id) } }

    /// Ends every open watch and every later one.
    func stopAll() {
        let stops = state.withLock { state in
            state.closed = true
            defer { state.stops = [:] }
            return Array(state.stops.values)
        }
        for stop in stops { stop() }
    }
}
