import NIOCore
import NIOWebSocket
import Synchronization

/// One side of a WebSocket that carries channel.k8s.io messages: sends a stream's bytes as binary
/// messages prefixed with the channel byte, and reads the peer's messages while answering pings and
/// the close handshake. The client masks what it sends, as RFC 6455 requires.
public struct ChannelConnection: Sendable {
    /// Which end of the connection this is.
    public enum Role: Sendable { case client, server }

    /// A message from the peer.
    public struct Message: Sendable {
        /// The channel byte.
        public var channel: UInt8
        /// The bytes after it.
        public var payload: ByteBuffer
    }

    /// The largest message either side sends; bigger writes are split.
    public static let maxMessageSize = 32 * 1024
    /// The largest frame accepted from the peer (client-go sends up to 32 KiB).
    public static let maxFrameSize = 1 << 20
    /// The largest message reassembled from fragments.
    public static let maxAssembledMessageSize = 16 << 20

    let role: Role
    let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let closing = Closing()

    /// Whether this side has sent its close frame.
    private final class Closing: Sendable {
        let sent = Mutex(false)
    }

    /// Wraps the writer of an upgraded channel.
    public init(role: Role, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>) {
        self.role = role
        self.outbound = outbound
    }

    /// Sends `bytes` on `channel`, in messages of at most `maxMessageSize`.
    public func send(_ channel: StreamChannel, _ bytes: some Collection<UInt8>) async throws {
        var remaining = bytes[...]
        repeat {
            let chunk = remaining.prefix(Self.maxMessageSize - 1)
            remaining = remaining.dropFirst(chunk.count)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(chunk.count + 1)
            buffer.writeInteger(channel.rawValue)
            buffer.writeBytes(chunk)
            try await outbound.write(frame(.binary, buffer))
        } while !remaining.isEmpty
    }

    /// Sends the v5 close message for `channel`: the sender writes no more to it.
    public func sendClose(of channel: StreamChannel) async throws {
        try await outbound.write(frame(.binary, ByteBuffer(bytes: [StreamChannel.close.rawValue, channel.rawValue])))
    }

    /// Starts the close handshake with a normal closure.
    public func close() async throws {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: .normalClosure)
        closing.sent.withLock { $0 = true }
        try await outbound.write(frame(.connectionClose, data))
    }

    /// Reads the peer's messages into `handle` until the peer closes the connection; answers pings,
    /// and answers the peer's close with a close of its own unless `close()` was sent already.
    public func receive(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, _ handle: (Message) async throws -> Void
    ) async throws {
        for try await frame in inbound {
            switch frame.opcode {
            case .binary, .text:
                var data = frame.unmaskedData
                guard let channel = data.readInteger(as: UInt8.self) else { continue }  // an empty message carries nothing
                try await handle(Message(channel: channel, payload: data))
            case .ping:
                try await outbound.write(self.frame(.pong, frame.unmaskedData))
            case .connectionClose:
                let alreadySent = closing.sent.withLock { sent in
                    defer { sent = true }
                    return sent
                }
                if !alreadySent {
                    var code = frame.unmaskedData
                    try await outbound.write(self.frame(.connectionClose, code.readSlice(length: min(2, code.readableBytes)) ?? ByteBuffer()))
                }
                return
            default:
                continue  // pong, or a continuation the aggregator already joined
            }
        }
    }

    private func frame(_ opcode: WebSocketOpcode, _ data: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: opcode, maskKey: role == .client ? .random() : nil, data: data)
    }

    /// The handler that joins fragmented messages, for the pipeline of an upgraded channel.
    public static func aggregator() -> NIOWebSocketFrameAggregator {
        NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 1, maxAccumulatedFrameCount: 4096, maxAccumulatedFrameSize: maxAssembledMessageSize)
    }
}
