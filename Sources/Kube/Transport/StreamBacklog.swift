import Synchronization

/// Flow control for a streamed body: how many received bytes the consumer has not read yet.
///
/// Past `highWater` the curl thread pauses the transfer (the write callback returns
/// CURL_WRITEFUNC_PAUSE and libcurl keeps the bytes); once the consumer reads the backlog below
/// `lowWater` it asks the loop to resume. A slow watch consumer thus holds back the socket instead
/// of growing memory without bound.
///
/// Neither side can strand the other: the curl thread raises `paused` and then looks at the
/// backlog again, while the consumer lowers the backlog and then looks at `paused`; with
/// sequentially consistent atomics one of them sees the other's write, and `exchange` lets exactly
/// one of them clear the flag.
final class StreamBacklog: Sendable {
    let highWater: Int
    let lowWater: Int
    private let bytes = Atomic<Int>(0)
    private let paused = Atomic<Bool>(false)
    private let pauseCount = Atomic<Int>(0)

    init(highWater: Int) {
        self.highWater = max(1, highWater)
        lowWater = max(1, highWater / 2)
    }

    /// How often the transfer was paused; for tests.
    var pauses: Int { pauseCount.load(ordering: .sequentiallyConsistent) }

    /// On the curl thread: whether `count` more bytes may be handed to the consumer now.
    func admit(_ count: Int) -> Bool {
        if bytes.load(ordering: .sequentiallyConsistent) < highWater {
            bytes.add(count, ordering: .sequentiallyConsistent)
            return true
        }
        paused.store(true, ordering: .sequentiallyConsistent)
        if bytes.load(ordering: .sequentiallyConsistent) < lowWater, paused.exchange(false, ordering: .sequentiallyConsistent) {
            bytes.add(count, ordering: .sequentiallyConsistent)
            return true
        }
        pauseCount.add(1, ordering: .sequentiallyConsistent)
        return false
    }

    /// On the consumer: records `count` bytes read; true when the paused transfer must resume.
    func consumed(_ count: Int) -> Bool {
        let left = bytes.subtract(count, ordering: .sequentiallyConsistent).newValue
        return left < lowWater && paused.exchange(false, ordering: .sequentiallyConsistent)
    }
}

/// A streamed response that tells the loop when its consumer has caught up.
struct ResponseStream: AsyncSequence, Sendable {
    typealias Element = StreamPart

    let parts: AsyncThrowingStream<StreamPart, any Error>
    let backlog: StreamBacklog
    let resume: @Sendable () -> Void

    func makeAsyncIterator() -> Iterator { Iterator(parts: parts.makeAsyncIterator(), backlog: backlog, resume: resume) }

    /// Reads parts, crediting the backlog for each body chunk.
    struct Iterator: AsyncIteratorProtocol {
        var parts: AsyncThrowingStream<StreamPart, any Error>.Iterator
        let backlog: StreamBacklog
        let resume: @Sendable () -> Void

        mutating func next() async throws -> StreamPart? {
            credit(try await parts.next())
        }

        /// Reads on the caller's actor, so an actor can keep the iterator.
        mutating func next(isolation actor: isolated (any Actor)?) async throws -> StreamPart? {
            credit(try await parts.next(isolation: actor))
        }

        private func credit(_ part: StreamPart?) -> StreamPart? {
            if case .body(let bytes)? = part, backlog.consumed(bytes.count) { resume() }
            return part
        }
    }
}
