import CairnAPI
import Foundation
import YAML

/// Writes an `AgentResult` where the controller reads it: the container's termination-message file.
public enum ResultFile {
    /// Kubernetes keeps at most this many bytes of a termination message.
    public static let limit = 4096

    /// `--result-file`, else `$CAIRN_TERMINATION_LOG` (the sandbox's), else `/dev/termination-log`.
    public static func path(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let sandbox = environment["CAIRN_TERMINATION_LOG"], !sandbox.isEmpty { return sandbox }
        return "/dev/termination-log"
    }

    /// Compact JSON of `result`, at most `limit` bytes: messages are clipped to a sensible length
    /// first, then `unreadable` lists are cut (their `omittedUnreadable` says how many went), then
    /// the messages are clipped further.
    public static func encode(_ result: AgentResult, limit: Int = limit) throws -> String {
        var current = result
        var text = try emit(current)
        var messageLimit = 1024
        if text.utf8.count > limit {
            current = clipped(current, messageLimit)
            text = try emit(current)
        }
        var keep = 64
        while text.utf8.count > limit, keep > 0 {
            keep /= 2
            current = shortened(current, keeping: keep)
            text = try emit(current)
        }
        while text.utf8.count > limit, messageLimit > 16 {
            messageLimit /= 2
            current = clipped(current, messageLimit)
            text = try emit(current)
        }
        return text
    }

    private static func clipped(_ result: AgentResult, _ count: Int) -> AgentResult {
        var result = result
        result.message = result.message.map { clip($0, count) }
        result.volumes = result.volumes?.map { volume in
            var volume = volume
            volume.error = volume.error.map { clip($0, count / 4) }
            return volume
        }
        return result
    }

    /// Writes `result` to `path`.
    public static func write(_ result: AgentResult, to path: String) throws {
        let text = try encode(result)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    private static func emit(_ result: AgentResult) throws -> String {
        try JSON.emit(try NodeEncoder().encode(result))
    }

    private static func shortened(_ result: AgentResult, keeping count: Int) -> AgentResult {
        var result = result
        result.volumes = result.volumes?.map { volume in
            var volume = volume
            guard let unreadable = volume.unreadable, unreadable.count > count else { return volume }
            volume.unreadable = Array(unreadable.prefix(count))
            volume.omittedUnreadable = (volume.omittedUnreadable ?? 0) + unreadable.count - count
            return volume
        }
        return result
    }

    private static func clip(_ text: String, _ count: Int) -> String {
        text.count <= count ? text : String(text.prefix(count)) + "..."
    }
}
