import AutoBackup
import BenchSupport
import ClusterBench
import Blueprint
import CairnAPI
import Foundation
import Kube
import Logging
import YAML

// The AutoBackup controller against a sandbox in another process (sandbox-host --history N):
//
//   autobackup-bench --kubeconfig FILE --repository DIR [--workloads 10000] [--namespaces 200]
//                    [--blueprints 20] [--changes 200] [--workers 2] [--qps 0] [--ceiling N]
//                    [--concurrency 2,8] [--host-pid PID]    (--ceiling: creates per concurrency, default 1000)
//
// Creates the CRDs, BackupStorage `default`, the blueprints and the annotated Deployments through
// the client (not timed), then in this process:
// 1. starts the controller and times it until every configuration carries the hash the benchmark
//    renders itself from the blueprint files (seen through a watch), then checks each one by a list;
// 2. requeues every target (a resync with nothing changed) and counts the writes;
// 3. edits the blueprint a fifth of the targets use and times it until those are rewritten;
// 4. changes one Deployment's annotation at a time, idle in between, and times each until the
//    watch shows its configuration rewritten;
// 5. stops the controller, then times plain BackupConfiguration creates through the same client at
//    each concurrency: the server's write rate, the ceiling for step 1.
// Prints one `autobackup key=value ...` line.

struct Options {
    var kubeconfig = ""
    var repository = ""
    var workloads = 10_000
    var namespaces = 200
    var blueprints = 20
    var changes = 200
    var workers = 2
    var qps = 0.0
    var ceiling = 0
    var concurrency = [2, 8]
    var hostPID = 0
    var timeout = 900
    /// A `cairn` executable: when set, every configuration is deleted after the in-process phases
    /// and `cairn controller` renders them again as its own process, whose peak RSS is then the
    /// controller's alone.
    var controllerBinary: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func int(_ flag: String) throws -> Int {
            guard let value = rest.popFirst().flatMap({ Int($0) }), value >= 0 else { throw BenchError("\(flag) needs a whole number") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--kubeconfig": kubeconfig = rest.popFirst() ?? ""
            case "--repository": repository = rest.popFirst() ?? ""
            case "--workloads": workloads = try int(flag)
            case "--namespaces": namespaces = try int(flag)
            case "--blueprints": blueprints = try int(flag)
            case "--changes": changes = try int(flag)
            case "--workers": workers = try int(flag)
            case "--qps": qps = Double(try int(flag))
            case "--ceiling": ceiling = try int(flag)
            case "--concurrency": concurrency = (rest.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--host-pid": hostPID = try int(flag)
            case "--timeout": timeout = try int(flag)
            case "--controller-binary": controllerBinary = rest.popFirst()
            default: throw BenchError("unknown argument \(flag)")
            }
        }
        guard !kubeconfig.isEmpty, !repository.isEmpty, workloads >= 5, namespaces >= 1, blueprints >= 2, workers >= 1,
              !concurrency.isEmpty, concurrency.allSatisfy({ $0 > 0 }) else {
            throw BenchError("usage: autobackup-bench --kubeconfig FILE --repository DIR [--workloads N>=5] [--namespaces N] [--blueprints N>=2] [--changes N] [--workers N] [--qps N] [--ceiling N] [--concurrency 2,8] [--host-pid PID]")
        }
        if ceiling == 0 { ceiling = min(workloads, 1000) }
        ceiling = min(ceiling, workloads)
    }
}

/// One Deployment the benchmark created, read back from the server (so with its uid).
struct Target: Sendable {
    var index: Int
    var render: RenderTarget
    /// `namespace/name` of its configuration.
    var key: String
}

let clock = ContinuousClock()

/// A child process started with posix_spawn, its output going where the benchmark's goes.
struct ChildProcess {
    let pid: pid_t

