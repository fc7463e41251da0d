import Foundation
import Logging
import Sandbox
import ServiceLifecycle
import YAML

// A sandbox API server in its own process, so that a benchmark's client and the server it talks to
// never share a process's CPU accounting.
//
//   sandbox-host --dir DIR [--configmaps N] [--churn M] [--history N]
//
// Creates namespace `bench` holding ConfigMap `probe` and N more ConfigMaps, serves it over HTTPS
// on 127.0.0.1, writes DIR/kubeconfig, DIR/ca.pem, DIR/token and DIR/url, prints `ready`, and runs
// until SIGTERM or SIGINT. With --churn, each time the file DIR/churn appears it removes it, updates
// ConfigMap `probe` M times straight in the store (no HTTP), so watchers get M events as fast as
// the server can send them, and prints `churned <total>`. --history sets the store's event history
// and each watcher's buffer to at least N events (default 1000, as in tests), so a benchmark that
// writes tens of thousands of objects while informers watch measures the writes, not 410 relists.

struct Arguments {
    var directory = ""
    var configMaps = 0
    var churn = 0
    var history = 1000

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--dir": directory = rest.popFirst() ?? ""
            case "--configmaps": configMaps = Int(rest.popFirst() ?? "") ?? -1
            case "--churn": churn = Int(rest.popFirst() ?? "") ?? -1
            case "--history": history = Int(rest.popFirst() ?? "") ?? -1
            default: throw HostError("unknown argument \(flag); usage: sandbox-host --dir DIR [--configmaps N] [--churn M] [--history N]")
            }
        }
        guard !directory.isEmpty, configMaps >= 0, churn >= 0, history > 0 else {
            throw HostError("usage: sandbox-host --dir DIR [--configmaps N] [--churn M] [--history N]")
        }
    }
}

struct HostError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The server, writing the files a client needs once it listens.
struct Host: Service {
    let server: SandboxServer
    let directory: URL

    func run() async throws {
        try await server.run(onListening: { _ in
            do {
                try server.writeKubeconfig(to: directory.appendingPathComponent("kubeconfig"))
                try Data(server.certificatePEM.utf8).write(to: directory.appendingPathComponent("ca.pem"))
                try Data(server.token.utf8).write(to: directory.appendingPathComponent("token"))
                try Data((server.url?.absoluteString ?? "").utf8).write(to: directory.appendingPathComponent("url"))
                FileHandle.standardOutput.write(Data("ready\n".utf8))  // unbuffered: the driver waits for it
            } catch {
                FileHandle.standardError.write(Data("sandbox-host: \(error)\n".utf8))
                exit(1)
            }
        })
    }
}

/// Waits for DIR/churn, then updates ConfigMap `probe` `count` times directly in the store.
struct Churn: Service {
    let store: ObjectStore
    let directory: URL
    let count: Int

    func run() async throws {
        guard count > 0 else { return try await gracefulShutdown() }
        let trigger = directory.appendingPathComponent("churn").path
        let configMaps = ResourceID(version: "v1", plural: "configmaps")
        var done = 0
        while true {
            while !FileManager.default.fileExists(atPath: trigger) {
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(20)) }
                } catch {
                    return  // shutting down
                }
            }
            try FileManager.default.removeItem(atPath: trigger)
            for index in done + 1...done + count {
                _ = try await store.patch(.mapping(["data": .mapping(["index": .string(String(index))])]), type: .merge,
                                          in: configMaps, namespace: "bench", name: "probe")
            }
            done += count
            FileHandle.standardOutput.write(Data("churned \(done)\n".utf8))
        }
    }
}

func configMap(_ name: String, index: Int) -> Node {
    .mapping([
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": .mapping(["name": .string(name), "namespace": "bench", "labels": .mapping(["app": "bench", "shard": .string("s\(index % 10)")])]),
        "data": .mapping(["index": .string(String(index)), "payload": .string(String(repeating: "x", count: 200))]),
    ])
}


do {
    let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
    // Room for every churn event in the history and in a slow watcher's buffer, so the benchmark
    // measures the client rather than a 410.
    let events = max(arguments.history, 2 * arguments.churn + 10)
    let store = ObjectStore(configuration: .init(historyLimit: events, watcherBufferLimit: events))
    _ = try await store.create(.mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": "bench"])]), in: .namespaces)
    let configMaps = ResourceID(version: "v1", plural: "configmaps")
    _ = try await store.create(configMap("probe", index: 0), in: configMaps, namespace: "bench")
    for index in 0..<arguments.configMaps {
        _ = try await store.create(configMap("cm-\(index)", index: index), in: configMaps, namespace: "bench")
    }
    var logger = Logger(label: "sandbox-host")
    logger.logLevel = .warning
    let server = try SandboxServer(store: store, logger: logger)
    let group = ServiceGroup(configuration: .init(
        services: [Host(server: server, directory: URL(fileURLWithPath: arguments.directory)),
                   Churn(store: store, directory: URL(fileURLWithPath: arguments.directory), count: arguments.churn)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
} catch {
    FileHandle.standardError.write(Data("sandbox-host: \(error)\n".utf8))
    exit(1)
}
