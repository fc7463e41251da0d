import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import RemoteCommand
import YAML

/// HTTP/1 with a WebSocket upgrade for `pods/exec`: plain requests go to the API responder; an
/// upgrade request is checked first (token, pod, container, phase, sub-protocol) and either becomes
/// an `ExecSession` or is refused with the API server's `Status` body.
///
/// The pipeline follows hummingbird-websocket's `HTTP1WebSocketUpgradeChannel`, which answers every
/// refused upgrade with an empty 400; kubectl and the Kube client need the `Status` (404 for a
/// missing pod, 400 for an unknown container, 401 for a bad token).
struct ExecUpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    enum Outcome: Sendable {
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, StatusError)
        /// An upgrade to something other than an accepted exec WebSocket (SPDY, say): NIO does not
        /// hand such a request on, so it is answered from its head.
        case otherUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPRequestHead)
        case exec(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, ExecPlan)
    }

    struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<Outcome>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let endpoint: ExecEndpoint

    /// The server builder for `Application(server:)`, to be wrapped in `.tls(...)`.
    static func builder(endpoint: ExecEndpoint) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in ExecUpgradeChannel(responder: responder, endpoint: endpoint) }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // The upgrade decision, made once per connection (NIO offers only its first request).
            let decision = NIOLockedValueBox<Result<ExecPlan, StatusError>?>(nil)
            let attempt = UpgradeAttempt()
            let upgrader = NIOTypedWebSocketServerUpgrader<Outcome>(
                maxFrameSize: ChannelConnection.maxFrameSize,
                shouldUpgrade: { channel, head in
                    let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                    promise.completeWithTask {
                        let decided = await endpoint.decide(uri: head.uri, authorization: head.headers["Authorization"].first,
                                                            protocols: head.headers["Sec-WebSocket-Protocol"])
                        decision.withLockedValue { $0 = decided }
                        guard case .success(let plan) = decided else { return nil }
                        return HTTPHeaders([("Sec-WebSocket-Protocol", plan.streamProtocol.rawValue)])
                    }
                    return promise.futureResult
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .success(let plan)? = decision.withLockedValue({ $0 }) else {
                            throw SandboxServerError(description: "the WebSocket upgrade ran without an accepted exec request")
                        }
                        try channel.pipeline.syncOperations.addHandler(ChannelConnection.aggregator())
                        let frames = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return Outcome.exec(frames, plan)
                    }
                })
            let upgrade = NIOTypedHTTPServerUpgradeConfiguration<Outcome>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if case .failure(let refusal)? = decision.withLockedValue({ $0 }) { return Outcome.refused(http, refusal) }
                        if let head = attempt.head.withLockedValue({ $0 }) { return Outcome.otherUpgrade(http, head) }
                        return Outcome.http(http)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrade)
            configuration.enablePipelining = false  // NIOAsyncChannel serves one request at a time
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // HTTPTypes validates them
            let outcome = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<Outcome>.self)
            try channel.pipeline.syncOperations.addHandler(attempt, position: .before(upgradeHandler))
            return Value(outcome: outcome, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.outcome.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let refusal):
                try await Self.write(refusal, to: http)
            case .otherUpgrade(let http, let head):
                try await Self.write(await endpoint.refusal(uri: head.uri, authorization: head.headers["Authorization"].first), to: http)
            case .exec(let frames, let plan):
                await ExecSession(plan: plan, store: endpoint.store, logger: logger).run(frames)
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    /// The refusal's `Status` with its code; the connection closes after it.
    private static func write(_ refusal: StatusError, to http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>) async throws {
        let body = ByteBuffer(string: try JSON.emit(refusal.node))
        try await http.executeThenClose { _, outbound in
            let head = HTTPResponse(status: .init(code: refusal.code), headerFields: [
                .contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close",
            ])
            try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
        }
    }
}

/// Notes the head of a connection's first request when it asks for an upgrade, then leaves the
/// pipeline. NIO's upgrade handler swallows such a head when no upgrader takes it.
private final class UpgradeAttempt: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    let head = NIOLockedValueBox<HTTPRequestHead?>(nil)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = Self.unwrapInboundIn(data) {
            if !request.headers["Upgrade"].isEmpty { head.withLockedValue { $0 = request } }
            context.fireChannelRead(data)
            // What follows an upgrade is no longer HTTP.
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
