import Synchronization
import YAML
@testable import Kube

/// A clock that never sleeps: it records each requested sleep and jumps ahead by it.
final class ManualClock: KubeClock {
    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))

    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func now() -> Duration { state.withLock { $0.now } }

    func advance(by duration: Duration) { state.withLock { $0.now += duration } }

    func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.sleeps.append(duration)
            $0.now += duration
        }
    }
}

let pods = Resource(group: "", version: "v1", plural: "pods", namespaced: true)
let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)

/// A client for `server` with a static bearer token and the manual clock.
func makeClient(_ server: ScriptedServer, clock: ManualClock = ManualClock(), retry: RetryPolicy = RetryPolicy()) -> KubeClient {
    var connection = ClusterConnection(server: server.url + "/")
    connection.credentials = .token("secret-token")
    var options = KubeClientOptions()
    options.retry = retry
    options.requestTimeout = .seconds(5)
    return KubeClient(connection: connection, options: options, clock: clock)
}

func parse(_ text: String) throws -> Node { try JSON.parse(text) }

func status(_ code: Int, _ reason: String, _ message: String, causes: String = "") -> Reply {
    .json(code, #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"\#(message)","reason":"\#(reason)","details":{"name":"web","kind":"pods"\#(causes)},"code":\#(code)}"#)
}
