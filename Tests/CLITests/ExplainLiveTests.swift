import AutoBackup
import CairnTesting
import Foundation
import Kube
import Logging
import Testing
import YAML

/// `cairn explain` against a cluster: the real binary with the test cluster's kubeconfig, reading
/// over HTTPS what a user's cluster would hold.
@Suite struct ExplainLiveTests {
    static let deployments = Resource(group: "apps", version: "v1", plural: "deployments", namespaced: true)

    /// A blueprint in `namespace` whose storage name is a quoted lone reference (a string field)
    /// and whose retention is a plain one (an integer field).
    static func blueprint(namespace: String) -> String {
        RenderCLITests.blueprint
            .replacingOccurrences(of: "  namespace: cairn-system\nspec:", with: "  namespace: \(namespace)\nspec:")
            .replacingOccurrences(of: "    storage:\n      name: default", with: "    storage:\n      name: \"${storage:=default}\"")
    }

    /// The Deployment `api` in `namespace`, opted into that blueprint with `annotations` added.
    static func deployment(namespace: String, annotations: [String: String] = [:], without: Set<String> = []) -> String {
        var all = ["blueprint.cairn.dev/name": "nightly", "variables.cairn.dev/dbName": "orders"]
        all.merge(annotations) { $1 }
        for key in without { all[key] = nil }
        return RenderCLITests.deployment("api", namespace: namespace, annotations: all)
            + "  selector:\n    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n"
            + "    spec:\n      containers:\n      - name: api\n        image: api:1\n"
    }

