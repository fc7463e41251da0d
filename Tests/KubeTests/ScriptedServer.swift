import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A request as the scripted server received it.
struct ReceivedRequest: Sendable {
    var method: String
    var target: String
    var headers: [String: String]
    var body: [UInt8]

    var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
    var query: [String: String] {
        guard let q = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var result: [String: String] = [:]
        for item in q.split(separator: "&") {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the scripted server answers.
struct Reply: Sendable {
    enum Body: Sendable {
        /// A whole body with a correct Content-Length.
        case full([UInt8])
        /// Chunked transfer encoding, each piece after its delay; `terminate` sends the final chunk,
        /// otherwise the connection is cut after the last piece.
        case chunked([(delayMilliseconds: Int, bytes: [UInt8])], terminate: Bool)
        /// Announces `announced` bytes, sends `body` and closes.
        case truncated([UInt8], announced: Int)
    }

    var status: Int = 200
    var headers: [String: String] = ["Content-Type": "application/json"]
    var body: Body = .full([])
    /// How long to wait before answering at all.
    var delayMilliseconds = 0

    static func json(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Reply {
        Reply(status: status, headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: .full(Array(text.utf8)))
    }

    static func chunks(_ pieces: [String], delayMilliseconds: Int = 0, terminate: Bool = true) -> Reply {
        Reply(body: .chunked(pieces.map { (delayMilliseconds, Array($0.utf8)) }, terminate: terminate))
    }
}

/// A real HTTP/1.1 server on 127.0.0.1, port 0, answering from a script, one thread per connection.
final class ScriptedServer: Sendable {
    let port: Int
    private let listener: Int32
    private let handler: @Sendable (ReceivedRequest, Int) -> Reply
    private let state = Mutex(State())

    private struct State {
        var received: [ReceivedRequest] = []
        var stopped = false
        var openConnections: Set<Int32> = []
    }

    /// Starts serving; `handler` gets each request and its 0-based index.
    init(_ handler: @escaping @Sendable (ReceivedRequest, Int) -> Reply) throws {
        self.handler = handler
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, SOMAXCONN) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// A scripted sequence: the n-th request gets `replies[n]`, later ones the last reply.
    convenience init(replies: [Reply]) throws {
        try self.init { _, index in replies[min(index, replies.count - 1)] }
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var received: [ReceivedRequest] { state.withLock { $0.received } }

    /// Stops accepting and cuts open connections.
    ///
    /// File descriptors are closed only by the threads that own them, and connection ones are shut
    /// down and closed under `state`'s lock, so a number reused by another test's socket is never hit.
    func stop() {
        state.withLock { state in
            state.stopped = true
            for fd in state.openConnections { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            let accepted = state.withLock { state in
                if !state.stopped { state.openConnections.insert(fd) }
                return !state.stopped
            }
            guard accepted else { close(fd); return }
            let thread = Thread { [self] in serve(fd) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        var reader = SocketReader(fd: fd)
        while let request = reader.readRequest() {
            let index = state.withLock { state in
                state.received.append(request)
                return state.received.count - 1
            }
            guard answer(handler(request, index), on: fd) else { break }
        }
        state.withLock { state in
            state.openConnections.remove(fd)
            close(fd)
        }
    }

    /// Writes a reply; false when the connection must close afterwards.
    private func answer(_ reply: Reply, on fd: Int32) -> Bool {
        if reply.delayMilliseconds > 0 { usleep(UInt32(reply.delayMilliseconds * 1000)) }
        var head = "HTTP/1.1 \(reply.status) Scripted\r\n"
        for (name, value) in reply.headers { head += "\(name): \(value)\r\n" }
        switch reply.body {
        case .full(let bytes):
            return send(fd, head + "Content-Length: \(bytes.count)\r\n\r\n", bytes)
        case .truncated(let bytes, let announced):
            _ = send(fd, head + "Content-Length: \(announced)\r\n\r\n", bytes)
            return false
        case .chunked(let pieces, let terminate):
            guard send(fd, head + "Transfer-Encoding: chunked\r\n\r\n", []) else { return false }
            for piece in pieces {
                if piece.delayMilliseconds > 0 { usleep(UInt32(piece.delayMilliseconds * 1000)) }
                let chunk = Array(String(piece.bytes.count, radix: 16).utf8) + Array("\r\n".utf8) + piece.bytes + Array("\r\n".utf8)
                guard send(fd, "", chunk) else { return false }
            }
            return terminate && send(fd, "0\r\n\r\n", [])
        }
    }

    private func send(_ fd: Int32, _ text: String, _ bytes: [UInt8]) -> Bool {
        let all = Array(text.utf8) + bytes
        var offset = 0
        while offset < all.count {
            let written = all[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }
}

/// Reads HTTP/1.1 requests off a socket.
private struct SocketReader {
    let fd: Int32
    var buffer: [UInt8] = []

    mutating func readRequest() -> ReceivedRequest? {
        guard let headEnd = fill(until: { $0.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound }) else { return nil }
        let lines = String(decoding: buffer[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeFirst(headEnd)
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where line.contains(":") {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard fill(until: { $0.count >= length ? length : nil }) != nil else { return nil }
        let body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return ReceivedRequest(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body)
    }

    private mutating func fill(until found: ([UInt8]) -> Int?) -> Int? {
        while true {
            if let index = found(buffer) { return index }
            var chunk = [UInt8](repeating: 0, count: 16384)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
