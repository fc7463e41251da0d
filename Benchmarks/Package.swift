// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so that Yams, which is allowed here only, never becomes a
// dependency of Cairn itself. Yams vendors its own copy of libyaml's C code, so no executable here
// links both Yams and the system libyaml: duplicate C symbols would silently make one call the
// other's copy and the "raw libyaml" ceiling would no longer be the library Cairn uses.
let package = Package(
    name: "cairn-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        /// Timing, peak RSS and the one-line result format shared by every benchmark executable.
        .target(name: "BenchSupport"),
        /// Writes the deterministic ~50 MB Kubernetes manifest stream the YAML benchmarks read.
        .executableTarget(name: "yaml-bench-gen", dependencies: ["BenchSupport"]),
        /// Cairn's `YAML.parseStream` and the raw event loop of the same system libyaml it wraps.
        .executableTarget(
            name: "yaml-parse-bench",
            dependencies: ["BenchSupport", .product(name: "YAML", package: rootPackageIdentity)]),
        /// 10,000 annotated workloads rendered against 20 blueprints, phase by phase.
        .executableTarget(
            name: "render-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "YAML", package: rootPackageIdentity),
                .product(name: "CairnAPI", package: rootPackageIdentity),
                .product(name: "Blueprint", package: rootPackageIdentity),
            ]),
        /// A sandbox API server in a process of its own, for the client benchmarks.
        .executableTarget(
            name: "sandbox-host",
            dependencies: [
                .product(name: "Sandbox", package: rootPackageIdentity),
                .product(name: "YAML", package: rootPackageIdentity),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        /// The Kube client's `get` latency over keep-alive and its idle CPU with open watches.
        .executableTarget(name: "kube-get-bench", dependencies: [.product(name: "Kube", package: rootPackageIdentity)]),
        /// An informer over 50,000 ConfigMaps: first list, memory per object, watch events per second.
        .executableTarget(name: "informer-bench", dependencies: [.product(name: "Kube", package: rootPackageIdentity)]),
        /// What the benchmarks that drive a sandbox share: CRDs, concurrent creates, paged lists, polling, figures.
        .target(
            name: "ClusterBench",
            dependencies: [
                "BenchSupport",
                .product(name: "CairnAPI", package: rootPackageIdentity),
                .product(name: "Kube", package: rootPackageIdentity),
                .product(name: "YAML", package: rootPackageIdentity),
            ]),
        /// The AutoBackup controller over 10,000 annotated Deployments: convergence, writes, latency, memory.
        .executableTarget(
            name: "autobackup-bench",
            dependencies: [
                "BenchSupport", "ClusterBench",
                .product(name: "AutoBackup", package: rootPackageIdentity),
                .product(name: "Blueprint", package: rootPackageIdentity),
                .product(name: "CairnAPI", package: rootPackageIdentity),
                .product(name: "Kube", package: rootPackageIdentity),
                .product(name: "YAML", package: rootPackageIdentity),
                .product(name: "Logging", package: "swift-log"),
            ]),
        /// The Scheduler creating BackupSessions on the real clock: lateness from scheduled time to creation.
        .executableTarget(
            name: "scheduler-bench",
            dependencies: [
                "BenchSupport", "ClusterBench",
                .product(name: "Executor", package: rootPackageIdentity),
                .product(name: "CairnAPI", package: rootPackageIdentity),
                .product(name: "Kube", package: rootPackageIdentity),
                .product(name: "YAML", package: rootPackageIdentity),
                .product(name: "Logging", package: "swift-log"),
            ]),
        /// Yams' `compose_all` and `load_all` over its vendored libyaml.
        .executableTarget(
            name: "yaml-parse-yams-bench",
            dependencies: ["BenchSupport", .product(name: "Yams", package: "Yams")]),
    ],
    swiftLanguageModes: [.v6]
)

/// SwiftPM names a path dependency after its folder, and a clone or worktree may be called anything.
var rootPackageIdentity: String {
    let manifest = #filePath.split(separator: "/", omittingEmptySubsequences: true)
    return manifest.dropLast(2).last.map { String($0).lowercased() } ?? "cairn"
}
