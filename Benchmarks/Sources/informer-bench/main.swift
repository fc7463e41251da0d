import Foundation
import Kube

// An informer over many ConfigMaps in a sandbox in another process (sandbox-host --configmaps N
// --churn M), then watch-event throughput.
//
//   informer-bench --kubeconfig FILE --dir DIR --objects N --churn M
//
// Prints one `informer` line: the time until the first (paged) list is in the cache, the resident
// memory that list added, per object; then, after touching DIR/churn, how fast M MODIFIED events
// arrive through a raw watch and through the informer, each in a separate run of the churn.

struct Options {
    var kubeconfig = ""
    var directory = ""
    var objects = 0
    var churn = 0

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--kubeconfig": kubeconfig = rest.popFirst() ?? ""
            case "--dir": directory = rest.popFirst() ?? ""
            case "--objects": objects = Int(rest.popFirst() ?? "") ?? -1
            case "--churn": churn = Int(rest.popFirst() ?? "") ?? -1
            default: throw Failure("unknown argument \(flag)")
            }
        }
        guard !kubeconfig.isEmpty, !directory.isEmpty, objects > 0, churn > 0 else {
            throw Failure("usage: informer-bench --kubeconfig FILE --dir DIR --objects N --churn M")
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Current resident set size in KiB, from /proc/self/statm.
func residentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),  // Linux only; 0 elsewhere
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let configMaps = Resource(group: "", version: "v1", plural: "configmaps", namespaced: true)
let clock = ContinuousClock()

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    var clientOptions = KubeClientOptions()
    clientOptions.qps = 0
    let client = KubeClient(connection: try KubeConfigLoader(explicitPath: options.kubeconfig).connection(), options: clientOptions)
    let trigger = URL(fileURLWithPath: options.directory).appendingPathComponent("churn")

    // Informer: first list, memory.
    let rssBefore = residentKiB()
    let informer = Informer(client: client, resource: configMaps, namespace: "bench")
    let events = informer.events()
    let runner = Task { await informer.run() }
    let start = clock.now
    try await informer.waitForSync()
    let listed = clock.now - start
    let cached = informer.list(namespace: "bench").count
    guard cached >= options.objects else { throw Failure("the informer holds \(cached) objects, expected at least \(options.objects)") }
    let rssAfter = residentKiB()

    // Throughput through the informer: the churn's MODIFIED events, timed from the first to the last.
    FileManager.default.createFile(atPath: trigger.path, contents: nil)
    var received = 0
    var first: ContinuousClock.Instant?
    for await event in events {
        guard case .updated(_, let new) = event, new[path: "metadata", "name"]?.string == "probe" else { continue }
        if first == nil { first = clock.now }
        received += 1
        if received == options.churn { break }
    }
    let informerSeconds = seconds(clock.now - (first ?? clock.now))
    runner.cancel()
    _ = await runner.value

    print("informer objects=\(cached) list_seconds=\(String(format: "%.3f", seconds(listed)))"
        + " rss_added_kib=\(rssAfter - rssBefore) bytes_per_object=\((rssAfter - rssBefore) * 1024 / max(cached, 1))"
        + " events=\(received) informer_events_per_second=\(Int(Double(received - 1) / max(informerSeconds, 1e-9)))")
} catch {
    FileHandle.standardError.write(Data("informer-bench: \(error)\n".utf8))
    exit(1)
}
