import BenchSupport
import CairnAPI
import Foundation
import Kube
import YAML

// What the benchmarks that drive a sandbox share: installing the CRDs, running work N at a time,
// listing in pages, polling with a deadline, and the figures' arithmetic.

/// The CustomResourceDefinitions resource.
public let customResourceDefinitions = Resource(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false)

/// Installs the repository's CRDs and waits until discovery serves them.
public func installCRDs(client: KubeClient, repository: URL) async throws {
    let directory = repository.appendingPathComponent("crds")
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("cairn.dev_") && $0.hasSuffix(".yaml") }.sorted()
    var plurals: Set<String> = []
    for file in files {
        let crd = try YAML.parse(try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8), file: file)
        plurals.insert(crd[path: "spec", "names", "plural"]?.string ?? "")
        _ = try await client.create(customResourceDefinitions, crd)
    }
    try await poll("discovery to serve \(plurals.sorted())", timeout: .seconds(30)) {
        let served = Set(try await client.serverResources(forGroupVersion: "\(CairnGroup.group)/\(CairnGroup.version)").map(\.name))
        return plurals.isSubset(of: served)
    }
}

/// Runs `body(index)` for every index below `count`, `concurrency` at a time.
public func forEach(_ count: Int, concurrency: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<concurrency {
            group.addTask {
                for index in stride(from: lane, to: count, by: concurrency) { try await body(index) }
            }
        }
        try await group.waitForAll()
    }
}

/// Every object of a resource, in pages of 500.
public func listAll(_ client: KubeClient, _ resource: Resource) async throws -> [Node] {
    var items: [Node] = []
    var token: String?
    repeat {
        let page = try await client.list(resource, options: ListOptions(limit: 500, continueToken: token))
        items += page.items
        token = page.continueToken
    } while token != nil
    return items
}

/// Polls `condition` every few milliseconds; throws naming `what` after `timeout`.
public func poll(_ what: String, timeout: Duration, every interval: Duration = .milliseconds(2),
          _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw BenchError("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

public func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

/// A field of /proc/PID/status in KiB (VmHWM, VmRSS); 0 if unreadable.
public func procStatusKiB(_ field: String, pid: String = "self") -> Int {
    do {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("\(field):") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    } catch {
        return 0  // not Linux, or the process is gone: the figure is then reported as 0
    }
}

public func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}

/// Watches `resource` in every namespace from `resourceVersion`, resuming where the server ends a
/// watch, and hands each added, modified or deleted object to `handle`, until the task is cancelled.
/// Throws when the server sends an error event or the watch fails.
public func watchAll(_ client: KubeClient, _ resource: Resource, from resourceVersion: String,
                     _ handle: (WatchEvent, Node) -> Void) async throws {
    var version = resourceVersion
    while !Task.isCancelled {
        for try await event in client.watch(resource, options: WatchOptions(resourceVersion: version)) {
            switch event {
            case .added(let object), .modified(let object), .deleted(let object):
                version = object[path: "metadata", "resourceVersion"]?.string ?? version
                handle(event, object)
            case .bookmark(let object):
                version = object[path: "metadata", "resourceVersion"]?.string ?? version
            case .error(let status):
                throw BenchError("the server ended the watch with \(status)")
            }
        }
    }
}
