import CairnAPI
import YAML

/// One open watch.
struct Watcher {
    var resource: ResourceID
    var kind: String
    var filter: ObjectFilter
    var allowBookmarks: Bool
    var continuation: AsyncStream<WatchEvent>.Continuation
}

extension ObjectStore {
    /// Opens a watch. From `""` or `"0"` it first replays the current objects as ADDED; from a
    /// resourceVersion it replays the kept history after it, or fails with 410 Expired when that
    /// history is gone. A watcher that lets too many events pile up gets an ERROR (410) and the end.
    public func watch(
        _ resource: ResourceID, namespace: String? = nil, options: WatchOptions = WatchOptions()
    ) throws(StatusError) -> AsyncStream<WatchEvent> {
        let type = try lookup(resource)
        let filter = try ObjectFilter(resource: type.groupResource, namespace: type.namespaced ? namespace : nil,
                                      labelSelector: options.labelSelector, fieldSelector: options.fieldSelector)
        let backlog = try self.backlog(resource, filter, from: options.resourceVersion)
        let (stream, continuation) = AsyncStream.makeStream(
            of: WatchEvent.self, bufferingPolicy: .bufferingOldest(backlog.count + configuration.watcherBufferLimit + 2))
        let id = nextWatcherID
        nextWatcherID += 1
        let watcher = Watcher(resource: resource, kind: type.kind, filter: filter, allowBookmarks: options.allowBookmarks, continuation: continuation)
        for event in backlog { _ = watcher.continuation.yield(event) }
        watchers[id] = watcher
        continuation.onTermination = { [weak self] _ in
            Task { await self?.stopWatching(id) }
        }
        return stream
    }

    /// Sends a BOOKMARK with the current resourceVersion to every watcher that accepts them.
    public func sendBookmarks() {
        for (id, watcher) in watchers where watcher.allowBookmarks {
            let object: Node = .mapping([
                "kind": .string(watcher.kind), "apiVersion": .string(watcher.resource.apiVersion),
                "metadata": .mapping(["resourceVersion": .string(String(revision))]),
            ])
            deliver(WatchEvent(type: .bookmark, object: object), to: id)
        }
    }

    /// How many watches are open.
    public var watcherCount: Int { watchers.count }

    /// Forgets the watch history up to the current resourceVersion, as an etcd compaction does: a
    /// watch from any older resourceVersion (a client resuming after a disconnect) then answers
    /// 410 Expired, and must list again. Open watches and objects are unaffected.
    public func compactHistory() {
        history.reset(at: revision)
    }

    func stopWatching(_ id: Int) { watchers[id] = nil }

    private func backlog(_ resource: ResourceID, _ filter: ObjectFilter, from version: String) throws(StatusError) -> [WatchEvent] {
        if version.isEmpty || version == "0" {
            return state(of: filter.resource, at: revision).sorted { $0.key < $1.key }
                .filter { filter.matches($0.value) }
                .map { WatchEvent(type: .added, object: present($0.value, as: resource)) }
        }
        guard let start = Int(version), start >= 0 else { throw .badRequest("invalid resource version \"\(version)\"") }
        guard start >= history.compactedThrough else {
            throw .expired("too old resource version: \(start) (\(history.compactedThrough))")
        }
        return history.events(after: start).compactMap { translate($0, for: filter, as: resource) }
    }

    /// The event a watcher sees: objects entering or leaving its selection appear as ADDED or DELETED.
    func translate(_ event: StoredEvent, for filter: ObjectFilter, as resource: ResourceID) -> WatchEvent? {
        guard event.key.resource == filter.resource else { return nil }
        let now = event.type != .deleted && filter.matches(event.object)
        let before = event.previous.map(filter.matches) ?? false
        let type: WatchEvent.EventType
        switch (before, now) {
        case (false, false):
            guard event.type == .deleted, filter.matches(event.object) else { return nil }
            type = .deleted
        case (true, false): type = .deleted
        case (false, true): type = .added
        case (true, true): type = .modified
        }
        return WatchEvent(type: type, object: present(event.object, as: resource))
    }

    func dispatch(_ event: StoredEvent) {
        for (id, watcher) in watchers {
            if let translated = translate(event, for: watcher.filter, as: watcher.resource) { deliver(translated, to: id) }
        }
    }

    /// Yields without blocking; a watcher whose buffer is nearly full is ended with 410.
    private func deliver(_ event: WatchEvent, to id: Int) {
        guard let watcher = watchers[id] else { return }
        guard case .enqueued(let remaining) = watcher.continuation.yield(event), remaining > 1 else {
            let status = StatusError.expired("the watcher fell too far behind at resourceVersion \(event.resourceVersion); list again and watch from the list's resourceVersion")
            watcher.continuation.yield(WatchEvent(type: .error, object: status.node))
            watcher.continuation.finish()
            watchers[id] = nil
            return
        }
    }
}
