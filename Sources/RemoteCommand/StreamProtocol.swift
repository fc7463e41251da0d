import Foundation

/// The WebSocket sub-protocols of `pods/exec` that Cairn speaks, most preferred first. Both carry
/// binary messages whose first byte names the stream (`StreamChannel`); v5 adds the close message
/// that ends stdin without ending the connection.
public enum StreamProtocol: String, Sendable, CaseIterable {
    /// `v5.channel.k8s.io`: v4 plus the stream-close message on channel 255.
    case v5 = "v5.channel.k8s.io"
    /// `v4.channel.k8s.io`: stdin, stdout, stderr, a JSON `Status` on the error channel, resize.
    case v4 = "v4.channel.k8s.io"

    /// The protocols a `Sec-WebSocket-Protocol` request header offers, in the client's order
    /// (`v5.channel.k8s.io, v4.channel.k8s.io` or one header per protocol).
    public static func offered(in headerValues: [String]) -> [String] {
        headerValues.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The server's choice among `offered`: its own preference (v5, then v4), as kube-apiserver
    /// picks; `nil` when the client offers none of them.
    public static func negotiate(offered: [String]) -> StreamProtocol? {
        allCases.first { offered.contains($0.rawValue) }
    }

    /// Whether the protocol has the stream-close message.
    public var canCloseStreams: Bool { self == .v5 }
}

/// The stream a message belongs to: its first byte.
public enum StreamChannel: UInt8, Sendable {
    /// The command's standard input, client to server.
    case stdin = 0
    /// The command's standard output.
    case stdout = 1
    /// The command's standard error.
    case stderr = 2
    /// The final `Status` (success, or failure with the exit code), server to client.
    case error = 3
    /// Terminal size changes, client to server (TTY sessions only).
    case resize = 4
    /// v5 only: the next byte names a stream the sender will write no more to.
    case close = 255
}