    init(_ executable: String, _ arguments: [String]) throws {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, nil, nil, argv, environ)
        guard result == 0 else { throw BenchError("cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Sends SIGTERM and waits; the exit status, or 128 + the signal that ended it.
    func terminate() -> Int32 {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// Restarts VmHWM from the current RSS (Linux ≥ 4.0), so the peak measured afterwards is the
/// controller's, not the setup's; what the setup left resident is reported as the baseline.
func resetPeakRSS() {
    _ = FileManager.default.createFile(atPath: "/proc/self/clear_refs", contents: Data("5".utf8))
}

func expectedConfiguration(_ target: RenderTarget, _ renderer: Renderer) throws -> BackupConfiguration {
    switch renderer.render(target, namespaceLabels: [:]) {
    case .rendered(let rendering): return rendering.configuration
    case .failed(let failure): throw BenchError("the benchmark's own render of \(target.displayName) failed: \(failure.problems.map(\.message))")
    case .notOptedIn: throw BenchError("\(target.displayName) is not opted in")
    }
}

func renderTarget(_ deployment: Node) throws -> RenderTarget {
    var manifest = deployment
    manifest["apiVersion"] = "apps/v1"
    manifest["kind"] = "Deployment"
    return try RenderTarget(manifest: manifest)
}

/// Lists every configuration and checks each target's against the benchmark's render: generated
/// for it (label and ownerReference), rendered hash, labels and spec. Returns how many are wrong.
func verify(_ client: KubeClient, targets: [Target], renderer: Renderer) async throws -> (wrong: Int, extra: Int) {
    var live: [String: Node] = [:]
    for object in try await listAll(client, CairnResource.configurations) { live[Observer.key(object)] = object }
    var wrong = 0
    for target in targets {
        let expected = try expectedConfiguration(target.render, renderer)
        guard let object = live.removeValue(forKey: target.key),
              ReconcilePlan.isGenerated(object, for: target.render),
              object[path: "metadata", "annotations", CairnLabel.renderedHash]?.string == expected.metadata.annotations?[CairnLabel.renderedHash],
              ReconcilePlan.isInStep(object, with: expected)
        else {
            if wrong == 0 { printToStandardError("autobackup-bench: configuration \(target.key) is missing or differs from the render") }
            wrong += 1
            continue
        }
    }
    return (wrong, live.count)
}

/// Writes the controller counted and writes the watch saw since `before`.
struct Writes {
    var creates = 0, updates = 0, deletes = 0, statuses = 0, blueprintStatuses = 0
    var watched = Observer.Counts()
    /// Every write to a configuration: the object and its status subresource.
    var controller: Int { creates + updates + deletes + statuses }

    init(_ controller: AutoBackupController, _ observer: Observer, since before: (AutoBackupController.Statistics, Observer.Counts)? = nil) {
        let statistics = controller.statistics
        creates = statistics.creates - (before?.0.creates ?? 0)
        updates = statistics.updates - (before?.0.updates ?? 0)
        deletes = statistics.deletes - (before?.0.deletes ?? 0)
        // `statusWrites` counts blueprint status writes too; those are not a target's.
        blueprintStatuses = statistics.blueprintStatusWrites - (before?.0.blueprintStatusWrites ?? 0)
        statuses = statistics.statusWrites - (before?.0.statusWrites ?? 0) - blueprintStatuses
        watched = observer.counts - (before?.1 ?? Observer.Counts())
    }

    func line(_ prefix: String, per targets: Int) -> String {
        "\(prefix)_creates=\(creates) \(prefix)_updates=\(updates) \(prefix)_deletes=\(deletes) \(prefix)_status_writes=\(statuses) \(prefix)_blueprint_status_writes=\(blueprintStatuses) \(prefix)_watch_events=\(watched.total)"
            + " \(prefix)_writes_per_target=\(format(Double(controller) / Double(max(targets, 1)), 4))"
    }
}

func snapshot(_ controller: AutoBackupController, _ observer: Observer) -> (AutoBackupController.Statistics, Observer.Counts) {
    (controller.statistics, observer.counts)
}

/// Waits until the writes in flight have landed: the controller's reconciles stop moving for a while.
func settle(_ controller: AutoBackupController) async throws {
    var last = controller.statistics.reconciles
    var quiet = 0
    try await poll("the controller to go quiet", timeout: .seconds(120), every: .milliseconds(100)) {
        let now = controller.statistics.reconciles
        quiet = now == last ? quiet + 1 : 0
        last = now
        return quiet >= 10
    }
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    var clientOptions = KubeClientOptions()
    clientOptions.qps = options.qps
    let client = KubeClient(connection: try KubeConfigLoader(explicitPath: options.kubeconfig).connection(), options: clientOptions)
    let repository = URL(fileURLWithPath: options.repository)
    let fixtures = try Fixtures(repository: repository, workloads: options.workloads, namespaces: options.namespaces, blueprints: options.blueprints)
    let timeout = Duration.seconds(options.timeout)
    var out: [String] = ["workloads=\(options.workloads) namespaces=\(options.namespaces) blueprints=\(options.blueprints) workers=\(options.workers)"]

    // Setup, not timed against any goal.
    let setupStart = clock.now
    try await installCRDs(client: client, repository: repository)
    try await createStorage(client: client, repository: repository)
    try await forEach(options.namespaces, concurrency: 8) { index in
        _ = try await client.create(CairnResource.namespaces, .mapping(["apiVersion": "v1", "kind": "Namespace", "metadata": .mapping(["name": .string("team-\(index)")])]))
    }
    for blueprint in fixtures.blueprints { _ = try await client.create(CairnResource.blueprints, blueprint) }
    try await forEach(options.workloads, concurrency: 8) { index in _ = try await client.create(Fixtures.deployments, fixtures.deployment(index)) }
    out.append("setup_seconds=\(format(seconds(clock.now - setupStart), 1))")

    // What every configuration must become, rendered here from the blueprint files.
    let renderer = try fixtures.renderer(editFirst: false)
    let observer = Observer(client: client)
    var targets: [Target] = []
    for deployment in try await listAll(client, Fixtures.deployments) {
        let render = try renderTarget(deployment)
        guard let index = Int(render.name.dropFirst("workload-".count)) else { continue }
        let key = "\(render.namespace)/\(Naming.configurationName(kind: render.kind, name: render.name))"
        targets.append(Target(index: index, render: render, key: key))
        observer.expect(key, hash: try expectedConfiguration(render, renderer).metadata.annotations?[CairnLabel.renderedHash] ?? "")
    }
    guard targets.count == options.workloads else { throw BenchError("listed \(targets.count) Deployments, created \(options.workloads)") }
    let startVersion = try await client.list(CairnResource.configurations, options: ListOptions(limit: 1)).resourceVersion
    let watcher = Task { await observer.run(from: startVersion) }

    // 1. Convergence from controller start.
    resetPeakRSS()
    let rssBaseline = procStatusKiB("VmRSS")
    var logger = Logger(label: "cairn.autobackup.bench")
    logger.logLevel = .warning
    var controllerOptions = AutoBackupController.Options()
    controllerOptions.workers = options.workers
    let controller = AutoBackupController(client: client, options: controllerOptions, logger: logger)
    let start = clock.now
    let runner = Task { await controller.run() }
    try await controller.waitForSync()
    let synced = clock.now - start
    try await poll("all \(options.workloads) configurations", timeout: timeout) { try observer.check(); return observer.allMatchedAt != nil }
    let converged = (observer.allMatchedAt ?? clock.now) - start
    try await settle(controller)
    let creation = Writes(controller, observer)
    let first = try await verify(client, targets: targets, renderer: renderer)
    guard first.wrong == 0, first.extra == 0 else { throw BenchError("after convergence \(first.wrong) configurations are wrong and \(first.extra) unexpected") }
    out.append("synced_seconds=\(format(seconds(synced))) converge_seconds=\(format(seconds(converged))) \(creation.line("create", per: options.workloads))")

    // 2. A resync with nothing changed.
    let beforeResync = snapshot(controller, observer)
    let resyncStart = clock.now
    await controller.requeueAll()
    try await poll("the resync's reconciles", timeout: timeout, every: .milliseconds(10)) {
        controller.statistics.reconciles >= beforeResync.0.reconciles + options.workloads
    }
    let resynced = clock.now - resyncStart
    try await settle(controller)
    out.append("resync_seconds=\(format(seconds(resynced))) \(Writes(controller, observer, since: beforeResync).line("resync", per: options.workloads))")

    // 3. One blueprint edit that reaches a fifth of the targets.
    let editedRenderer = try fixtures.renderer(editFirst: true)
    let edited = targets.filter { fixtures.blueprintIndex(of: $0.index) == 0 }
    for target in edited {
        observer.expect(target.key, hash: try expectedConfiguration(target.render, editedRenderer).metadata.annotations?[CairnLabel.renderedHash] ?? "")
    }
    let firstBlueprint = Fixtures.blueprintName(fixtures.blueprints[0])
    let liveBlueprint = try await client.get(CairnResource.blueprints, namespace: Fixtures.blueprintNamespace, name: firstBlueprint)
    let beforeEdit = snapshot(controller, observer)
    let editStart = clock.now
    _ = try await client.update(CairnResource.blueprints, fixtures.editedFirstBlueprint(liveBlueprint))
    try await poll("the \(edited.count) configurations of the edited blueprint", timeout: timeout) { try observer.check(); return observer.allMatchedAt != nil }
    let editConverged = (observer.allMatchedAt ?? clock.now) - editStart
    try await settle(controller)
    let editWrites = Writes(controller, observer, since: beforeEdit)
    let second = try await verify(client, targets: targets, renderer: editedRenderer)
    guard second.wrong == 0, second.extra == 0 else { throw BenchError("after the blueprint edit \(second.wrong) configurations are wrong and \(second.extra) unexpected") }
    out.append("edit_targets=\(edited.count) edit_seconds=\(format(seconds(editConverged))) \(editWrites.line("edit", per: edited.count))")

    // 4. Latency from an annotation change to the configuration written, one change at a time.
    var latencies: [Double] = []
    var updateCalls: [Double] = []
    let beforeChanges = snapshot(controller, observer)
    for change in 0..<options.changes {
        let index = (change * 7919) % options.workloads
        guard let target = targets.first(where: { $0.index == index }) else { throw BenchError("no target \(index)") }
        var deployment = try await client.get(Fixtures.deployments, namespace: target.render.namespace, name: target.render.name)
        var metadata = deployment["metadata"] ?? .mapping([])
        var annotations = metadata["annotations"] ?? .mapping([])
        annotations[BlueprintAnnotation.variable("schedule")] = .string("\(change % 60) \(change % 24) \(1 + change % 28) * *")
        metadata["annotations"] = annotations
        deployment["metadata"] = metadata
        let hash = try expectedConfiguration(try renderTarget(deployment), editedRenderer).metadata.annotations?[CairnLabel.renderedHash] ?? ""
        observer.expect(target.key, hash: hash)
        try await Task.sleep(for: .milliseconds(50))  // idle: the previous change's echoes have settled
        let changeStart = clock.now
        _ = try await client.update(Fixtures.deployments, deployment)
        updateCalls.append(seconds(clock.now - changeStart))
        try await poll("the configuration of \(target.render.displayName) after change \(change)", timeout: .seconds(30), every: .microseconds(200)) {
            try observer.check()
            return observer.seen(target.key, hash: hash) != nil
        }
        latencies.append(seconds((observer.seen(target.key, hash: hash) ?? clock.now) - changeStart))
    }
    try await settle(controller)
    let changeWrites = Writes(controller, observer, since: beforeChanges)
    out.append("changes=\(latencies.count) latency_p50_ms=\(format(percentile(latencies, 0.5) * 1000, 2)) latency_p99_ms=\(format(percentile(latencies, 0.99) * 1000, 2))"
        + " latency_max_ms=\(format((latencies.max() ?? 0) * 1000, 2)) update_call_p50_ms=\(format(percentile(updateCalls, 0.5) * 1000, 2))"
        + " \(changeWrites.line("change", per: latencies.count))")

    runner.cancel()
    await runner.value
    out.append("controller_peak_rss_mib=\(format(Double(procStatusKiB("VmHWM")) / 1024, 1)) controller_baseline_rss_mib=\(format(Double(rssBaseline) / 1024, 1))"
        + (options.hostPID > 0 ? " host_peak_rss_mib=\(format(Double(procStatusKiB("VmHWM", pid: String(options.hostPID))) / 1024, 1))" : ""))

    // 5. `cairn controller` as its own process, as it runs in a cluster: every configuration
    // deleted, then the process started; time until all are correct again, and its peak RSS.
    if let binary = options.controllerBinary {
        let keys = targets.map { $0.key.split(separator: "/").map(String.init) }
        try await forEach(keys.count, concurrency: 8) { index in
            let key = keys[index]
            try await client.delete(CairnResource.configurations, namespace: key[0], name: key[1])
        }
        try await poll("every configuration deleted", timeout: timeout) { try observer.check(); return observer.liveCount == 0 }
        let child = try ChildProcess(binary, [
            "controller", "--kubeconfig", options.kubeconfig, "--no-leader-elect", "--metrics-bind-address", "0",
            "--health-probe-bind-address", "0", "--kube-api-qps", "0", "--workers", "\(options.workers)", "--log-level", "warning",
        ])
        let processStart = clock.now
        try await poll("all \(options.workloads) configurations from cairn controller", timeout: timeout) { try observer.check(); return observer.allMatchedAt != nil }
        let processConverged = (observer.allMatchedAt ?? clock.now) - processStart
        try await Task.sleep(for: .seconds(2))  // the coalesced blueprint status writes that follow
        let peak = procStatusKiB("VmHWM", pid: "\(child.pid)")
        let status = child.terminate()
        guard status == 0 else { throw BenchError("cairn controller exited with \(status) after SIGTERM") }
        out.append("process_converge_seconds=\(format(seconds(processConverged))) process_peak_rss_mib=\(format(Double(peak) / 1024, 1))")
    }
    watcher.cancel()
    await watcher.value

    // 5. The ceiling: the server's create rate for the same objects, through the same client.
    for concurrency in options.concurrency {
        let objects = try targets.prefix(options.ceiling).map { target in
            var configuration = try expectedConfiguration(target.render, editedRenderer)
            configuration.metadata.name = "c\(concurrency)-\(configuration.metadata.name ?? "")"
            return try NodeEncoder().encode(configuration)
        }
        let ceilingStart = clock.now
        try await forEach(objects.count, concurrency: concurrency) { index in _ = try await client.create(CairnResource.configurations, objects[index]) }
        let rate = Double(objects.count) / seconds(clock.now - ceilingStart)
        out.append("ceiling_c\(concurrency)_per_second=\(format(rate, 1))")
    }
    print("autobackup " + out.joined(separator: " "))
} catch {
    printToStandardError("autobackup-bench: \(error)")
    exit(1)
}
