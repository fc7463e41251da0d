import YAML

/// One committed write, as the watch history keeps it.
struct StoredEvent: Sendable {
    var revision: Int
    var type: WatchEvent.EventType
    var key: ObjectKey
    /// The object after the write (for DELETED, its last state with the deletion's resourceVersion).
    var object: Node
    /// The object before the write; `nil` for ADDED.
    var previous: Node?
}

/// The last events, oldest first, and the newest revision that is no longer kept.
struct EventHistory: Sendable {
    private(set) var events: [StoredEvent] = []
    private var start = 0
    /// Revisions up to this one have been compacted away.
    private(set) var compactedThrough = 0

    mutating func append(_ event: StoredEvent, limit: Int) {
        events.append(event)
        let overflow = events.count - start - max(limit, 1)
        if overflow > 0 {
            compactedThrough = events[start + overflow - 1].revision
            start += overflow
        }
        if start > 4096, start * 2 > events.count {
            events.removeFirst(start)
            start = 0
        }
    }

    /// Every kept event after `revision`, oldest first.
    func events(after revision: Int) -> ArraySlice<StoredEvent> {
        let kept = events[start...]
        guard let index = kept.firstIndex(where: { $0.revision > revision }) else { return [] }
        return kept[index...]
    }

    /// Forgets everything, as after a restore: only revisions after `revision` can be watched.
    mutating func reset(at revision: Int) {
        events = []
        start = 0
        compactedThrough = revision
    }
}
