import YAML

/// Turns the bytes of a watch response, cut anywhere, into events: one JSON object per line.
struct WatchDecoder {
    let verb: String
    let url: String
    private var pending: [UInt8] = []

    init(verb: String, url: String) {
        self.verb = verb
        self.url = url
    }

    /// The events completed by `bytes`; a partial line waits for the next call.
    mutating func feed(_ bytes: [UInt8]) throws(KubeError) -> [WatchEvent] {
        pending.append(contentsOf: bytes)
        var events: [WatchEvent] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<newline])
            pending.removeFirst(newline + 1)
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            events.append(try event(line))
        }
        return events
    }

    /// Checks that the stream did not end inside an event.
    func finish() throws(KubeError) {
        let rest = pending.filter { ![UInt8(ascii: " "), UInt8(ascii: "\r"), UInt8(ascii: "\n")].contains($0) }
        guard rest.isEmpty else { throw invalid("the watch ended inside an event: \(KubeError.preview(pending))") }
    }

    private func event(_ line: [UInt8]) throws(KubeError) -> WatchEvent {
        let node: Node
        do { node = try JSON.parse(line) } catch {
            throw invalid("a watch event is not JSON (\(error)): \(KubeError.preview(line))")
        }
        guard let object = node["object"] else { throw invalid("a watch event has no object: \(KubeError.preview(line))") }
        switch node["type"]?.string {
        case "ADDED": return .added(object)
        case "MODIFIED": return .modified(object)
        case "DELETED": return .deleted(object)
        case "BOOKMARK": return .bookmark(object)
        case "ERROR":
            guard let status = KubeStatus(object) else { throw invalid("a watch ERROR event holds no Status: \(KubeError.preview(line))") }
            return .error(status)
        default: throw invalid("a watch event has an unknown type: \(KubeError.preview(line))")
        }
    }

    private func invalid(_ message: String) -> KubeError {
        KubeError(kind: .invalidResponse, status: nil, verb: verb, url: url, httpCode: 200, message: message)
    }
}