    /// A cluster with the CRDs, the blueprint and the Deployment created.
    static func withTarget(
        annotations: [String: String] = [:], without: Set<String> = [], _ body: @Sendable @escaping (TestCluster) async throws -> Void
    ) async throws {
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            _ = try await cluster.client.create(CairnResource.blueprints, namespace: cluster.namespace, try YAML.parse(blueprint(namespace: cluster.namespace)))
            _ = try await cluster.client.create(deployments, namespace: cluster.namespace, try YAML.parse(deployment(namespace: cluster.namespace, annotations: annotations, without: without)))
            try await body(cluster)
        }
    }

    /// `cairn explain deploy/api` against the cluster.
    static func explain(_ cluster: TestCluster) async throws -> ProcessOutput {
        try await Processes.run(
            CairnProcess.binary.path, ["explain", "deploy/api", "-n", cluster.namespace, "--kubeconfig", cluster.kubeconfig.path])
    }

    /// Creates the configuration `cairn render` writes for the Deployment as the cluster holds it
    /// (with its uid, so the configuration is owned by it, as the controller's would be).
    @discardableResult
    static func createRendered(_ cluster: TestCluster, blueprint text: String? = nil) async throws -> Node {
        let deployment = try await cluster.client.get(deployments, namespace: cluster.namespace, name: "api")
        let manifests = cluster.directory.appendingPathComponent("api.json")
        let blueprintFile = cluster.directory.appendingPathComponent("bp.yaml")
        try Data(try JSON.emit(deployment).utf8).write(to: manifests)
        try Data((text ?? Self.blueprint(namespace: cluster.namespace)).utf8).write(to: blueprintFile)
        let rendered = try await Processes.run(CairnProcess.binary.path, ["render", "--blueprints", blueprintFile.path, "--manifests", manifests.path])
        try #require(rendered.status == 0, "\(rendered.stderr)")
        return try await cluster.client.create(CairnResource.configurations, namespace: cluster.namespace, try YAML.parse(rendered.stdout))
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func givenAnOptedInDeploymentAndNoConfiguration_whenExplained_thenItIsNotCreatedYet() async throws {
        try await Self.withTarget { cluster in
            let result = try await Self.explain(cluster)

            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            let lines = Self.lines(result.stdout)
            #expect(lines.first == "Deployment \(cluster.namespace)/api")
            #expect(lines.contains("  renders BackupConfiguration \(cluster.namespace)/deployment-api from BackupBlueprint \(cluster.namespace)/nightly"))
            #expect(lines.contains { $0.hasPrefix("  dbName ") && $0.contains("annotation variables.cairn.dev/dbName") }, "\(result.stdout)")
            #expect(lines.last == "live BackupConfiguration \(cluster.namespace)/deployment-api: not created yet (in the cluster)")
        }
    }

    @Test func givenTheRenderedConfigurationIsLive_whenExplained_thenItIsInStepAndExit0() async throws {
        try await Self.withTarget { cluster in
            try await Self.createRendered(cluster)

            let result = try await Self.explain(cluster)

            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(Self.lines(result.stdout).last == "live BackupConfiguration \(cluster.namespace)/deployment-api: in step")
        }
    }

    @Test func givenALiveConfigurationEditedByHand_whenExplained_thenTheDiffShowsTheEditAndExit1() async throws {
        try await Self.withTarget { cluster in
            var live = try await Self.createRendered(cluster)
            var spec = try #require(live["spec"])
            spec["sessions"] = .sequence(try #require(spec["sessions"]?.sequence).map { session in
                var session = session
                session["retention"] = .mapping(["keepDaily": 3])
                return session
            })
            live["spec"] = spec
            _ = try await cluster.client.update(CairnResource.configurations, namespace: cluster.namespace, live)

            let result = try await Self.explain(cluster)

            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            let lines = Self.lines(result.stdout)
            #expect(lines.contains("live BackupConfiguration \(cluster.namespace)/deployment-api: drifted; the controller puts it back (- live, + rendered):"))
            #expect(lines.contains("--- live"))
            #expect(lines.contains("+++ rendered"))
            #expect(lines.contains("-      keepDaily: 3"), "\(result.stdout)")
            #expect(lines.contains("+      keepDaily: 7"), "\(result.stdout)")
        }
    }

    /// `blueprints/postgres-pgdump.yaml` moved into `namespace`: its storage name is a quoted lone
    /// `"${storage:=default}"`, its retention plain `${keepDaily}`, and several variables fill more
    /// than one place, whose order the API server's sorted keys change.
    static func postgresBlueprint(namespace: String) throws -> String {
        try String(contentsOf: CairnProcess.root.appendingPathComponent("blueprints/postgres-pgdump.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  namespace: cairn-system\nspec:", with: "  namespace: \(namespace)\nspec:")
    }

    @Test func givenAQuotedLoneReferenceInAStringFieldSetTo0800_whenExplainedOfflineAndLive_thenBothAgree() async throws {
        let annotations = ["blueprint.cairn.dev/name": "postgres-nightly", "variables.cairn.dev/storage": "0800"]
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            let blueprint = try Self.postgresBlueprint(namespace: cluster.namespace)
            let deployment = Self.deployment(namespace: cluster.namespace, annotations: annotations)
            let files = cluster.directory.appendingPathComponent("manifests")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            try Data(blueprint.utf8).write(to: files.appendingPathComponent("bp.yaml"))
            try Data(deployment.utf8).write(to: files.appendingPathComponent("api.yaml"))
            // kubectl, as a user would: it sends JSON with sorted keys, so the cluster holds the template in another order.
            let applied = try await Processes.run(Processes.kubectlPath, ["apply", "--kubeconfig", cluster.kubeconfig.path, "-f", files.path])
            try #require(applied.status == 0, "\(applied.stderr)")
            let crds = CairnProcess.root.appendingPathComponent("crds").path
            let offline = try await Processes.run(
                CairnProcess.binary.path, ["explain", "deploy/api", "-n", cluster.namespace, "--manifests", crds, files.path])
            try await Self.createRendered(cluster, blueprint: blueprint)

            let live = try await Self.explain(cluster)

            #expect(live.status == 0, "rendered from the files, in step with the cluster's rendering: \(live.stdout)\(live.stderr)")
            let offlineLines = Self.lines(offline.stdout)
            let liveLines = Self.lines(live.stdout)
            #expect(offlineLines.contains { $0.hasPrefix("  storage ") && $0.contains(" 0800 ") }, "\(offline.stdout)\(offline.stderr)")
            #expect(offlineLines.count == liveLines.count)
            #expect(Array(offlineLines.dropFirst().dropLast()) == Array(liveLines.dropFirst().dropLast()), "the same blueprint, variables, sources and places")
            let configuration = try await cluster.client.get(CairnResource.configurations, namespace: cluster.namespace, name: "deployment-api")
            #expect(configuration[path: "spec", "storage", "name"] == .string("0800"))
        }
    }

    @Test func givenTheControllerGeneratedTheConfiguration_whenExplainedLiveAndFromItsManifests_thenBothSayInStep() async throws {
        let annotations = ["blueprint.cairn.dev/name": "postgres-nightly", "variables.cairn.dev/storage": "0800"]
        try await TestCluster.with { cluster in
            try await cluster.installCRDs()
            let files = cluster.directory.appendingPathComponent("manifests")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            try Data(try Self.postgresBlueprint(namespace: cluster.namespace).utf8).write(to: files.appendingPathComponent("bp.yaml"))
            try Data(Self.deployment(namespace: cluster.namespace, annotations: annotations).utf8).write(to: files.appendingPathComponent("api.yaml"))
            let applied = try await Processes.run(Processes.kubectlPath, ["apply", "--kubeconfig", cluster.kubeconfig.path, "-f", files.path])
            try #require(applied.status == 0, "\(applied.stderr)")
            var logger = Logger(label: "cairn.autobackup.test")
            logger.logLevel = .warning
            let controller = AutoBackupController(client: cluster.client, options: .init(namespace: cluster.namespace), logger: logger)
            let generated = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await controller.run() }
                defer { group.cancelAll() }
                return try await Self.awaitConfiguration(cluster)
            }
            try Data(try JSON.emit(generated).utf8).write(to: files.appendingPathComponent("live.json"))
            let crds = CairnProcess.root.appendingPathComponent("crds").path

            let live = try await Self.explain(cluster)
            let offline = try await Processes.run(
                CairnProcess.binary.path, ["explain", "deploy/api", "-n", cluster.namespace, "--manifests", crds, files.path])

            #expect(generated[path: "spec", "storage", "name"] == .string("0800"))
            #expect(live.status == 0, "\(live.stdout)\(live.stderr)")
            #expect(Self.lines(live.stdout).last == "live BackupConfiguration \(cluster.namespace)/deployment-api: in step")
            #expect(offline.status == 0, "\(offline.stdout)\(offline.stderr)")
            #expect(Self.lines(offline.stdout).last == "live BackupConfiguration \(cluster.namespace)/deployment-api: in step")
        }
    }

    /// The configuration the controller creates for `api`, within a deadline.
    static func awaitConfiguration(_ cluster: TestCluster) async throws -> Node {
        try await eventually("the controller to create deployment-api", .seconds(20)) { () async throws -> Node? in
            do {
                return try await cluster.client.get(CairnResource.configurations, namespace: cluster.namespace, name: "deployment-api")
            } catch let error as KubeError where error.kind == .notFound {
                return nil
            }
        }
    }

    @Test func givenAMissingVariable_whenExplained_thenTheFixNamesTheAnnotationAndNoPositionInsideTheServersJSON() async throws {
        try await Self.withTarget(without: ["variables.cairn.dev/dbName"]) { cluster in
            let result = try await Self.explain(cluster)

            #expect(result.status == 1)
            let lines = Self.lines(result.stdout)
            #expect(lines.contains("  cannot render: 1 problem:"), "\(result.stdout)")
            #expect(lines.contains("        at spec.template.hooks.preBackup[0].exec.command[1]"), "\(result.stdout)")
            #expect(lines.contains("        fix: set annotation variables.cairn.dev/dbName on Deployment \(cluster.namespace)/api"))
            #expect(lines.last == "live BackupConfiguration \(cluster.namespace)/deployment-api: not created yet")
        }
    }

    @Test func givenATargetThatDoesNotExist_whenExplained_thenExit1NamingIt() async throws {
        try await TestCluster.with { cluster in
            let result = try await Processes.run(
                CairnProcess.binary.path, ["explain", "sts/ghost", "-n", cluster.namespace, "--kubeconfig", cluster.kubeconfig.path])

            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("cairn explain: StatefulSet \(cluster.namespace)/ghost not found in the cluster ("), "\(result.stderr)")
        }
    }
}
