import Foundation
import Testing
@testable import Kube

@Suite struct InClusterTests {
    @Test(arguments: [
        ("10.0.0.1", "https://10.0.0.1:443"),
        ("fd00::1", "https://[fd00::1]:443"),
    ])
    func givenServiceAccountDirectory_whenLoadingInCluster_thenEverythingIsRead(host: String, server: String) throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        try dir.write("token", "sa-token\n")
        try dir.write("ca.crt", "CA")
        try dir.write("namespace", "cairn-system")

        let connection = try ClusterConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": "443"], directory: dir.path)

        #expect(connection.server == server)
        #expect(connection.certificateAuthority == Array("CA".utf8))
        #expect(connection.namespace == "cairn-system")
        #expect(try connection.bearerToken() == "sa-token")
        try dir.write("token", "rotated-token")
        #expect(try connection.bearerToken() == "rotated-token")
    }

    @Test(arguments: [
        (["KUBERNETES_SERVICE_PORT": "443"], ["token", "ca.crt"], "KUBERNETES_SERVICE_HOST is not set"),
        (["KUBERNETES_SERVICE_HOST": "h"], ["token", "ca.crt"], "KUBERNETES_SERVICE_PORT is not set"),
        (["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "443"], ["token"], "/ca.crt: service account file is missing"),
        (["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "443"], ["ca.crt"], "/token: service account file is missing"),
    ])
    func givenIncompleteEnvironment_whenLoadingInCluster_thenTheErrorNamesWhatIsMissing(env: [String: String], files: [String], message: String) throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        for file in files { try dir.write(file, "x") }

        let error = #expect(throws: KubeConfigError.self) { try ClusterConnection.inCluster(environment: env, directory: dir.path) }

        #expect(error?.kind == .inClusterUnavailable)
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }
}
