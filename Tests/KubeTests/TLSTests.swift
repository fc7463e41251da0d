import Foundation
import Testing
import YAML
@testable import Kube

/// `openssl s_server -www` on 127.0.0.1, port 0, with a CA, a server and a client certificate made
/// by the openssl CLI for this test only.
final class TLSServer: Sendable {
    let port: Int
    let directory: TempDirectory
    private let process: Process

    /// Makes the certificates, then serves, demanding a client certificate when `requireClient`.
    init(requireClient: Bool) throws {
        directory = try TempDirectory()
        try Self.makeCertificates(in: directory)
        process = Process()
        // stdbuf: s_server block-buffers its `ACCEPT host:port` line when stdout is a pipe.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
        var arguments = ["-oL", "/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", "server.pem", "-key", "server.key", "-www"]
        if requireClient { arguments += ["-Verify", "1", "-CAfile", "ca.pem"] }
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        port = try Self.readPort(from: output.fileHandleForReading)
    }

    var url: String { "https://127.0.0.1:\(port)" }

    func file(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + name))) }

    func stop() {
        // SIGKILL, not terminate(): the test runner's threads block SIGTERM and children inherit that.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? directory.remove()  // cleanup only
    }

    private static func readPort(from handle: FileHandle) throws -> Int {
        var text = ""
        while !text.contains("\n") || !text.contains("ACCEPT") {
            let data = handle.availableData
            if data.isEmpty { throw POSIXError(.EPIPE) }
            text += String(decoding: data, as: UTF8.self)
        }
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("ACCEPT") })
        return try #require(Int(line.split(separator: ":").last ?? ""))
    }

    private static func makeCertificates(in directory: TempDirectory) throws {
        try directory.write("ext", "subjectAltName=IP:127.0.0.1,DNS:kubernetes.cairn.invalid\n")
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=cairn-test-ca"], in: directory)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "1", "-subj", "/CN=other-ca"], in: directory)
        for name in ["server", "client"] {
            try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"], in: directory)
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                         "-out", "\(name).pem", "-days", "1"] + (name == "server" ? ["-extfile", "ext"] : []), in: directory)
        }
    }

    private static func openssl(_ arguments: [String], in directory: TempDirectory) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " "))")
    }
}

@Suite(.enabled(if: ["/usr/bin/openssl", "/usr/bin/stdbuf"].allSatisfy(FileManager.default.isExecutableFile(atPath:))))
struct TLSTests {
    func request(_ server: TLSServer, ca: String, identity: Bool = false, insecure: Bool = false, serverName: String? = nil) throws -> HTTPRequest {
        var request = HTTPRequest(method: "GET", url: server.url + "/", timeouts: .unary(connect: .seconds(5), total: .seconds(5)),
                                  userAgent: "cairn/test")
        request.tls.certificateAuthority = try server.file(ca)
        request.tls.insecureSkipTLSVerify = insecure
        request.tls.serverName = serverName
        if identity { request.tls.identity = ClientIdentity(certificate: try server.file("client.pem"), key: try server.file("client.key")) }
        return request
    }

    @Test func givenTheServersCAAndAClientCertificateInMemory_whenConnecting_thenTheRequestSucceeds() async throws {
        let server = try TLSServer(requireClient: true)
        defer { server.stop() }

        let response = try await HTTPTransport().send(try request(server, ca: "ca.pem", identity: true))

        #expect(response.status == 200)
    }

    @Test func givenAServerDemandingAClientCertificate_whenNoneIsPresented_thenTheRequestFails() async throws {
        let server = try TLSServer(requireClient: true)
        defer { server.stop() }

        let error = await #expect(throws: TransportError.self) {
            try await HTTPTransport().send(try request(server, ca: "ca.pem"))
        }

        #expect(error?.url == server.url + "/")
    }

    @Test func givenATLSServerNameThatDoesNotResolve_whenConnectingByIP_thenTheCertificateIsCheckedAgainstIt() async throws {
        let server = try TLSServer(requireClient: false)
        defer { server.stop() }

        let response = try await HTTPTransport().send(try request(server, ca: "ca.pem", serverName: "kubernetes.cairn.invalid"))

        #expect(response.status == 200)
    }

    @Test func givenATLSServerNameTheCertificateLacks_whenConnecting_thenTheNameMismatchIsReported() async throws {
        let server = try TLSServer(requireClient: false)
        defer { server.stop() }

        let error = await #expect(throws: TransportError.self) {
            try await HTTPTransport().send(try request(server, ca: "ca.pem", serverName: "api.example"))
        }

        #expect(error?.kind == .tls)
        #expect(error?.message.contains("api.example") == true)
        #expect(error?.url == server.url + "/")
    }

    @Test func givenAWrongCA_whenConnecting_thenTheTLSErrorGivesLibcurlsReason() async throws {
        let server = try TLSServer(requireClient: false)
        defer { server.stop() }

        let error = await #expect(throws: TransportError.self) {
            try await HTTPTransport().send(try request(server, ca: "other-ca.pem"))
        }

        #expect(error?.kind == .tls)
        #expect(error?.curlCode == 60)
        #expect(error?.message.contains("SSL certificate problem") == true)
        #expect(error?.url == server.url + "/")
    }

    @Test func givenAWrongCAButInsecureSkipVerify_whenConnecting_thenTheRequestSucceeds() async throws {
        let server = try TLSServer(requireClient: false)
        defer { server.stop() }

        let response = try await HTTPTransport().send(try request(server, ca: "other-ca.pem", insecure: true))

        #expect(response.status == 200)
    }
}
