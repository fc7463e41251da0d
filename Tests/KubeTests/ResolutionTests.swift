import Foundation
import Testing
@testable import Kube

@Suite struct ResolutionTests {
    @Test(arguments: [
        ("prod", KubeConfigError.Kind.contextNotFound, #"context "prod" not found; available contexts: dev, staging; pass --context or set current-context"#),
        ("nocluster", .clusterNotFound, #"refers to cluster "ghost", which is not defined; available clusters: dev, staging"#),
        ("nouser", .userNotFound, #"refers to user "ghost", which is not defined; available users: dev, staging"#),
    ])
    func givenMissingReference_whenResolving_thenTheErrorNamesItAndTheAlternatives(context: String, kind: KubeConfigError.Kind, message: String) throws {
        let text = kubeconfig(current: "dev", contexts: ["dev", "staging"]) + """
            - name: nocluster
              context: {cluster: ghost, user: dev}
            - name: nouser
              context: {cluster: dev, user: ghost}

            """
        let config = try KubeConfig.parse(text, file: "/home/me/.kube/config")
        let shown = context == "prod" ? ["dev", "nocluster", "nouser", "staging"] : []
        let error = #expect(throws: KubeConfigError.self) { try config.connection(context: context) }

        #expect(error?.kind == kind)
        #expect(error?.description.hasPrefix("/home/me/.kube/config") == true)
        let expected = shown.isEmpty ? message : message.replacingOccurrences(of: "dev, staging", with: shown.joined(separator: ", "))
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }

    @Test func givenRelativePaths_whenResolving_thenTheyAreRelativeToTheDefiningFile() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        try dir.write("conf/pki/ca.pem", "CA")
        try dir.write("conf/pki/cert.pem", "CERT")
        try dir.write("conf/pki/key.pem", "KEY")
        try dir.write("conf/token", "tok\n")
        let file = try dir.write("conf/config", """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: c
              cluster: {server: "https://s", certificate-authority: pki/ca.pem}
            users:
            - name: u
              user: {client-certificate: pki/cert.pem, client-key: ./pki/key.pem, tokenFile: token, exec: null}
            contexts:
            - name: c
              context: {cluster: c, user: u}
            """)

        let connection = try KubeConfigLoader(explicitPath: file, environment: [:]).connection()

        #expect(connection.certificateAuthority == Array("CA".utf8))
        #expect(try connection.clientIdentity() == ClientIdentity(certificate: Array("CERT".utf8), key: Array("KEY".utf8)))
        #expect(try connection.bearerToken() == "tok")
        #expect(connection.namespace == "default")
    }

    @Test func givenBase64Data_whenResolving_thenItIsDecoded() throws {
        let config = try KubeConfig.parse("""
            current-context: c
            clusters:
            - {name: c, cluster: {server: "https://s", certificate-authority-data: \(Data("PEM".utf8).base64EncodedString()), insecure-skip-tls-verify: true, tls-server-name: api, proxy-url: "http://proxy"}}
            users:
            - {name: u, user: {username: admin, password: secret, as: jane, as-groups: [ops], as-user-extra: {scopes: [a, b]}}}
            contexts:
            - {name: c, context: {cluster: c, user: u, namespace: backups}}
            """, file: "cfg")

        let connection = try config.connection()

        #expect(connection.certificateAuthority == Array("PEM".utf8))
        #expect(connection.insecureSkipTLSVerify && connection.tlsServerName == "api" && connection.proxyURL == "http://proxy")
        #expect(connection.username == "admin" && connection.password == "secret")
        #expect(connection.impersonation == Impersonation(user: "jane", groups: ["ops"], extra: ["scopes": ["a", "b"]]))
        #expect(connection.namespace == "backups")
        #expect(try connection.bearerToken() == nil)
    }

    @Test func givenTokenFile_whenItIsRotated_thenTheNewTokenIsReturned() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let token = try dir.write("token", "first")
        let file = TokenFile(path: token, referencedBy: "test")
        #expect(try file.token() == "first")

        try dir.write("token", "second-token")

        #expect(try file.token() == "second-token")
        #expect(try file.token() == "second-token")
    }
}
