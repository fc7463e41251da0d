import Foundation
import Hummingbird
import Synchronization
import YAML

extension SandboxResponder {
    /// A watch: newline-delimited JSON events over a chunked response, ended by `timeoutSeconds`,
    /// by the store (with a 410 ERROR event) or by the server's graceful shutdown.
    func watch(_ call: ResourceRequest) async throws(StatusError) -> Response {
        if let refusal = faults.refusedWatch() { throw refusal }
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
        let handle = WatchHandle()
        let limited = Self.limited(events, timeout: timeout, watches: watches, handle: handle)
        let body = ResponseBody { writer in
            for await event in limited {
                try await writer.write(ByteBuffer(string: try Self.line(event, table: table)))
            }
            // Throwing from the body makes the server drop the connection without ending the
            // chunked response: the client sees a watch cut mid-stream.
            if handle.isCut { throw WatchCut() }
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
    static func limited(_ events: AsyncStream<WatchEvent>, timeout: Duration?, watches: WatchRegistry, handle: WatchHandle) -> AsyncStream<WatchEvent> {
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
        let id = watches.add(handle) { task.cancel() }
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
    private struct Entry {
        var handle: WatchHandle
        var stop: @Sendable () -> Void
    }

    private let state = Mutex<(closed: Bool, next: Int, entries: [Int: Entry])>((false, 0, [:]))

    /// Registers a watch's stop action; after `stopAll()` it runs at once.
    func add(_ handle: WatchHandle, stop: @escaping @Sendable () -> Void) -> Int {
        let (id, closed) = state.withLock { state in
            state.next += 1
            if !state.closed { state.entries[state.next] = Entry(handle: handle, stop: stop) }
            return (state.next, state.closed)
        }
        if closed { stop() }
        return id
    }

    /// Forgets a watch that ended.
    func remove(_ id: Int) { _ = state.withLock { $0.entries.removeValue(forKey: id) } }

    /// Ends every open watch and every later one.
    func stopAll() {
        let entries = state.withLock { state in
            state.closed = true
            defer { state.entries = [:] }
            return Array(state.entries.values)
        }
        for entry in entries { entry.stop() }
    }

    /// Cuts every open watch: its connection is dropped mid-stream (a fault for tests).
    func cutAll() {
        let entries = state.withLock { Array($0.entries.values) }
        for entry in entries {
            entry.handle.markCut()
            entry.stop()
        }
    }

    /// How many watches are open.
    var count: Int { state.withLock { $0.entries.count } }
}

/// Whether one watch is to end by dropping its connection rather than cleanly.
final class WatchHandle: Sendable {
    private let cut = Atomic<Bool>(false)

    func markCut() { cut.store(true, ordering: .sequentiallyConsistent) }
    var isCut: Bool { cut.load(ordering: .sequentiallyConsistent) }
}

/// The error that makes the HTTP server drop a cut watch's connection.
struct WatchCut: Error {}
