import BenchSupport
import CairnAPI
import ClusterBench
import Executor
import Foundation
import Kube
import Logging
import Synchronization
import YAML

// The Scheduler on the real clock against a sandbox in another process (sandbox-host --history N):
//
//   scheduler-bench --kubeconfig FILE --repository DIR [--configurations 1000] [--namespaces 20]
//                   [--runs 10] [--workers 2] [--ceiling 1000]
//
// Creates the CRDs, the namespaces and `--configurations` BackupConfigurations whose one session
// runs every minute with concurrencyPolicy Allow (no runner runs here, so every session stays
// active; Allow keeps each run a plain create), then starts the Scheduler in this process and
// watches BackupSessions. From the first minute after the Scheduler's first pass, `--runs` minutes
// are measured: configurations × runs sessions, each one's lateness being the time the watch
// delivers it minus its `spec.scheduledTime`. Runs caught up from before the first pass are left
// out. Then the sandbox's own create rate for BackupSessions through the same client is measured
// at `--workers` concurrent creates: the ceiling a burst of one minute's sessions is bound by.
// Prints one `scheduler key=value ...` line.

struct Options {
    var kubeconfig = ""
    var repository = ""
    var configurations = 1000
    var namespaces = 20
    var runs = 10
    var workers = 2
    var ceiling = 1000

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func int(_ flag: String) throws -> Int {
            guard let value = rest.popFirst().flatMap({ Int($0) }), value > 0 else { throw BenchError("\(flag) needs a positive whole number") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--kubeconfig": kubeconfig = rest.popFirst() ?? ""
            case "--repository": repository = rest.popFirst() ?? ""
            case "--configurations": configurations = try int(flag)
            case "--namespaces": namespaces = try int(flag)
            case "--runs": runs = try int(flag)
            case "--workers": workers = try int(flag)
            case "--ceiling": ceiling = try int(flag)
            default: throw BenchError("unknown argument \(flag)")
            }
        }
        guard !kubeconfig.isEmpty, !repository.isEmpty else {
            throw BenchError("usage: scheduler-bench --kubeconfig FILE --repository DIR [--configurations N] [--namespaces N] [--runs N] [--workers N] [--ceiling N]")
        }
    }
}

/// Every BackupSession the watch delivered: its scheduled time and when it arrived.
final class SessionLog: Sendable {
    struct Entry: Sendable {
        var scheduled: Date
        var arrived: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let failure = Mutex<String?>(nil)

    var all: [Entry] { entries.withLock { Array($0.values) } }

    /// Watches from `resourceVersion` until cancelled, resuming where the server ended a watch.
    func run(_ client: KubeClient, from resourceVersion: String) async {
        do {
            try await watchAll(client, ExecutorResource.sessions, from: resourceVersion) { event, object in
                let arrived = Date()
                guard case .added = event, let scheduled = object[path: "spec", "scheduledTime"]?.string.flatMap(KubeTime.date) else { return }
                let key = "\(object[path: "metadata", "namespace"]?.string ?? "")/\(object[path: "metadata", "name"]?.string ?? "")"
                entries.withLock { $0[key] = $0[key] ?? Entry(scheduled: scheduled, arrived: arrived) }
            }
        } catch {
            guard !Task.isCancelled else { return }
            failure.withLock { $0 = "\(error)" }
        }
    }

    /// Throws if the watch failed: sessions it missed would make the figures wrong.
    func check() throws {
        if let failure = failure.withLock({ $0 }) { throw BenchError("the BackupSession watch failed: \(failure)") }
    }
}

func configuration(_ index: Int, namespaces: Int) -> BackupConfiguration {
    var spec = BackupConfigurationSpec(
        target: TargetRef(apiVersion: "apps/v1", kind: "Deployment", name: "app-\(index)"), storage: NamespacedRef(name: "default"),
        sessions: [SessionSpec(name: "minutely", schedule: "* * * * *")])
    spec.concurrencyPolicy = .allow
    return BackupConfiguration(metadata: ObjectMeta(name: "config-\(index)", namespace: "team-\(index % namespaces)"), spec: spec)
}

/// The next whole minute after `date`.
func nextMinute(after date: Date) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    // No client-side rate limit (`cairn controller`'s --kube-api-qps 0): the figure is the Scheduler's and the sandbox's.
    var clientOptions = KubeClientOptions()
    clientOptions.qps = 0
    let client = KubeClient(connection: try KubeConfigLoader(explicitPath: options.kubeconfig).connection(), options: clientOptions)
    let clock = ContinuousClock()
    var out = ["configurations=\(options.configurations) runs=\(options.runs) workers=\(options.workers)"]

