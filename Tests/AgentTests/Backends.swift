import CairnTesting
import Foundation
import Testing

/// A restic repository the agent can reach: a local path, S3 on a moto server, or sftp on sshd,
/// every server on 127.0.0.1 and stopped when the body returns.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case local, s3, sftp

    var testDescription: String { rawValue }

    /// The environment the agent gets for a repository on this backend.
    typealias Repository = [String: String]

    /// Starts what the backend needs under `directory` and runs `body` with the repository's
    /// environment (`RESTIC_REPOSITORY`, credentials; not the password) and the options a plain
    /// `restic` needs to reach it.
    func with<T: Sendable>(in directory: TestDirectory, _ body: (Repository, [String]) async throws -> T) async throws -> T {
        switch self {
        case .local:
            return try await body(["RESTIC_REPOSITORY": directory.url.appendingPathComponent("repo").path], [])
        case .s3:
            return try await Moto.with(in: directory.url) { port in try await body(Moto.repository(port: port), []) }
        case .sftp:
            return try await SSHServer.with(in: directory.url) { server in try await body(server.repository, try server.resticOptions()) }
        }
    }
}

