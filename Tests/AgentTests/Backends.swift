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
            return try await Moto.with(in: directory) { port in try await body(Moto.repository(port: port), []) }
        case .sftp:
            return try await SSHServer.with(in: directory) { server in try await body(server.repository, try server.resticOptions()) }
        }
    }
}

/// moto's S3 server (`moto_server`, from PyPI).
enum Moto {
    static func repository(port: Int, bucket: String = "cairn") -> [String: String] {
        [
            "RESTIC_REPOSITORY": "s3:http://127.0.0.1:\(port)/\(bucket)/restic",
            "AWS_ACCESS_KEY_ID": "cairn-test", "AWS_SECRET_ACCESS_KEY": "cairn-test-secret", "AWS_DEFAULT_REGION": "us-east-1",
        ]
    }

    /// Starts moto on a port the kernel picks (`-p 0`; it logs the one it got), so that no other
    /// test's server can take it between a free-port probe and moto's bind.
    static func with<T: Sendable>(in directory: TestDirectory, _ body: (Int) async throws -> T) async throws -> T {
        let log = directory.url.appendingPathComponent("moto.log")
        return try await withServer("moto_server", ["-H", "127.0.0.1", "-p", "0"], log: log, listening: {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""  // not written yet: not ready
            guard let range = text.range(of: "Running on http://127.0.0.1:") else { return nil }
            let port = Int(text[range.upperBound...].prefix { $0.isNumber })
            return port.flatMap { Ports.answers($0) ? $0 : nil }
        }) { port in try await body(port) }
    }
}

/// OpenSSH's sshd on loopback with a generated host key and user key, serving internal-sftp.
struct SSHServer {
    var port: Int
    var user: String
    var privateKey: String
    var knownHosts: String
    var root: URL

    /// The repository environment: the key and known hosts as the storage Secret would carry them.
    var repository: [String: String] {
        [
            "RESTIC_REPOSITORY": "sftp://\(user)@127.0.0.1:\(port)/\(root.appendingPathComponent("repo").path)",
            "SSH_PRIVATE_KEY": privateKey, "SSH_KNOWN_HOSTS": knownHosts,
        ]
    }

    /// `-o sftp.command=...` for a plain restic, with the key in a file of its own.
    func resticOptions() throws -> [String] {
        let key = root.appendingPathComponent("user_key")
        let known = root.appendingPathComponent("known_hosts")
        try knownHosts.write(to: known, atomically: true, encoding: .utf8)
        return ["-o", "sftp.command=ssh -F none -i \(key.path) -o UserKnownHostsFile=\(known.path) -o BatchMode=yes -p \(port) -l \(user) 127.0.0.1 -s sftp"]
    }

    static let sshd = "/usr/sbin/sshd"

    /// Why sshd cannot run here, or nil when it can.
    static var unavailable: String? {
        FileManager.default.isExecutableFile(atPath: sshd) ? nil : "\(sshd) is not installed (Debian package openssh-server; scripts/test installs it)"
    }

    static func with<T: Sendable>(in directory: TestDirectory, _ body: (SSHServer) async throws -> T) async throws -> T {
        let root = try directory.directory("sftp")
        let hostKey = root.appendingPathComponent("host_key")
        let userKey = root.appendingPathComponent("user_key")
        for key in [hostKey, userKey] {
            let output = try await Processes.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key.path])
            guard output.status == 0 else { throw HarnessError(description: "ssh-keygen failed: \(output.stderr)") }
        }
        let authorized = root.appendingPathComponent("authorized_keys")
        try FileManager.default.copyItem(at: userKey.appendingPathExtension("pub"), to: authorized)
        if getuid() == 0 {
            // sshd started as root wants its privilege-separation directory, which systemd would make.
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        let port = try Ports.free()
        let config = root.appendingPathComponent("sshd_config")
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(hostKey.path)
            PidFile none
            AuthorizedKeysFile \(authorized.path)
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            Subsystem sftp internal-sftp
            """.write(to: config, atomically: true, encoding: .utf8)
        let hostPublic = try String(contentsOf: hostKey.appendingPathExtension("pub"), encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let server = SSHServer(
            port: port, user: String(cString: getpwuid(getuid()).pointee.pw_name),
            privateKey: try String(contentsOf: userKey, encoding: .utf8), knownHosts: "[127.0.0.1]:\(port) \(hostPublic)\n", root: root)
        return try await withServer(sshd, ["-D", "-e", "-f", config.path], log: root.appendingPathComponent("sshd.log"), listening: {
            Ports.answers(port) ? port : nil
        }) { _ in try await body(server) }
    }
}
