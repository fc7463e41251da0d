import Foundation

/// A fresh directory under the system temp directory, removed by `remove()`.
struct TempDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("kube-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` (creating subdirectories) and returns the absolute path.
    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        return file
    }

    func remove() throws { try FileManager.default.removeItem(atPath: path) }
}

/// A kubeconfig with one context per name, each with its own cluster and user.
func kubeconfig(current: String?, contexts: [String], server: String = "https://example") -> String {
    var text = "apiVersion: v1\nkind: Config\n"
    if let current { text += "current-context: \(current)\n" }
    text += "clusters:\n" + contexts.map { "- name: \($0)\n  cluster:\n    server: \(server)/\($0)\n" }.joined()
    text += "users:\n" + contexts.map { "- name: \($0)\n  user:\n    token: token-\($0)\n" }.joined()
    text += "contexts:\n" + contexts.map { "- name: \($0)\n  context:\n    cluster: \($0)\n    user: \($0)\n    namespace: ns-\($0)\n" }.joined()
    return text
}
