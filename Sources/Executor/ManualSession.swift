import Blueprint
import CairnAPI
import Foundation

/// A BackupSession started by hand (`cairn backup now`), checked against its configuration.
public enum ManualSession {
    /// `<config>-<session>-manual-<yyyyMMddHHmmss>` in UTC, shortened with a hash past 63 characters.
    public static func name(configuration: String, session: String, at time: Date) -> String {
        let parts = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: time)
        let stamp = String(format: "%04d%02d%02d%02d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                           parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        return Naming.shortened("\(configuration)-\(session)-manual-\(stamp)")
    }

    /// The manual BackupSession of `session` (the configuration's only session when nil), owned by
    /// the configuration; throws ``ManualSessionError`` when there is no such session.
    public static func make(for configuration: BackupConfiguration, session: String?, at time: Date) throws -> BackupSession {
        let chosen = try pick(session, in: configuration)
        var object = Scheduler.backupSession(
            name(configuration: configuration.metadata.name ?? "", session: chosen, at: time), session: chosen, scheduledTime: nil,
            of: configuration)
        object.spec.trigger = .manual
        return object
    }

    private static func pick(_ session: String?, in configuration: BackupConfiguration) throws -> String {
        let names = configuration.spec.sessions.map(\.name)
        let title = "BackupConfiguration \(configuration.metadata.namespace ?? "")/\(configuration.metadata.name ?? "")"
        guard let session else {
            guard names.count == 1 else {
                throw ManualSessionError(description: names.isEmpty
                    ? "\(title) has no sessions in spec.sessions; add one first"
                    : "\(title) has sessions \(names.joined(separator: ", ")); pick one with --session")
            }
            return names[0]
        }
        guard names.contains(session) else {
            throw ManualSessionError(description: "\(title) has no session \"\(session)\" in spec.sessions; its sessions are \(names.joined(separator: ", "))")
        }
        return session
    }
}

/// A manual session that cannot be made, and why.
public struct ManualSessionError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what to do.
    public let description: String

    /// Creates an error.
    public init(description: String) { self.description = description }
}
