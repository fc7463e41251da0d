import Foundation
import NIOSSL

/// The REST client's TLS settings (from the kubeconfig) in NIOSSL's terms, for the exec WebSocket,
/// which libcurl cannot carry.
struct ExecTLS {
    let configuration: TLSConfiguration
    /// The name sent as SNI and verified; `nil` for an IP address, which NIOSSL verifies against the
    /// certificate's IP SANs through the peer's address.
    let serverHostname: String?

    init(_ connection: ClusterConnection, host: String) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let authority = connection.certificateAuthority {
            configuration.trustRoots = .certificates(try Self.certificates(authority, what: "certificate-authority"))
        }
        if connection.insecureSkipTLSVerify { configuration.certificateVerification = .none }
        if let identity = try connection.clientIdentity() {
            configuration.certificateChain = try Self.certificates(identity.certificate, what: "client-certificate").map { .certificate($0) }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: identity.key, format: .pem))
            } catch {
                throw KubeConfigError(.invalidValue, "client-key is not a PEM private key NIOSSL can load: \(error)")
            }
        }
        self.configuration = configuration
        let name = connection.tlsServerName ?? host
        serverHostname = Self.isIPAddress(name) ? nil : name
    }

    private static func certificates(_ pem: [UInt8], what field: String) throws -> [NIOSSLCertificate] {
        do {
            return try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw KubeConfigError(.invalidValue, "\(field) is not PEM certificates NIOSSL can load: \(error)")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }
}