    // Setup, not timed against any goal.
    try await installCRDs(client: client, repository: URL(fileURLWithPath: options.repository))
    try await forEach(options.namespaces, concurrency: 8) { index in
        _ = try await client.create(ExecutorResource.namespaces, .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": .string("team-\(index)")])]))
    }
    try await forEach(options.configurations, concurrency: 8) { index in
        let object = configuration(index, namespaces: options.namespaces)
        _ = try await client.create(ExecutorResource.configurations, namespace: object.metadata.namespace, object)
    }

    let log = SessionLog()
    let version = try await client.list(ExecutorResource.sessions, options: ListOptions(limit: 1)).resourceVersion ?? "0"
    let watch = Task { await log.run(client, from: version) }

    var logger = Logger(label: "cairn.scheduler")
    logger.logLevel = .warning
    var schedulerOptions = Scheduler.Options()
    schedulerOptions.workers = options.workers
    let scheduler = Scheduler(client: client, options: schedulerOptions, logger: logger)
    let started = clock.now
    let running = Task { await scheduler.run() }

    // The first pass: every configuration shows its next run.
    try await poll("every configuration to show its next run", timeout: .seconds(600), every: .milliseconds(200)) {
        try await listAll(client, ExecutorResource.configurations).allSatisfy { $0[path: "status", "nextBackup"] != nil }
    }
    out.append("first_pass_seconds=\(format(seconds(clock.now - started), 2))")
    let first = nextMinute(after: Date())
    let measured = Set((0..<options.runs).map { first.addingTimeInterval(Double($0) * 60) })
    let last = first.addingTimeInterval(Double(options.runs - 1) * 60)
    let expected = options.configurations * options.runs
    try await poll("\(expected) sessions of the measured minutes", timeout: .seconds(Int64(last.timeIntervalSinceNow) + 120), every: .milliseconds(200)) {
        try log.check()
        return log.all.filter { measured.contains($0.scheduled) }.count >= expected
    }
    running.cancel()
    _ = await running.value
    watch.cancel()
    _ = await watch.value
    try log.check()

    let entries = log.all
    let inWindow = entries.filter { measured.contains($0.scheduled) }
    let lateness = inWindow.map { $0.arrived.timeIntervalSince($0.scheduled) * 1000 }
    // How long each minute's burst took: its last session's arrival after the minute.
    let bursts = Dictionary(grouping: inWindow, by: \.scheduled).values.map { group in group.map { $0.arrived.timeIntervalSince($0.scheduled) }.max() ?? 0 }
    let statistics = scheduler.statistics
    out.append("sessions_expected=\(expected) sessions_measured=\(inWindow.count) caught_up_before_window=\(entries.count - inWindow.count)")
    out.append("lateness_p50_ms=\(format(percentile(lateness, 0.5), 1)) lateness_p99_ms=\(format(percentile(lateness, 0.99), 1)) lateness_max_ms=\(format(lateness.max() ?? 0, 1))")
    out.append("burst_seconds_p50=\(format(percentile(bursts, 0.5), 2)) burst_seconds_max=\(format(bursts.max() ?? 0, 2))")
    out.append("scheduler_created=\(statistics.created) scheduler_status_writes=\(statistics.statusWrites) scheduler_conflicts=\(statistics.conflicts) scheduler_reconciles=\(statistics.reconciles)")

    // The ceiling: plain BackupSession creates through the same client, `workers` at a time.
    let ceilingStart = clock.now
    try await forEach(options.ceiling, concurrency: options.workers) { index in
        let session = BackupSession(metadata: ObjectMeta(name: "ceiling-\(index)", namespace: "team-0"),
                                    spec: BackupSessionSpec(configuration: "config-0", session: "minutely", trigger: .manual))
        _ = try await client.create(ExecutorResource.sessions, namespace: "team-0", session)
    }
    let ceiling = Double(options.ceiling) / seconds(clock.now - ceilingStart)
    out.append("ceiling_per_second=\(format(ceiling, 0)) minute_burst_at_ceiling_seconds=\(format(Double(options.configurations) / ceiling, 2))")
    print("scheduler " + out.joined(separator: " "))
} catch {
    printToStandardError("scheduler-bench: \(error)")
    exit(1)
}
