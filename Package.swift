// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .library(name: "YAML", targets: ["YAML"]),
        .library(name: "CairnAPI", targets: ["CairnAPI"]),
        .library(name: "Blueprint", targets: ["Blueprint"]),
        .library(name: "Kube", targets: ["Kube"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
        .library(name: "AutoBackup", targets: ["AutoBackup"]),
        .library(name: "Executor", targets: ["Executor"]),
        .library(name: "Agent", targets: ["Agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.3.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "YAML", dependencies: ["CYAML"]),
        .target(name: "CairnAPI", dependencies: ["YAML"]),
        .target(
            name: "Blueprint",
            dependencies: ["YAML", "CairnAPI", .product(name: "Crypto", package: "swift-crypto")]),
        // The reconciler that turns annotated workloads into BackupConfigurations.
        .target(
            name: "AutoBackup",
            dependencies: [
                "Kube", "Blueprint", "CairnAPI", "YAML", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // Schedules, BackupSessions, backup and restore Jobs, Snapshots and retention.
        .target(
            name: "Executor",
            dependencies: [
                "Kube", "Blueprint", "CairnAPI", "YAML", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // The in-pod restic wrapper behind `cairn agent`: no Kubernetes API access.
        .target(
            name: "Agent",
            dependencies: [
                "CairnAPI", "YAML", .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]),
        // The channel.k8s.io WebSocket sub-protocols of pods/exec, shared by client and server.
        .target(
            name: "RemoteCommand",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio")]),
        .target(
            name: "Kube",
            dependencies: [
                "YAML", "CCurl", "RemoteCommand",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Sandbox",
            dependencies: [
                "YAML", "CairnAPI", "RemoteCommand", "SandboxNodes", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The sandbox's simulated nodes: API clients only, so they never import the server's store.
        .target(
            name: "SandboxNodes",
            dependencies: [
                "Kube", "YAML", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]),
        // Test support shared by the test targets: a sandbox (or a real cluster) per test.
        .target(
            name: "CairnTesting",
            dependencies: [
                "Kube", "Sandbox", "CairnAPI", "YAML", .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]),
        .executableTarget(
            name: "cairn",
            dependencies: [
                "YAML", "CairnAPI", "Blueprint", "AutoBackup", "Executor", "Agent", "Kube", "Sandbox", "SandboxNodes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(name: "CairnAPITests", dependencies: ["CairnAPI", "YAML"]),
        .testTarget(name: "BlueprintTests", dependencies: ["Blueprint", "CairnAPI", "YAML"]),
        .testTarget(name: "KubeTests", dependencies: ["Kube", "YAML"]),
        .testTarget(
            name: "SandboxTests",
            dependencies: ["Sandbox", "YAML", "CairnAPI", "CairnTesting"]),
        .testTarget(name: "ConformanceTests", dependencies: ["CairnTesting", "Kube", "Sandbox", "YAML"]),
        .testTarget(
            name: "ControllerTests",
            dependencies: ["CairnTesting", "Kube", "YAML", "Sandbox", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "NodesTests",
            dependencies: ["CairnTesting", "SandboxNodes", "Kube", "YAML", "cairn",
                           .product(name: "Subprocess", package: "swift-subprocess")]),
        .testTarget(
            name: "AutoBackupTests",
            dependencies: ["AutoBackup", "Blueprint", "CairnAPI", "CairnTesting", "Kube", "Sandbox", "YAML",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(name: "ExecTests", dependencies: ["CairnTesting", "Kube", "YAML", "RemoteCommand"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["YAML", "AutoBackup", "CairnTesting", "Kube", "cairn", .product(name: "Logging", package: "swift-log")],
            exclude: ["Golden"]),
        .testTarget(
            name: "ControllerCommandTests",
            dependencies: ["AutoBackup", "CairnTesting", "CairnAPI", "Kube", "YAML", "cairn", .product(name: "Subprocess", package: "swift-subprocess")]),
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "CairnAPI", "CairnTesting", "YAML", "cairn", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Subprocess", package: "swift-subprocess")]),
        .testTarget(
            name: "ExecutorTests",
            // `cairn` so that the binary the simulated kubelet runs as the agent is built first.
            dependencies: ["Executor", "AutoBackup", "CairnAPI", "CairnTesting", "Kube", "Sandbox", "SandboxNodes", "YAML", "cairn",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "MetricsTestKit", package: "swift-metrics")]),
    ],
    swiftLanguageModes: [.v6]
)
