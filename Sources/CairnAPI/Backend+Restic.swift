extension Backend {
    /// Where a local PVC backend is mounted in a backup or restore pod.
    public static let repositoryMountPath = "/repository"

    /// The members that are set, by their field name (`s3`, `sftp`, ...).
    public var configured: [String] {
        [("s3", s3 != nil), ("gcs", gcs != nil), ("azure", azure != nil), ("b2", b2 != nil), ("rest", rest != nil),
         ("sftp", sftp != nil), ("local", local != nil)].filter(\.1).map(\.0)
    }

    /// The backend as restic's `RESTIC_REPOSITORY` (`s3:https://s3.amazonaws.com/bucket/prefix`);
    /// a local PVC backend is the path it is mounted at, ``repositoryMountPath``.
    ///
    /// Throws when not exactly one backend is set, or the one set lacks what restic needs.
    public var resticRepository: String {
        get throws(BackendError) {
            let set = configured
            guard set.count == 1 else { throw set.isEmpty ? .empty : .several(set) }
            if let s3 {
                let endpoint = s3.endpoint.map(Self.trimmingTrailingSlashes) ?? "https://s3.amazonaws.com"
                return "s3:\(endpoint)/\(Self.joined(s3.bucket, s3.prefix))"
            }
            if let gcs { return "gs:\(gcs.bucket):/\(Self.trimmingSlashes(gcs.prefix ?? ""))" }
            if let azure { return "azure:\(azure.container):/\(Self.trimmingSlashes(azure.prefix ?? ""))" }
            if let b2 {
                let prefix = Self.trimmingSlashes(b2.prefix ?? "")
                return prefix.isEmpty ? "b2:\(b2.bucket)" : "b2:\(b2.bucket):\(prefix)"
            }
            if let rest { return "rest:\(rest.url)" }
            if let sftp { return Self.sftpRepository(sftp) }
            return try Self.localRepository(local ?? LocalBackend())
        }
    }

    /// `sftp:user@host:/path`, or `sftp://user@host:port/path` with a port (restic reads the
    /// path after the port's slash, so `/srv/repo` becomes `//srv/repo`, absolute as given).
    private static func sftpRepository(_ sftp: SFTPBackend) -> String {
        let host = sftp.host.contains(":") && !sftp.host.hasPrefix("[") ? "[\(sftp.host)]" : sftp.host
        guard let port = sftp.port else { return "sftp:\(sftp.user)@\(host):\(sftp.path)" }
        return "sftp://\(sftp.user)@\(host):\(port)/\(sftp.path)"
    }

    private static func localRepository(_ local: LocalBackend) throws(BackendError) -> String {
        switch (local.path, local.pvc) {
        case (let path?, nil): return path
        case (nil, _?): return repositoryMountPath
        case (_?, _?): throw .localBoth
        case (nil, nil): throw .localNeither
        }
    }

    private static func joined(_ bucket: String, _ prefix: String?) -> String {
        let prefix = trimmingSlashes(prefix ?? "")
        return prefix.isEmpty ? bucket : "\(bucket)/\(prefix)"
    }

    private static func trimmingSlashes(_ text: String) -> String {
        String(trimmingTrailingSlashes(text).drop { $0 == "/" })
    }

    private static func trimmingTrailingSlashes(_ text: String) -> String {
        var text = Substring(text)
        while text.last == "/" { text.removeLast() }
        return String(text)
    }
}

/// A BackupStorage backend restic cannot use, with the field to fix.
public struct BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Equatable {
        case empty
        case several([String])
        case localBoth
        case localNeither
    }

    private let code: Code

    static let empty = BackendError(code: .empty)
    static func several(_ names: [String]) -> BackendError { BackendError(code: .several(names)) }
    static let localBoth = BackendError(code: .localBoth)
    static let localNeither = BackendError(code: .localNeither)

    /// What is wrong, as the end of a sentence about the storage: the field and the fix.
    public var description: String {
        switch code {
        case .empty:
            "spec.backend sets no backend; set exactly one of s3, gcs, azure, b2, rest, sftp or local"
        case .several(let names):
            "spec.backend sets \(names.joined(separator: ", ")); set exactly one of them"
        case .localBoth:
            "spec.backend.local sets both path and pvc; keep one"
        case .localNeither:
            "spec.backend.local sets neither path nor pvc; set one"
        }
    }
}
