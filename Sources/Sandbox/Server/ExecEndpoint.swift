import Foundation
import RemoteCommand
import YAML

/// What an accepted `pods/exec` request runs, and how.
struct ExecPlan: Sendable {
    var namespace: String
    var pod: String
    /// The container's spec.
    var container: Node
    var command: [String]
    var stdin: Bool
    var stdout: Bool
    var stderr: Bool
    /// The negotiated sub-protocol.
    var streamProtocol: StreamProtocol
}

/// The checks kube-apiserver makes before it hands `pods/exec` to the kubelet, with its wording:
/// the pod exists, the container is one of its own, the pod has not finished, a command is given.
struct ExecEndpoint: Sendable {
    static let pods = ResourceID(version: "v1", plural: "pods")

    let store: ObjectStore
    /// The bearer token, read per request so it can be rotated.
    let token: @Sendable () -> String

    /// Whether `path` names the exec subresource of a pod (`/api/v1/namespaces/x/pods/y/exec`).
    static func isExec(_ route: APIRoute?) -> ResourcePath? {
        guard case .resource(let path)? = route, path.resource == pods, path.name != nil, path.subresource == "exec" else { return nil }
        return path
    }

    /// The decision on a WebSocket upgrade request: the plan to run, or the `Status` to refuse with.
    func decide(uri: String, authorization: String?, protocols: [String]) async -> Result<ExecPlan, StatusError> {
        do throws(StatusError) {
            try SandboxResponder.authorize(header: authorization, token: token())
            let (rawPath, rawQuery) = Self.split(uri)
            guard let path = Self.isExec(APIRoute.parse(rawPath)) else {
                throw .badRequest("the Cairn sandbox upgrades to WebSocket only for pods/exec; \(rawPath) is served over plain HTTP")
            }
            let offered = StreamProtocol.offered(in: protocols)
            guard let chosen = StreamProtocol.negotiate(offered: offered) else {
                throw .badRequest("requested protocol(s) are not supported: [\(offered.joined(separator: " "))]; supports [\(StreamProtocol.allCases.map(\.rawValue).joined(separator: " "))]")
            }
            return .success(try await plan(path, Query(rawQuery), streamProtocol: chosen))
        } catch {
            return .failure(error)
        }
    }

    /// The refusal of an upgrade to anything but the exec WebSocket (kubectl falls back to SPDY when
    /// the WebSocket is refused): the API server's checks first, then 400.
    func refusal(uri: String, authorization: String?) async -> StatusError {
        do throws(StatusError) {
            try SandboxResponder.authorize(header: authorization, token: token())
            let (rawPath, rawQuery) = Self.split(uri)
            guard let path = Self.isExec(APIRoute.parse(rawPath)) else {
                throw .badRequest("the Cairn sandbox upgrades connections only for pods/exec, and only to WebSocket")
            }
            try await refusePlainRequest(path, query: rawQuery)
        } catch {
            return error
        }
    }

    /// The answer to an exec request that did not ask for a WebSocket (plain HTTP, or SPDY, which
    /// the sandbox does not speak): the same checks, then 400.
    func refusePlainRequest(_ path: ResourcePath, query: String?) async throws(StatusError) -> Never {
        _ = try await plan(path, Query(query), streamProtocol: .v5)
        throw .badRequest("unable to upgrade connection: the Cairn sandbox serves pods/exec over WebSocket only (Upgrade: websocket, Sec-WebSocket-Protocol: v5.channel.k8s.io or v4.channel.k8s.io)")
    }

    private func plan(_ path: ResourcePath, _ query: Query, streamProtocol: StreamProtocol) async throws(StatusError) -> ExecPlan {
        let name = path.name ?? ""
        let namespace = path.namespace ?? ""
        let pod = try await store.get(Self.pods, namespace: namespace, name: name)
        let container = try Self.container(named: query["container"] ?? "", in: pod, podName: name)
        if let phase = pod[path: "status", "phase"]?.string, ["Succeeded", "Failed"].contains(phase) {
            throw .badRequest("cannot exec into a container in a completed pod; current phase is \(phase)")
        }
        let command = query.all("command")
        guard !command.isEmpty else { throw .badRequest("you must specify at least one command for the container") }
        let plan = ExecPlan(namespace: namespace, pod: name, container: container, command: command, stdin: query.flag("stdin"),
                            stdout: query.flag("stdout"), stderr: query.flag("stderr"), streamProtocol: streamProtocol)
        guard plan.stdin || plan.stdout || plan.stderr else { throw .badRequest("you must specify at least 1 of stdin, stdout, stderr") }
        if query.flag("tty") {
            throw .badRequest("the Cairn sandbox runs commands without a terminal; exec without tty (kubectl exec without -t)")
        }
        return plan
    }

    /// The named container, or the only one when no name is given (kube-apiserver's `streamLocation`).
    private static func container(named wanted: String, in pod: Node, podName: String) throws(StatusError) -> Node {
        let containers = pod[path: "spec", "containers"]?.sequence ?? []
        let names = containers.map { $0["name"]?.string ?? "" }
        guard !wanted.isEmpty else {
            switch containers.count {
            case 1: return containers[0]
            case 0: throw .badRequest("a container name must be specified for pod \(podName)")
            default:
                var message = "a container name must be specified for pod \(podName), choose one of: [\(names.joined(separator: " "))]"
                let initNames = (pod[path: "spec", "initContainers"]?.sequence ?? []).map { $0["name"]?.string ?? "" }
                if !initNames.isEmpty { message += " or one of the init containers: [\(initNames.joined(separator: " "))]" }
                throw .badRequest(message)
            }
        }
        guard let index = names.firstIndex(of: wanted) else { throw .badRequest("container \(wanted) is not valid for pod \(podName)") }
        return containers[index]
    }

    private static func split(_ uri: String) -> (path: String, query: String?) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, nil) }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }
}
