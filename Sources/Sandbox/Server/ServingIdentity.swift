import Crypto
import Foundation
import HummingbirdTLS
import SwiftASN1
import X509

/// A self-signed certificate for 127.0.0.1 and its key, made fresh for each server. kubectl sends
/// bearer tokens only over TLS (client-go drops credentials for plain-HTTP servers), so the
/// sandbox serves HTTPS and puts this certificate in the kubeconfig as the CA.
struct ServingIdentity: Sendable {
    /// The certificate in PEM, for `certificate-authority-data`.
    let certificatePEM: String
    let privateKeyPEM: String

    /// Issues a certificate valid from an hour before `now` for a year.
    init(now: Date) throws(SandboxServerError) {
        let key = P256.Signing.PrivateKey()
        do {
            let name = try DistinguishedName { CommonName("cairn-sandbox") }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                    SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])), .dnsName("localhost")])
                },
                issuerPrivateKey: .init(key))
            certificatePEM = try certificate.serializeAsPEM().pemString
        } catch {
            throw SandboxServerError(description: "cannot issue the sandbox's serving certificate: \(error)")
        }
        privateKeyPEM = key.pemRepresentation
    }

    /// The server side of TLS with this identity.
    func tlsConfiguration() throws(SandboxServerError) -> TLSConfiguration {
        do {
            let certificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
            let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        } catch {
            throw SandboxServerError(description: "cannot load the sandbox's serving certificate into TLS: \(error)")
        }
    }
}
