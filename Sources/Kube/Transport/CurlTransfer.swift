import CCurl

/// Where a transfer delivers its outcome. Each transfer resumes or finishes its sink exactly once.
enum TransferSink: Sendable {
    case unary(CheckedContinuation<HTTPResponse, any Error>)
    case stream(AsyncThrowingStream<StreamPart, any Error>.Continuation, StreamBacklog)
}

/// One request on its easy handle.
///
/// Lives only on the curl thread: `CurlLoop` creates it there, libcurl calls its callbacks there,
/// and `finish` (which also frees the handle) runs there. That is why it need not be `Sendable`.
final class CurlTransfer {
    let id: UInt64
    let easy: UnsafeMutableRawPointer
    private let request: HTTPRequest
    private let sink: TransferSink
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    private var status = 0
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []
    private var headDelivered = false
    private var finished = false

    /// Creates the easy handle and configures it; returns nil when libcurl cannot make one.
    init?(id: UInt64, request: HTTPRequest, sink: TransferSink) {
        guard let easy = curl_easy_init() else { return nil }
        self.id = id
        self.easy = easy
        self.request = request
        self.sink = sink
        errorBuffer.initialize(to: 0)
    }

    /// Applies every option; a failure names the option libcurl refused.
    func configure() -> TransportError? {
        var setter = CurlOptionSetter(easy: easy)
        let user = Unmanaged.passUnretained(self).toOpaque()
        setter.pointer(CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer), "ERRORBUFFER")
        setter.pointer(CURLOPT_WRITEDATA, user, "WRITEDATA")
        setter.callback(CURLOPT_WRITEFUNCTION, curlWriteCallback, "WRITEFUNCTION")
        setter.pointer(CURLOPT_HEADERDATA, user, "HEADERDATA")
        setter.callback(CURLOPT_HEADERFUNCTION, curlHeaderCallback, "HEADERFUNCTION")
        setter.configure(request)
        lists = setter.lists
        guard let failure = setter.failure else { return nil }
        return TransportError(.other, method: request.method, url: request.url, message: failure)
    }

    // MARK: callbacks from libcurl

    fileprivate func receiveHeader(_ line: String) {
        if line.hasPrefix("HTTP/") {
            // A new response starts (after 100 Continue, for example): forget the previous head.
            headers = HTTPHeaders()
            status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        } else if let colon = line.firstIndex(of: ":") {
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            headers.append(name: String(line[..<colon]), value: String(value))
        } else if line == "\r\n" || line == "\n", status >= 200 {
            deliverHead()
        }
    }

    /// Takes body bytes; false when the consumer is behind and libcurl must hold them (pause).
    fileprivate func receiveBody(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch sink {
        case .unary:
            body.append(contentsOf: bytes)
        case .stream(let continuation, let backlog):
            deliverHead()
            guard backlog.admit(bytes.count) else { return false }
            continuation.yield(.body(Array(bytes)))
        }
        return true
    }

    /// Lets libcurl deliver again after a pause; the held bytes come through `receiveBody` at once.
    func unpause() {
        if !finished { cairn_curl_unpause(easy) }
    }

    private func deliverHead() {
        guard case .stream(let continuation, _) = sink, !headDelivered else { return }
        headDelivered = true
        continuation.yield(.head(status: status, headers: headers))
    }

    // MARK: completion

    /// Reports libcurl's result to the sink and frees the handle. Safe to call twice; acts once.
    func finish(curlCode: Int) {
        if curlCode == 0 {
            complete(with: nil)
        } else {
            let buffered = String(cString: errorBuffer)
            let message = buffered.isEmpty ? String(cString: curl_easy_strerror(CURLcode(UInt32(curlCode)))) : buffered
            complete(with: TransportError(
                TransportError.kind(curlCode: curlCode), method: request.method, url: request.url,
                curlCode: curlCode, message: message))
        }
    }

    /// An error about this transfer's request.
    func error(_ kind: TransportError.Kind, _ message: String) -> TransportError {
        TransportError(kind, method: request.method, url: request.url, message: message)
    }

    /// Ends the transfer with `error`, or with success when nil, and frees the handle.
    func complete(with error: (any Error)?) {
        guard !finished else { return }
        finished = true
        switch sink {
        case .unary(let continuation):
            if let error { continuation.resume(throwing: error) }
            else { continuation.resume(returning: HTTPResponse(status: status, headers: headers, body: body)) }
        case .stream(let continuation, _):
            if error == nil { deliverHead() }
            continuation.finish(throwing: error)
        }
        lists.forEach { curl_slist_free_all($0) }
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
    }
}

private let curlWriteCallback: cairn_curl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    let taken = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.receiveBody(UnsafeBufferPointer(start: $0, count: length))
    }
    return taken ? length : Int(CURL_WRITEFUNC_PAUSE)
}

private let curlHeaderCallback: cairn_curl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
    transfer.receiveHeader(line)
    return length
}
