import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import RemoteCommand

/// Opens the exec WebSocket: TCP, TLS with the kubeconfig's settings, and the HTTP/1.1 upgrade
/// offering the channel.k8s.io sub-protocols. A refused upgrade comes back with its status and body
/// so the caller can read the API server's `Status`.
struct ExecDialer {
    enum Outcome: Sendable {
        /// Upgraded; the sub-protocol the server chose, if it named one.
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, chosen: String?)
        /// Answered without upgrading.
        case refused(NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>)
    }

    let url: URL
    let tls: ExecTLS?
    let headers: [(String, String)]
    let protocols: [StreamProtocol]
    let connectTimeout: Duration

    func dial() async throws -> Outcome {
        guard let host = url.host, let scheme = url.scheme else { throw ExecError(.badURL, "\(url) has no scheme or host") }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let pathAndQuery = (components?.percentEncodedPath ?? "/") + (components?.percentEncodedQuery.map { "?\($0)" } ?? "")
        let context = try tls.map { try NIOSSLContext(configuration: $0.configuration) }
        let requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: pathAndQuery, headers: upgradeHeaders(host: host, port: port))
        let serverHostname = tls?.serverHostname
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000))
        let upgrade: EventLoopFuture<Outcome> = try await bootstrap.connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                if let context {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                }
                var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: Self.upgradeConfiguration(requestHead))
                // Frames the server sends right behind its 101 arrive in the same read; keep them.
                configuration.leftOverBytesStrategy = .forwardBytes
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
            }
        }
        return try await upgrade.get()
    }

    private func upgradeHeaders(host: String, port: Int) -> NIOHTTP1.HTTPHeaders {
        var fields = NIOHTTP1.HTTPHeaders()
        fields.add(name: "Host", value: url.port == nil ? host : "\(host):\(port)")
        fields.add(name: "Sec-WebSocket-Protocol", value: protocols.map(\.rawValue).joined(separator: ", "))
        for (name, value) in headers { fields.add(name: name, value: value) }
        return fields
    }

    private static func upgradeConfiguration(_ head: HTTPRequestHead) -> NIOTypedHTTPClientUpgradeConfiguration<Outcome> {
        let upgrader = NIOTypedWebSocketClientUpgrader<Outcome>(maxFrameSize: ChannelConnection.maxFrameSize) { channel, response in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ChannelConnection.aggregator())
                let frames = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                return .upgraded(frames, chosen: response.headers["Sec-WebSocket-Protocol"].first)
            }
        }
        return NIOTypedHTTPClientUpgradeConfiguration(upgradeRequestHead: head, upgraders: [upgrader]) { channel in
            channel.eventLoop.makeCompletedFuture {
                .refused(try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel))
            }
        }
    }

    /// The status and body of a refused upgrade.
    static func read(_ refusal: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>) async throws -> (status: Int, body: [UInt8]) {
        try await refusal.executeThenClose { inbound, _ in
            var status = 0
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(let bytes): body += bytes.readableBytesView.prefix(1 << 20 - body.count)
                case .end: return (status, body)
                }
            }
            return (status, body)
        }
    }
}
