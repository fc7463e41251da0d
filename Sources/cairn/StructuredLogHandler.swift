import ArgumentParser
import Foundation
import Logging
import Synchronization

/// How `cairn controller` writes its log lines.
enum LogFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// logfmt: `time=... level=info logger=cairn.autobackup msg="..." key="Deployment shop/db"`.
    case text
    /// One JSON object per line.
    case json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A `LogHandler` that writes one line per entry to standard error, in logfmt or JSON, with the
/// entry's metadata (the object key among it) as fields.
struct StructuredLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// Serialises writes, so lines of concurrent tasks never interleave.
    private static let output = Mutex<Void>(())

    init(label: String, format: LogFormat, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata own: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own { fields.merge(own) { _, new in new } }
        let text = Self.line(format: format, time: Date(), level: level, logger: label, message: "\(message)", fields: fields)
        Self.output.withLock { _ in FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    /// One log line without its newline: the fixed fields first, then the metadata sorted by key.
    static func line(format: LogFormat, time: Date, level: Logger.Level, logger: String, message: String, fields: Logger.Metadata) -> String {
        let fixed = [("time", timestamp(time)), ("level", level.rawValue), ("logger", logger), ("msg", message)]
        let all = fixed + fields.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        switch format {
        case .text: return all.map { "\($0.0)=\(logfmtValue($0.1))" }.joined(separator: " ")
        case .json: return "{" + all.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",") + "}"
        }
    }

    /// RFC 3339 in UTC with milliseconds, as Kubernetes components log.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A logfmt value: bare when it is one plain word, otherwise quoted with `"` and `\` escaped.
    static func logfmtValue(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F }
        return plain ? value : jsonString(value)
    }

    /// A JSON string literal.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
