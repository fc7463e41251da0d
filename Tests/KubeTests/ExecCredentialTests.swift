import Foundation
import Testing
@testable import Kube

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    // @unchecked Sendable: `now` is only touched under `lock`.
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_790_000_000)

    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

@Suite struct ExecCredentialTests {
    static let v1 = "client.authentication.k8s.io/v1"

    /// A kubeconfig whose only user runs `command` through exec.
    func config(command: String, apiVersion: String = v1, extra: String = "") throws -> KubeConfig {
        try KubeConfig.parse("""
            current-context: c
            clusters: [{name: c, cluster: {server: "https://s"}}]
            contexts: [{name: c, context: {cluster: c, user: u}}]
            users:
            - name: u
              user:
                exec:
                  command: \(command)
                  apiVersion: \(apiVersion)
                  args: [--flag]
                  env: [{name: GREETING, value: hello}]
                  interactiveMode: Never
                  provideClusterInfo: true
            \(extra)
            """, file: "/tmp/cfg")
    }

    /// A script that counts its runs in `runs` and prints `status` as an ExecCredential.
    func plugin(_ dir: TempDirectory, status: String, apiVersion: String = v1) throws -> String {
        try dir.write("plugin.sh", """
            #!/bin/sh
            echo run >> "\(dir.path)/runs"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(dir.path)/info"
            echo "$GREETING $1" > "\(dir.path)/seen"
            cat <<JSON
            {"kind": "ExecCredential", "apiVersion": "\(apiVersion)", "status": \(status)}
            JSON
            """, executable: true)
    }

    func runs(_ dir: TempDirectory) throws -> Int {
        try String(contentsOfFile: dir.path + "/runs", encoding: .utf8).split(separator: "\n").count
    }

    @Test func givenTokenPlugin_whenAskedTwiceBeforeExpiry_thenItRunsOnceAndGetsEnvArgsAndExecInfo() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let clock = TestClock()
        let script = try plugin(dir, status: #"{"token": "abc", "expirationTimestamp": "2027-01-15T08:00:00Z"}"#)
        let connection = try config(command: script).connection(runner: ExecCredentialRunner(environment: [:], now: { clock.now }))

        #expect(try connection.bearerToken() == "abc")
        #expect(try connection.bearerToken() == "abc")

        #expect(try runs(dir) == 1)
        #expect(try String(contentsOfFile: dir.path + "/seen", encoding: .utf8) == "hello --flag\n")
        let info = try String(contentsOfFile: dir.path + "/info", encoding: .utf8)
        #expect(info.contains(#""apiVersion":"client.authentication.k8s.io/v1""#))
        #expect(info.contains(#""interactive":false"#) && info.contains(#""server":"https://s""#))
    }

    @Test func givenExpiredCredential_whenAskedAgain_thenThePluginRunsAgain() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let clock = TestClock()
        let script = try plugin(dir, status: #"{"token": "abc", "expirationTimestamp": "2027-01-15T08:00:00Z"}"#)
        let connection = try config(command: script).connection(runner: ExecCredentialRunner(environment: [:], now: { clock.now }))
        #expect(try connection.bearerToken() == "abc")

        clock.advance(365 * 86_400)
        #expect(try connection.bearerToken() == "abc")

        #expect(try runs(dir) == 2)
    }

    @Test func givenCertificatePlugin_whenAskedForIdentity_thenItReturnsThePluginsCertificate() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let script = try plugin(dir, status: #"{"clientCertificateData": "CERT", "clientKeyData": "KEY"}"#, apiVersion: "client.authentication.k8s.io/v1beta1")
        let connection = try config(command: script, apiVersion: "client.authentication.k8s.io/v1beta1").connection(runner: ExecCredentialRunner(environment: [:]))

        #expect(try connection.clientIdentity() == ClientIdentity(certificate: Array("CERT".utf8), key: Array("KEY".utf8)))
        #expect(try connection.bearerToken() == nil)
    }

    @Test(arguments: [
        ("#!/bin/sh\necho 'token expired, run login' >&2\nexit 3\n", KubeConfigError.Kind.execFailed, "exited with status 3; stderr: token expired, run login"),
        ("#!/bin/sh\necho '{not json'\n", .execInvalidOutput, "printed invalid JSON"),
        ("#!/bin/sh\necho '{\"kind\": \"ExecCredential\", \"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"status\": {\"token\": \"x\"}}'\n",
         .execInvalidOutput, "printed apiVersion client.authentication.k8s.io/v1beta1, want client.authentication.k8s.io/v1"),
        ("#!/bin/sh\necho '{\"kind\": \"ExecCredential\", \"apiVersion\": \"client.authentication.k8s.io/v1\", \"status\": {}}'\n",
         .execInvalidOutput, "printed neither status.token"),
    ])
    func givenMisbehavingPlugin_whenRun_thenTheErrorReportsWhatItDid(script: String, kind: KubeConfigError.Kind, message: String) throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let path = try dir.write("plugin.sh", script, executable: true)
        let connection = try config(command: path).connection(runner: ExecCredentialRunner(environment: [:]))

        let error = #expect(throws: KubeConfigError.self) { try connection.bearerToken() }

        #expect(error?.kind == kind)
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func givenMissingCommand_whenRun_thenTheErrorShowsTheInstallHint() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let connection = try config(command: "cairn-no-such-plugin", extra: "      installHint: brew install cairn-auth")
            .connection(runner: ExecCredentialRunner(environment: ["PATH": dir.path]))

        let error = #expect(throws: KubeConfigError.self) { try connection.bearerToken() }

        #expect(error?.kind == .execNotFound)
        #expect(error?.description.contains("executable cairn-no-such-plugin not found\nbrew install cairn-auth") == true, "\(String(describing: error))")
    }
}
