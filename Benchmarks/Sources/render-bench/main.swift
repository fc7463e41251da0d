// Render benchmark: 10,000 annotated workloads against 20 blueprints, on one thread.
//
// Each round runs the whole offline pipeline in phases over the same input, so the phases share
// the machine's noise: parse the manifests (the baseline every render needs first), read the
// targets, render them (the engine the goal is about), then encode and emit the results.
// The blueprints are the repository's own six, each copied under several names to make 20.

import Blueprint
import BenchSupport
import CairnAPI
import Foundation
import YAML

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time of the calling thread, so other processes' load does not count against the engine.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The repository's blueprints, each copied under new names until there are `count`.
func loadBlueprints(from directory: String, count: Int) throws -> [BackupBlueprint] {
    let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
    let originals = try files.map { file in
        try NodeDecoder(file: file).decode(
            BackupBlueprint.self, from: YAML.parse(String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)))
    }
    return (0..<count).map { index in
        var copy = originals[index % originals.count]
        copy.metadata.name = "\(copy.metadata.name ?? "bp")-\(index)"
        return copy
    }
}

/// Manifests for `count` workloads across `namespaces` namespaces, each opted in to one blueprint.
func manifests(for blueprints: [BackupBlueprint], count: Int, namespaces: Int) -> String {
    var text = ""
    for index in 0..<namespaces {
        text += "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-\(index)\n  labels:\n    cairn.dev/snapshots: allowed\n---\n"
    }
    for index in 0..<count {
        let blueprint = blueprints[index % blueprints.count]
        let subjects = blueprint.spec.subjects ?? [Subject(apiGroup: "apps", kind: "Deployment")]
        let subject = subjects[index % subjects.count]
        let apiVersion = subject.apiGroup.map { $0.isEmpty ? "v1" : "\($0)/v1" } ?? "apps/v1"
        text += """
            apiVersion: \(apiVersion)
            kind: \(subject.kind)
            metadata:
              name: workload-\(index)
              namespace: team-\(index % namespaces)
              labels:
                app: workload-\(index)
                tier: backend
              annotations:
                blueprint.cairn.dev/name: \(blueprint.metadata.name ?? "")
                blueprint.cairn.dev/namespace: cairn-system
                variables.cairn.dev/dbName: db_\(index)
                variables.cairn.dev/schedule: "\(index % 60) \(index % 24) * * *"
            spec:
              replicas: 1

            ---

            """
    }
    return text
}

/// One round's figures, in seconds.
struct Round {
    var parse = 0.0
    var targets = 0.0
    var render = 0.0
    var renderCPU = 0.0
    var emit = 0.0
    var rendered = 0
    var failed = 0
    var bytesOut = 0
}

func runRound(text: String, renderer: Renderer) throws -> Round {
    var round = Round()
    let (documents, parse) = try timed { try YAML.parseStream(text) }
    round.parse = parse
    let (targets, targetTime) = try timed {
        try documents.filter { !$0.isNull && $0["kind"] != "Namespace" }.map { try RenderTarget(manifest: $0) }
    }
    round.targets = targetTime
    let labels = ["cairn.dev/snapshots": "allowed"]
    let cpuStart = threadCPUSeconds()
    let (outcomes, render) = timed { targets.map { renderer.render($0, namespaceLabels: labels) } }
    round.renderCPU = threadCPUSeconds() - cpuStart
    round.render = render
    let configurations = outcomes.compactMap(\.rendering?.configuration)
    round.rendered = configurations.count
    round.failed = outcomes.count - configurations.count
    let (output, emit) = try timed { YAML.emitStream(try configurations.map { try NodeEncoder().encode($0) }) }
    round.emit = emit
    round.bytesOut = output.utf8.count
    return round
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func fixed(_ value: Double, _ digits: Int) -> String {
    let scale = pow(10.0, Double(digits))
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale)
    let fraction = String(abs(scaled) % Int(scale))
    return digits == 0 ? "\(whole)" : "\(whole).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
}

func grouped(_ value: Double) -> String {
    let digits = String(Int(value.rounded()))
    var out = ""
    for (offset, character) in digits.reversed().enumerated() {
        if offset > 0 && offset % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return String(out.reversed())
}

let arguments = CommandLine.arguments
let rounds = arguments.firstIndex(of: "--rounds").flatMap { Int(arguments[$0 + 1]) } ?? 7
let blueprintDirectory = arguments.firstIndex(of: "--blueprints").map { arguments[$0 + 1] } ?? "../blueprints"
let workloads = 10_000

do {
    let blueprints = try loadBlueprints(from: blueprintDirectory, count: 20)
    let text = manifests(for: blueprints, count: workloads, namespaces: 200)
    let renderer = Renderer(blueprints: blueprints)
    _ = try runRound(text: text, renderer: renderer)  // warm-up: page in code and allocator arenas
    var results: [Round] = []
    for _ in 0..<rounds { results.append(try runRound(text: text, renderer: renderer)) }
    guard let first = results.first, first.failed == 0, results.allSatisfy({ $0.rendered == workloads }) else {
        throw BenchError("expected all \(workloads) workloads to render, got \(results.map(\.rendered)) (failed: \(results.map(\.failed)))")
    }
    let parse = median(results.map(\.parse))
    let render = median(results.map(\.render))
    let renderCPU = median(results.map(\.renderCPU))
    let targets = median(results.map(\.targets))
    let emit = median(results.map(\.emit))
    let total = median(results.map { $0.parse + $0.targets + $0.render + $0.emit })
    let rows: [(String, Double, String)] = [
        ("parse manifests (YAML, baseline)", parse, "\(fixed(Double(text.utf8.count) / parse / 1e6, 1)) MB/s"),
        ("read targets", targets, ""),
        ("render (engine), wall", render, "\(grouped(Double(workloads) / render)) renders/s"),
        ("render (engine), thread CPU", renderCPU, "\(grouped(Double(workloads) / renderCPU)) renders/s"),
        ("encode + emit YAML", emit, "\(fixed(Double(first.bytesOut) / emit / 1e6, 1)) MB/s"),
        ("whole pipeline", total, "\(grouped(Double(workloads) / total)) workloads/s"),
    ]
    print("| phase | median s | throughput | vs parse |")
    print("|---|---:|---:|---:|")
    for (name, seconds, throughput) in rows {
        print("| \(name) | \(fixed(seconds, 4)) | \(throughput) | \(fixed(seconds / parse, 2))x |")
    }
    print()
    print("Input: \(workloads) workloads in 200 namespaces, \(blueprints.count) blueprints, \(fixed(Double(text.utf8.count) / 1e6, 1)) MB of manifests; output \(fixed(Double(first.bytesOut) / 1e6, 1)) MB; \(rounds) rounds after one warm-up; peak RSS \(peakRSSKiB() / 1024) MiB.")
} catch {
    printToStandardError("render-bench: \(error)")
    exit(1)
}
