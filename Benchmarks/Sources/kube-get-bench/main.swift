import Foundation
import Kube

// The Kube client's request latency and idle cost against a sandbox in another process.
//
//   kube-get-bench --kubeconfig FILE [--requests N] [--idle-watches W] [--idle-seconds S]
//
// Prints one `latency` line (N sequential `get`s of ConfigMap bench/probe over one keep-alive
// connection, after 50 warm-up gets) and, when W > 0, one `idle` line: the process's CPU time
// while W watches stay open and nothing changes for S seconds.

struct Options {
    var kubeconfig = ""
    var requests = 2000
    var idleWatches = 0
    var idleSeconds = 10

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func number(_ flag: String) throws -> Int {
            guard let value = rest.popFirst().flatMap(Int.init), value >= 0 else { throw BenchFailure("\(flag) needs a whole number") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--kubeconfig": kubeconfig = rest.popFirst() ?? ""
            case "--requests": requests = try number(flag)
            case "--idle-watches": idleWatches = try number(flag)
            case "--idle-seconds": idleSeconds = try number(flag)
            default: throw BenchFailure("unknown argument \(flag)")
            }
        }
        guard !kubeconfig.isEmpty else { throw BenchFailure("usage: kube-get-bench --kubeconfig FILE [--requests N] [--idle-watches W] [--idle-seconds S]") }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// User plus system CPU time of this process, in milliseconds.
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) * 1000 + Double(usage.ru_utime.tv_usec) / 1000
    let system = Double(usage.ru_stime.tv_sec) * 1000 + Double(usage.ru_stime.tv_usec) / 1000
    return user + system
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

let configMaps = Resource(group: "", version: "v1", plural: "configmaps", namespaced: true)

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    var clientOptions = KubeClientOptions()
    clientOptions.qps = 0  // measure the transport, not the rate limiter
    let client = KubeClient(connection: try KubeConfigLoader(explicitPath: options.kubeconfig).connection(), options: clientOptions)

    for _ in 0..<50 { _ = try await client.get(configMaps, namespace: "bench", name: "probe") }
    let clock = ContinuousClock()
    var micros: [Double] = []
    micros.reserveCapacity(options.requests)
    for _ in 0..<options.requests {
        let start = clock.now
        let object = try await client.get(configMaps, namespace: "bench", name: "probe")
        let elapsed = clock.now - start
        guard object["metadata"]?["name"]?.string == "probe" else { throw BenchFailure("get returned something else: \(object)") }
        micros.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
    }
    micros.sort()
    print("latency name=cairn requests=\(micros.count) p50_us=\(Int(percentile(micros, 0.5))) p99_us=\(Int(percentile(micros, 0.99)))")

    if options.idleWatches > 0 {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<options.idleWatches {
                group.addTask {
                    var watchOptions = WatchOptions()
                    watchOptions.timeoutSeconds = options.idleSeconds + 30
                    for try await _ in client.watch(configMaps, namespace: "bench", options: watchOptions) {}
                }
            }
            try await Task.sleep(for: .seconds(2))  // let every watch connect
            let before = processCPUMilliseconds()
            try await Task.sleep(for: .seconds(options.idleSeconds))
            let used = processCPUMilliseconds() - before
            print("idle watches=\(options.idleWatches) seconds=\(options.idleSeconds) cpu_ms=\(String(format: "%.1f", used)) cpu_percent=\(String(format: "%.3f", used / Double(options.idleSeconds * 10)))")
            group.cancelAll()
        }
    }
} catch is CancellationError {
} catch {
    FileHandle.standardError.write(Data("kube-get-bench: \(error)\n".utf8))
    exit(1)
}
