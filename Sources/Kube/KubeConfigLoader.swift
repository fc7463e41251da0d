import Foundation

/// Finds and merges kubeconfig files the way client-go's `ClientConfigLoadingRules` does.
///
/// 1. An explicit path (`--kubeconfig`) wins; a missing one is an error.
/// 2. Otherwise every file in `KUBECONFIG` (separated by `:`) is merged; missing ones are skipped.
///    For clusters, users, contexts and extensions the first file that defines a name wins;
///    `current-context` comes from the first file that sets it.
/// 3. Otherwise `~/.kube/config`, when it exists.
public struct KubeConfigLoader: Sendable {
    /// `--kubeconfig`, when given.
    public var explicitPath: String?
    /// The environment `KUBECONFIG` and `HOME` are read from.
    public var environment: [String: String]

    /// Creates loading rules over `environment` (the process's by default).
    public init(explicitPath: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicitPath = explicitPath
        self.environment = environment
    }

    /// The files to read, in precedence order, and whether each must exist.
    public var candidateFiles: [(path: String, required: Bool)] {
        if let explicitPath, !explicitPath.isEmpty { return [(explicitPath, true)] }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            var seen: Set<String> = []
            return list.split(separator: ":").map(String.init).filter { seen.insert($0).inserted }.map { ($0, false) }
        }
        guard let home = environment["HOME"] else { return [] }
        return [(home + "/.kube/config", false)]
    }

    /// Reads and merges the files; an empty configuration when none exists and none was required.
    public func load() throws -> KubeConfig {
        var merged = KubeConfig()
        for (path, required) in candidateFiles {
            guard let text = try Self.read(path, required: required) else { continue }
            merged.merge(try KubeConfig.parse(text, file: path))
        }
        return merged
    }

    /// Loads, then resolves the context (`--context` when given) into a connection.
    public func connection(context: String? = nil, runner: ExecCredentialRunner = ExecCredentialRunner()) throws -> ClusterConnection {
        let config = try load()
        guard !config.files.isEmpty else {
            let looked = candidateFiles.map(\.path).joined(separator: ", ")
            throw KubeConfigError(.noConfiguration, "no kubeconfig found (looked at: \(looked.isEmpty ? "nothing; HOME is unset" : looked)); pass --kubeconfig or set KUBECONFIG")
        }
        return try config.connection(context: context, runner: runner)
    }

    /// The file's text; `nil` when it does not exist and is not required.
    static func read(_ path: String, required: Bool) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else {
            guard required else { return nil }
            throw KubeConfigError(.fileNotFound, "kubeconfig file does not exist; check the --kubeconfig path", file: path)
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeConfigError(.unreadableFile, "cannot read kubeconfig: \(error.localizedDescription)", file: path)
        }
    }
}

extension KubeConfig {
    /// Adds what `other` defines that `self` does not: earlier files win, name by name.
    public mutating func merge(_ other: KubeConfig) {
        clusters.merge(other.clusters) { first, _ in first }
        users.merge(other.users) { first, _ in first }
        contexts.merge(other.contexts) { first, _ in first }
        extensions.merge(other.extensions) { first, _ in first }
        if currentContext == nil { currentContext = other.currentContext }
        if preferences == nil { preferences = other.preferences }
        files += other.files
    }
}
