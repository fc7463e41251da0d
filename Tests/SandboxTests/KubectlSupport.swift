import CairnTesting
import Foundation
import Sandbox
import YAML

/// A sandbox server with a kubeconfig in a temporary directory, and the real kubectl pointed at it.
struct KubectlHarness: Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let backupConfigurations = ResourceID(group: "cairn.dev", version: "v1alpha1", plural: "backupconfigurations")
    static let kubectlPath = Processes.kubectlPath

    let server: SandboxServer
    let directory: URL
    let url: URL

    var kubeconfig: URL { directory.appendingPathComponent("kubeconfig") }
    /// The server's certificate, for curl's `--cacert`.
    var certificateFile: URL { directory.appendingPathComponent("ca.pem") }
    var store: ObjectStore { server.store }

    /// Runs `body` with a listening server (namespace `default` created), then stops it and removes
    /// the temporary directory.
    static func with<T: Sendable>(historyLimit: Int = 1000, _ body: @Sendable (KubectlHarness) async throws -> T) async throws -> T {
        let store = Fixture.store(historyLimit: historyLimit)
        _ = try await store.create(Fixture.namespace("default"), in: .namespaces)
        let server = try SandboxServer(store: store, token: "test-token", bookmarkInterval: .milliseconds(100))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-kubectl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { removeQuietly(directory) }
        return try await server.withRunning { url in
            try server.writeKubeconfig(to: directory.appendingPathComponent("kubeconfig"))
            try Data(server.certificatePEM.utf8).write(to: directory.appendingPathComponent("ca.pem"))
            return try await body(KubectlHarness(server: server, directory: directory, url: url))
        }
    }

    /// The kubectl arguments that select this sandbox and a private discovery cache.
    func baseArguments(kubeconfig: URL? = nil) -> [String] {
        ["--kubeconfig", (kubeconfig ?? self.kubeconfig).path, "--cache-dir", directory.appendingPathComponent("cache").path]
    }

    /// Runs kubectl to completion.
    func kubectl(_ arguments: String..., stdin: String? = nil) async throws -> ProcessOutput {
        try await Processes.run(Self.kubectlPath, baseArguments() + arguments, stdin: stdin)
    }

    /// Runs kubectl and fails with its stderr unless it succeeded.
    @discardableResult
    func kubectlOK(_ arguments: String..., stdin: String? = nil) async throws -> String {
        let output = try await Processes.run(Self.kubectlPath, baseArguments() + arguments, stdin: stdin)
        guard output.status == 0 else {
            throw HarnessError(description: "kubectl \(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)")
        }
        return output.stdout
    }

    /// Applies the repository's BackupConfiguration CRD, with kubectl's default (strict) validation.
    func applyCRD() async throws {
        try await kubectlOK("apply", "-f", Self.repository.appendingPathComponent("crds/cairn.dev_backupconfigurations.yaml").path)
    }

    /// A BackupConfiguration named `name` in `default`.
    static func backupConfiguration(_ name: String) -> String {
        """
        apiVersion: cairn.dev/v1alpha1
        kind: BackupConfiguration
        metadata:
          name: \(name)
          namespace: default
        spec:
          target:
            apiVersion: apps/v1
            kind: StatefulSet
            name: postgres
          storage:
            name: default
            namespace: cairn-system
          sessions:
          - name: nightly
            schedule: "0 3 * * *"
            method: restic
        """
    }

    private static func removeQuietly(_ directory: URL) {
        do {
            try FileManager.default.removeItem(at: directory)
        } catch {
            print("warning: could not remove \(directory.path): \(error)")
        }
    }
}
