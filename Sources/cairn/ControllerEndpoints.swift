import ArgumentParser
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// `host:port` as controller-runtime's bind-address flags take it; `:8080` listens on every
/// interface, and `0` turns the endpoint off.
struct BindAddress: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Parses a flag's value; nil for `0` (off), a usage error naming `flag` when it is malformed.
    static func parse(_ text: String, flag: String) throws -> BindAddress? {
        if text == "0" { return nil }
        let fix = "write HOST:PORT such as 127.0.0.1:8080 or :8080, or 0 to turn it off"
        guard let colon = text.lastIndex(of: ":") else { throw ValidationError("\(flag) \(text): no port; \(fix).") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(flag) \(text): the port is not a number from 0 to 65535; \(fix).")
        }
        return BindAddress(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// What `/readyz` answers: 200 once this replica's informers hold their first list; on a replica
/// standing by under leader election, 200 once it has read the Lease, so a rolling update's new
/// pod can become ready while the old one still leads.
final class Readiness: Sendable {
    /// Where the controller is.
    enum Phase: Sendable {
        case starting
        case campaigning(lease: String, observedHolder: @Sendable () -> String?)
        case syncing
        case running
        case stopping
    }

    private let phase = Mutex<Phase>(.starting)

    /// Moves to `phase`.
    func set(_ phase: Phase) { self.phase.withLock { $0 = phase } }

    /// Nil when ready, else why not.
    var notReadyReason: String? {
        switch phase.withLock({ $0 }) {
        case .starting: "starting"
        case .campaigning(let lease, let observedHolder):
            observedHolder() == nil ? "leader election: the Lease \(lease) has not been read yet" : nil
        case .syncing: "the informers have not synced yet"
        case .running: nil
        case .stopping: "shutting down"
        }
    }

    /// The 200 answer's body.
    var readyText: String {
        guard case .campaigning(let lease, let observedHolder) = phase.withLock({ $0 }) else { return "ok" }
        let holder = observedHolder() ?? ""
        return "ok: standing by; the Lease \(lease) is \(holder.isEmpty ? "free" : "held by \(holder)")"
    }
}

/// One HTTP listener of the controller (probes or metrics), named by the flag that set it up, so a
/// port in use is reported against that flag.
struct HTTPEndpoint: Service {
    let flag: String
    let address: BindAddress
    /// Builds the routes inside `run()`: a `Router` is not `Sendable`.
    let routes: @Sendable () -> Router<BasicRequestContext>
    let logger: Logger

    func run() async throws {
        let logger = logger
        let (flag, address) = (flag, address)
        var quiet = logger
        quiet.logLevel = .warning  // Hummingbird's own "server started" line; ours names the flag and port
        let application = Application(
            router: routes(), configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.info("listening", metadata: ["flag": "\(flag)", "address": "\(BindAddress(host: address.host, port: port))"])
            },
            logger: quiet)
        do {
            try await application.run()
        } catch {
            throw ControllerCommandError("\(flag) \(address): cannot listen: \(error)")
        }
    }

    /// `/healthz` (200 while the process serves) and `/readyz` (200 once ready, else 503 and why).
    static func probes(flag: String, address: BindAddress, readiness: Readiness, logger: Logger) -> HTTPEndpoint {
        HTTPEndpoint(flag: flag, address: address, routes: {
            let router = Router()
            router.get("/healthz") { _, _ in "ok\n" }
            router.get("/readyz") { _, _ -> Response in
                guard let reason = readiness.notReadyReason else { return text(.ok, readiness.readyText + "\n") }
                return text(.serviceUnavailable, "not ready: \(reason)\n")
            }
            return router
        }, logger: logger)
    }

    /// `/metrics` in the Prometheus text format, from `registry`.
    static func metrics(flag: String, address: BindAddress, registry: PrometheusCollectorRegistry, logger: Logger) -> HTTPEndpoint {
        HTTPEndpoint(flag: flag, address: address, routes: {
            let router = Router()
            router.get("/metrics") { _, _ -> Response in
                var buffer: [UInt8] = []
                registry.emit(into: &buffer)
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
            }
            return router
        }, logger: logger)
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
