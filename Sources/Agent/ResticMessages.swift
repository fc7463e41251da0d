import Foundation
import YAML

/// The `--json` messages of restic 0.14 that the agent reads; fields restic adds later are ignored.
enum ResticMessage {
    /// `{"message_type":"summary",...}`, the last line of `restic backup --json`.
    struct BackupSummary: Decodable, Equatable {
        var snapshotID: String
        var filesNew: Int?
        var totalFilesProcessed: Int?
        var totalBytesProcessed: Int?
        var dataAdded: Int?

        enum CodingKeys: String, CodingKey {
            case snapshotID = "snapshot_id", filesNew = "files_new", totalFilesProcessed = "total_files_processed"
            case totalBytesProcessed = "total_bytes_processed", dataAdded = "data_added"
        }
    }

    /// `{"message_type":"status",...}`: backup progress.
    struct BackupStatus: Decodable {
        var percentDone: Double?
        var bytesDone: Int?
        var totalBytes: Int?
        var errorCount: Int?

        enum CodingKeys: String, CodingKey {
            case percentDone = "percent_done", bytesDone = "bytes_done", totalBytes = "total_bytes", errorCount = "error_count"
        }
    }

    /// `{"message_type":"error","item":...}` on stderr: a file restic could not read.
    struct BackupError: Decodable {
        var item: String?
        var during: String?
    }

    /// One element of `restic snapshots --json`.
    struct Snapshot: Decodable, Equatable {
        var id: String
        var time: String
        var hostname: String
        var tags: [String]?
        var paths: [String]?
    }

    /// `restic cat lock ID` (JSON in 0.14 even without `--json`).
    struct Lock: Decodable, Equatable {
        var time: String
        var exclusive: Bool
        var hostname: String
        var pid: Int
    }

    /// One line of `restic ls --json`: the snapshot first, then one node per line.
    struct ListedNode: Decodable {
        var type: String?
        var size: Int?
        var structType: String?

        enum CodingKeys: String, CodingKey {
            case type, size, structType = "struct_type"
        }
    }

    /// The `message_type` of a JSON line, or nil for a line that is not a JSON object.
    static func type(of line: String) -> String? {
        guard line.hasPrefix("{") else { return nil }
        do {
            return try JSON.parse(line)["message_type"]?.string
        } catch {
            return nil  // restic mixes prose into stderr; a line that is not JSON is not a message
        }
    }

    /// Decodes one JSON document of `command`'s output, or fails with `UndecodableOutput`. Unlike
    /// Cairn's own strict `NodeDecoder`, fields restic adds in later releases are ignored.
    static func decode<T: Decodable>(_ type: T.Type, _ text: String, from command: String) throws(AgentFailure) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            let excerpt = text.count > 200 ? String(text.prefix(200)) + "..." : text
            throw AgentFailure(.undecodableOutput, "could not read the JSON of `restic \(command)`: \(error); it printed: \(excerpt)")
        }
    }
}
