import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import ServiceLifecycle
import Synchronization

/// The sandbox served over HTTPS on loopback (with a fresh self-signed certificate), so that kubectl
/// and the Kube client talk to the in-memory `ObjectStore` as to a kube-apiserver; `pods/exec`
/// upgrades to a WebSocket and runs the command as a local process. Run it as a `Service` in the process's service
/// group, or for a bounded time with `withRunning(_:)`.
public final class SandboxServer: Service, Sendable {
    /// The store being served.
    public let store: ObjectStore
    /// Faults to inject, for tests of clients.
    public let faults = SandboxFaults()
    private let currentToken: Mutex<String>
    private let requestedPort: Int
    private let bookmarkInterval: Duration
    private let logger: Logger
    let identity: ServingIdentity
    private let boundPort = Mutex<Int?>(nil)

    /// Creates a server for `store` on 127.0.0.1; port 0 picks a free port.
    public init(
        store: ObjectStore, token: String = UUID().uuidString.lowercased(), port: Int = 0,
        bookmarkInterval: Duration = .seconds(60), logger: Logger = Logger(label: "cairn.sandbox.http")
    ) throws(SandboxServerError) {
        identity = try ServingIdentity(now: Date())
        self.store = store
        currentToken = Mutex(token)
        self.requestedPort = port
        self.bookmarkInterval = bookmarkInterval
        self.logger = logger
    }

    /// A server like `previous` (its store, certificate, token and bookmark interval) on `port`:
    /// what a restarted kube-apiserver is to its clients.
    public init(restarting previous: SandboxServer, port: Int) {
        identity = previous.identity
        store = previous.store
        currentToken = Mutex(previous.token)
        requestedPort = port
        bookmarkInterval = previous.bookmarkInterval
        logger = previous.logger
    }

    /// The bearer token every request must present.
    public var token: String { currentToken.withLock { $0 } }

    /// Makes the server accept only `token` from now on, as when a service account token is rotated.
    public func rotateToken(to token: String) {
        currentToken.withLock { $0 = token }
    }

    /// The port it listens on, once it does.
    public var port: Int? { boundPort.withLock { $0 } }

    /// `https://127.0.0.1:<port>`, once listening.
    public var url: URL? { port.flatMap { URL(string: "https://127.0.0.1:\($0)") } }

    /// The PEM certificate the server presents; clients trust it as their CA.
    public var certificatePEM: String { identity.certificatePEM }

    /// Serves until graceful shutdown (or cancellation).
    public func run() async throws {
        try await run(onListening: { _ in })
    }

    /// Serves until graceful shutdown, calling `onListening` with the bound port.
    public func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let watches = WatchRegistry()
        faults.attach(watches)
        let application = Application(
            responder: SandboxResponder(store: store, token: { [self] in self.token }, faults: faults, watches: watches),
            server: try .tls(ExecUpgradeChannel.builder(endpoint: ExecEndpoint(store: store, token: { [self] in self.token })),
                             tlsConfiguration: identity.tlsConfiguration()),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: requestedPort), serverName: nil),
            services: [BookmarkTicker(store: store, interval: bookmarkInterval)],
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? 0
                self.boundPort.withLock { $0 = port }
                await onListening(port)
            },
            logger: logger)
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            watches.stopAll()
        }
        boundPort.withLock { $0 = nil }
    }

    /// Runs the server in its own service group for the duration of `body`, then shuts it down
    /// gracefully and waits until it has stopped.
    public func withRunning<T: Sendable>(_ body: @Sendable (URL) async throws -> T) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: .init(services: [ListeningService(server: self, onListening: { portContinuation.yield($0) })],
                                                     logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                defer { portContinuation.finish() }
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), let url = URL(string: "https://127.0.0.1:\(port)") else {
                try await tasks.waitForAll()  // rethrows the bind error, if there was one
                throw SandboxServerError.stoppedBeforeListening
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(url))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}

/// The server stopped before it listened, without saying why.
public struct SandboxServerError: Error, Sendable, CustomStringConvertible {
    /// Why.
    public let description: String

    static let stoppedBeforeListening = SandboxServerError(description: "the sandbox server stopped before it listened; see the log for the bind error")
}

/// The server as a service that reports its port.
private struct ListeningService: Service {
    let server: SandboxServer
    let onListening: @Sendable (Int) async -> Void

    func run() async throws { try await server.run(onListening: onListening) }
}

/// Sends BOOKMARK events to the watchers that accept them, every `interval`.
private struct BookmarkTicker: Service {
    let store: ObjectStore
    let interval: Duration

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // shutdown or cancellation: nothing left to tick for
            }
            await store.sendBookmarks()
        }
    }
}
