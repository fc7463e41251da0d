import CCurl
import Foundation
import Synchronization

/// One libcurl multi handle driven by one dedicated thread, so many requests and long watches share
/// a few connections and a single thread.
///
/// Ownership: the multi handle, every easy handle and every `CurlTransfer` are touched only on the
/// loop thread. Other threads talk to it through `inbox` (a `Mutex`) and wake it with
/// `curl_multi_wakeup`, which libcurl documents as callable from any thread.
final class CurlLoop: @unchecked Sendable {
    // @unchecked because `multi` is a raw pointer. Safe: besides the loop thread, `multi` is used
    // only by `curl_multi_wakeup`, always while holding `inbox` and only while `closed` is false.
    // `shutdown` sets `closed` under that lock; the loop thread reads it under that lock and only
    // then calls `curl_multi_cleanup`, so no wakeup can touch a freed handle. Everything else the
    // loop owns (easy handles, `CurlTransfer`s) lives in `run`'s locals and never leaves the thread;
    // callers see only their continuation, which the transfer resumes exactly once (`finished`).
    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let lastID = Atomic<UInt64>(0)

    private struct Inbox {
        var commands: [Command] = []
        var inFlight: Set<UInt64> = []
        var closed = false
    }

    private enum Command {
        case add(UInt64, HTTPRequest, TransferSink)
        case cancel(UInt64)
        case resume(UInt64)
    }

    /// Starts the loop thread.
    init() {
        _ = curlGlobalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        // libcurl multiplexes HTTP/2 streams over one connection by default; say so explicitly.
        _ = cairn_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        let thread = Thread { [self] in run() }
        thread.name = "cairn-curl"
        thread.start()
    }

    /// A fresh id for `submit`; taken first, so a cancellation handler always knows what to cancel.
    func makeID() -> UInt64 { lastID.add(1, ordering: .relaxed).newValue }

    /// Queues a request; the sink hears the outcome exactly once.
    ///
    /// Cancellation cannot slip between submitting and cancelling: a task's cancelled flag is set
    /// before its handlers run, and both this check and `cancel`'s look-up happen under `inbox`'s
    /// lock. Either `cancel` finds the id in flight, or this sees the task cancelled and fails now.
    func submit(id: UInt64, _ request: HTTPRequest, to sink: TransferSink) {
        let refusal: (any Error)? = inbox.withLock { inbox in
            if inbox.closed {
                return TransportError(.closed, method: request.method, url: request.url, message: "the Kube client was shut down")
            }
            if Task.isCancelled { return CancellationError() }
            inbox.inFlight.insert(id)
            inbox.commands.append(.add(id, request, sink))
            curl_multi_wakeup(multi)
            return nil
        }
        if let refusal { fail(sink, refusal) }
    }

    /// Removes a request's easy handle, if it is still running; its sink ends with `CancellationError`.
    func cancel(_ id: UInt64) {
        inbox.withLock { inbox in
            guard !inbox.closed, inbox.inFlight.contains(id) else { return }
            inbox.commands.append(.cancel(id))
            curl_multi_wakeup(multi)
        }
    }

    /// Resumes a streamed transfer that was paused because its consumer fell behind.
    func resume(_ id: UInt64) {
        inbox.withLock { inbox in
            guard !inbox.closed, inbox.inFlight.contains(id) else { return }
            inbox.commands.append(.resume(id))
            curl_multi_wakeup(multi)
        }
    }

    /// Stops the thread; pending requests fail with `TransportError.closed`.
    func shutdown() {
        inbox.withLock { inbox in
            guard !inbox.closed else { return }
            inbox.closed = true
            curl_multi_wakeup(multi)
        }
    }

    /// How many requests are queued or running; for tests and metrics.
    var inFlightCount: Int { inbox.withLock { $0.inFlight.count } }

    // MARK: the loop thread

    private func run() {
        var transfers = Transfers()
        while true {
            let (commands, closed) = inbox.withLock { inbox in
                defer { inbox.commands = [] }
                return (inbox.commands, inbox.closed)
            }
            for command in commands { apply(command, to: &transfers) }
            if closed { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished(&transfers)
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for transfer in transfers.removeAll() {
            curl_multi_remove_handle(multi, transfer.easy)
            transfer.complete(with: transfer.error(.closed, "the Kube client was shut down"))
        }
        curl_multi_cleanup(multi)
    }

    private func apply(_ command: Command, to transfers: inout Transfers) {
        switch command {
        case .add(let id, let request, let sink):
            start(id: id, request: request, sink: sink, in: &transfers)
        case .cancel(let id):
            guard let transfer = transfers.remove(id: id) else { return }
            curl_multi_remove_handle(multi, transfer.easy)
            forget(id)
            transfer.complete(with: CancellationError())
        case .resume(let id):
            transfers[id]?.unpause()
        }
    }

    private func start(id: UInt64, request: HTTPRequest, sink: TransferSink, in transfers: inout Transfers) {
        guard let transfer = CurlTransfer(id: id, request: request, sink: sink) else {
            forget(id)
            fail(sink, TransportError(.other, method: request.method, url: request.url, message: "curl_easy_init failed: out of memory"))
            return
        }
        if let error = transfer.configure() {
            forget(id)
            transfer.complete(with: error)
            return
        }
        transfers.insert(transfer)
        curl_multi_add_handle(multi, transfer.easy)
    }

    private func collectFinished(_ transfers: inout Transfers) {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = Int(message.pointee.data.result.rawValue)
            guard let transfer = transfers.remove(easy: easy) else { continue }
            curl_multi_remove_handle(multi, easy)
            forget(transfer.id)
            transfer.finish(curlCode: code)
        }
    }

    /// Drops `id` from the in-flight set; called before the sink hears the outcome, so a caller
    /// that has its answer never sees its own request still counted.
    private func forget(_ id: UInt64) {
        _ = inbox.withLock { $0.inFlight.remove(id) }
    }

    private func fail(_ sink: TransferSink, _ error: any Error) {
        switch sink {
        case .unary(let continuation): continuation.resume(throwing: error)
        case .stream(let continuation, _): continuation.finish(throwing: error)
        }
    }
}

/// The loop thread's running transfers, by id and by easy handle.
private struct Transfers {
    private var byID: [UInt64: CurlTransfer] = [:]
    private var idByHandle: [UnsafeMutableRawPointer: UInt64] = [:]

    mutating func insert(_ transfer: CurlTransfer) {
        byID[transfer.id] = transfer
        idByHandle[transfer.easy] = transfer.id
    }

    subscript(id: UInt64) -> CurlTransfer? { byID[id] }

    mutating func remove(id: UInt64) -> CurlTransfer? {
        guard let transfer = byID.removeValue(forKey: id) else { return nil }
        idByHandle[transfer.easy] = nil
        return transfer
    }

    mutating func remove(easy: UnsafeMutableRawPointer) -> CurlTransfer? {
        guard let id = idByHandle[easy] else { return nil }
        return remove(id: id)
    }

    mutating func removeAll() -> [CurlTransfer] {
        defer { byID = [:]; idByHandle = [:] }
        return Array(byID.values)
    }
}

/// `curl_global_init` once per process, before the first handle; Swift runs a global's
/// initializer exactly once, thread-safely.
private let curlGlobalInit: Void = {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
}()
