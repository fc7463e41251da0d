import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

// The servers the backend tests start: every one on 127.0.0.1, stopped when the body returns.

/// moto's S3 server (`moto_server`, from PyPI).
public enum Moto {
    /// The repository environment for `bucket` on the moto server at `port`, with moto's test credentials.
    public static func repository(port: Int, bucket: String = "cairn") -> [String: String] {
        [
            "RESTIC_REPOSITORY": "s3:http://127.0.0.1:\(port)/\(bucket)/restic",
            "AWS_ACCESS_KEY_ID": "cairn-test", "AWS_SECRET_ACCESS_KEY": "cairn-test-secret", "AWS_DEFAULT_REGION": "us-east-1",
        ]
    }

    /// Starts moto on a port the kernel picks (`-p 0`; it logs the one it got), so that no other
    /// test's server can take it between a free-port probe and moto's bind.
    public static func with<T: Sendable>(in directory: URL, _ body: (Int) async throws -> T) async throws -> T {
        let log = directory.appendingPathComponent("moto.log")
        return try await withServer("moto_server", ["-H", "127.0.0.1", "-p", "0"], log: log, listening: {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""  // not written yet: not ready
            guard let range = text.range(of: "Running on http://127.0.0.1:") else { return nil }
            let port = Int(text[range.upperBound...].prefix { $0.isNumber })
            return port.flatMap { Ports.answers($0) ? $0 : nil }
        }) { port in try await body(port) }
    }
}

/// OpenSSH's sshd on loopback with a generated host key and user key, serving internal-sftp.
public struct SSHServer: Sendable {
    public var port: Int
    public var user: String
    public var privateKey: String
    public var knownHosts: String
    public var root: URL

    /// The repository environment: the key and known hosts as the storage Secret would carry them.
    public var repository: [String: String] {
        [
            "RESTIC_REPOSITORY": "sftp://\(user)@127.0.0.1:\(port)/\(root.appendingPathComponent("repo").path)",
            "SSH_PRIVATE_KEY": privateKey, "SSH_KNOWN_HOSTS": knownHosts,
        ]
    }

    /// `-o sftp.command=...` for a plain restic, with the key in a file of its own.
    public func resticOptions() throws -> [String] {
        let key = root.appendingPathComponent("user_key")
        let known = root.appendingPathComponent("known_hosts")
        try knownHosts.write(to: known, atomically: true, encoding: .utf8)
        return ["-o", "sftp.command=ssh -F none -i \(key.path) -o UserKnownHostsFile=\(known.path) -o BatchMode=yes -p \(port) -l \(user) 127.0.0.1 -s sftp"]
    }

    public static let sshd = "/usr/sbin/sshd"

    /// Why sshd cannot run here, or nil when it can.
    public static var unavailable: String? {
        FileManager.default.isExecutableFile(atPath: sshd) ? nil : "\(sshd) is not installed (Debian package openssh-server; scripts/test installs it)"
    }

    public static func with<T: Sendable>(in directory: URL, _ body: (SSHServer) async throws -> T) async throws -> T {
        let root = directory.appendingPathComponent("sftp")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
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

/// Loopback ports for the servers tests start.
public enum Ports {
    /// A port nothing listens on right now (the kernel's choice for a socket bound to port 0).
    public static func free() throws -> Int {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw HarnessError(description: "socket() failed") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard ok else { throw HarnessError(description: "could not bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func answers(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// Runs a server process while `body` runs, then stops it with SIGTERM (SIGKILL after 5 s).
/// `listening` reads the port it serves on (from its log, say) once it answers, else nil.
public func withServer<T: Sendable>(
    _ executable: String, _ arguments: [String], log: URL, listening: @escaping @Sendable () -> Int?,
    _ body: (Int) async throws -> T
) async throws -> T {
    guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw HarnessError(description: "cannot create \(log.path)") }
    let out = try FileDescriptor.open(FilePath(log.path), .writeOnly, options: [.append])
    let err = try FileDescriptor.open(FilePath(log.path), .writeOnly, options: [.append])
    var options = PlatformOptions()
    options.teardownSequence = [.send(signal: .terminate, allowedDurationToNextStep: .seconds(5))]
    let executableSpec: Executable = executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
    let result = try await Subprocess.run(
        executableSpec, arguments: Arguments(arguments), platformOptions: options, input: .none,
        output: .fileDescriptor(out, closeAfterSpawningProcess: true), error: .fileDescriptor(err, closeAfterSpawningProcess: true)
    ) { execution in
        let port: Int
        do {
            port = try await eventually("\(executable) answering on 127.0.0.1", .seconds(20), interval: .milliseconds(100)) { listening() }
        } catch {
            let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""  // the log only decorates the failure
            throw HarnessError(description: "\(error); its log: \(said)")
        }
        let value = try await body(port)
        try? execution.send(signal: .terminate)  // it may have ended already
        return value
    }
    return result.takeClosureResult()
}
