import Foundation
import Testing
import YAML

/// `cairn render` as a user runs it: the real binary, real files, real exit codes.
@Suite struct RenderCLITests {
    static let blueprint = """
        apiVersion: cairn.dev/v1alpha1
        kind: BackupBlueprint
        metadata:
          name: nightly
          namespace: cairn-system
        spec:
          usagePolicy:
            allowedNamespaces:
              from: All
          subjects:
          - apiGroup: apps
            kind: Deployment
          variables:
          - name: dbName
            required: true
            pattern: '^[a-z]+$'
          - name: mode
            default: fast
            enum: [fast, thorough]
          template:
            target:
              apiVersion: "${targetAPIVersion}"
              kind: "${targetKind}"
              name: "${targetName}"
            storage:
              name: default
              namespace: cairn-system
            sessions:
            - name: nightly
              schedule: "0 1 * * *"
              retention:
                keepDaily: ${keep:=7}
            hooks:
              preBackup:
              - name: dump
                exec:
                  command: [dump, "${dbName}", "${mode}"]

        """

    static func deployment(_ name: String, namespace: String = "app", annotations: [String: String]) -> String {
        var text = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: \(name)
              namespace: \(namespace)
              annotations:

            """
        for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
            text += "    \(key): \"\(value)\"\n"
        }
        return text + "spec:\n  replicas: 1\n"
    }

    static let optIn = [
        "blueprint.cairn.dev/name": "nightly", "blueprint.cairn.dev/namespace": "cairn-system",
        "variables.cairn.dev/dbName": "orders",
    ]

    // MARK: - What works

    @Test func givenTheExamples_whenRendered_thenOutputMatchesTheGoldenFile() throws {
        let result = try CairnProcess.run(["render", "--blueprints", "blueprints", "--manifests", "examples"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        try assertGolden(result.stdout, "examples.yaml")
        let documents = try YAML.parseStream(result.stdout)
        #expect(documents.count == 6)
        #expect(documents.allSatisfy { $0["kind"] == "BackupConfiguration" })
    }

    @Test func givenTheExamples_whenRenderedAsJSON_thenAListMatchingTheGoldenFile() throws {
        let result = try CairnProcess.run(["render", "--blueprints", "blueprints", "--manifests", "examples", "-o", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        try assertGolden(result.stdout, "examples.json")
        let list = try JSON.parse(result.stdout)
        #expect(list["kind"] == "List")
        #expect(list["items"]?.sequence?.count == 6)
    }

    @Test func givenTheShopExample_whenExplained_thenEveryValueNamesItsSource() throws {
        let result = try CairnProcess.run(["render", "--blueprints", "blueprints", "--manifests", "examples/shop", "--explain"])
        #expect(result.status == 0, "\(result.stderr)")
        try assertGolden(result.stdout, "explain-shop.txt")
        #expect(result.stdout.contains("variables.cairn.dev/dbName"))
        #expect(result.stdout.contains("built-in"))
    }

    @Test func givenManifestsOnStandardInput_whenRendered_thenTheyAreRead() throws {
        let scratch = try Scratch()
        let blueprints = try scratch.write("bp.yaml", Self.blueprint)
        let result = try CairnProcess.run(
            ["render", "--blueprints", blueprints, "--manifests", "-"], stdin: Self.deployment("api", annotations: Self.optIn))
        #expect(result.status == 0, "\(result.stderr)")
        let config = try YAML.parse(result.stdout)
        #expect(config[path: "metadata", "name"] == "deployment-api")
        #expect(config[path: "metadata", "namespace"] == "app")
        #expect(config[path: "spec", "sessions"]?.sequence?.first?[path: "retention", "keepDaily"] == 7)
        #expect(config[path: "spec", "hooks", "preBackup"]?.sequence?.first?[path: "exec", "command"] == ["dump", "orders", "fast"])
    }

    @Test func givenHundredsOfFilesInNestedDirectories_whenRendered_thenEveryTargetRendersInPathOrder() throws {
        let scratch = try Scratch()
        try scratch.write("bp/nightly.yaml", Self.blueprint)
        for i in 0..<300 {
            try scratch.write(
                "repo/team-\(i % 7)/app-\(i)/deploy.yaml",
                Self.deployment("app-\(i)", namespace: "team-\(i % 7)", annotations: Self.optIn)
                    + "---\napiVersion: v1\nkind: Service\nmetadata: {name: app-\(i)}\n")
            try scratch.write("repo/team-\(i % 7)/app-\(i)/kustomization.yaml", "resources: [deploy.yaml]\n")
        }
        let result = try CairnProcess.run(["render", "--blueprints", "bp", "--manifests", "repo"], in: scratch.url)
        #expect(result.status == 0, "\(result.stderr)")
        let documents = try YAML.parseStream(result.stdout)
        #expect(documents.count == 300)
        #expect(Set(documents.compactMap { $0[path: "metadata", "name"]?.string }).count == 300)
    }

    @Test func givenAWorkloadNameOverTheLimits_whenRendered_thenTheNameIsShortenedStably() throws {
        let scratch = try Scratch()
        try scratch.write("bp.yaml", Self.blueprint)
        let long = String(repeating: "a", count: 240)
        try scratch.write("m.yaml", Self.deployment(long, annotations: Self.optIn))
        let first = try CairnProcess.run(["render", "--blueprints", "bp.yaml", "--manifests", "m.yaml"], in: scratch.url)
        let second = try CairnProcess.run(["render", "--blueprints", "bp.yaml", "--manifests", "m.yaml"], in: scratch.url)
        #expect(first.status == 0, "\(first.stderr)")
        let config = try YAML.parse(first.stdout)
        let name = try #require(config[path: "metadata", "name"]?.string)
        #expect(name.count <= 63)
        #expect(name.hasPrefix("deployment-aaaa"))
        #expect(first.stdout == second.stdout)
        for (_, value) in config[path: "metadata", "labels"]?.mapping?.map({ ($0.key, $0.value) }) ?? [] {
            #expect((value.string ?? "").count <= 63)
        }
    }

    // MARK: - Bad input: a clear error, exit 1, and nothing lost

    /// Each case: a manifest file's text, and what stderr must say.
    static let badManifests: [(String, String, [String])] = [
        ("malformed YAML", "apiVersion: apps/v1\nkind: [Deployment\n", ["m.yaml:3:1:", "flow sequence"]),
        ("duplicate keys", "apiVersion: apps/v1\nkind: Deployment\nkind: StatefulSet\n", ["m.yaml:3:1:", "\"kind\" already defined at line 2"]),
        ("cyclic alias", "apiVersion: v1\nkind: ConfigMap\ndata: &d\n  x: *d\n", ["m.yaml:4:6:", "refers to the node that contains it"]),
        ("missing variable", deployment("api", annotations: ["blueprint.cairn.dev/name": "nightly", "blueprint.cairn.dev/namespace": "cairn-system"]),
         ["Deployment app/api", "dbName", "variables.cairn.dev/dbName"]),
        ("pattern violation", deployment("api", annotations: optIn.merging(["variables.cairn.dev/dbName": "Orders!"]) { $1 }),
         ["dbName", "^[a-z]+$", "Orders!"]),
        ("enum violation", deployment("api", annotations: optIn.merging(["variables.cairn.dev/mode": "slow"]) { $1 }),
         ["mode", "slow", "fast", "thorough"]),
        ("missing blueprint", deployment("api", annotations: optIn.merging(["blueprint.cairn.dev/name": "nightlly"]) { $1 }),
         ["nightlly", "blueprint.cairn.dev/name"]),
        ("subject not allowed", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: app\n  annotations:\n    blueprint.cairn.dev/name: nightly\n    blueprint.cairn.dev/namespace: cairn-system\n    variables.cairn.dev/dbName: orders\n",
         ["StatefulSet app/db", "StatefulSet", "subjects"]),
        ("wrong type after substitution", deployment("api", annotations: optIn.merging(["variables.cairn.dev/keep": "seven"]) { $1 }),
         ["keepDaily", "integer", "keep"]),
        ("not a mapping", "- just\n- a list\n", ["m.yaml:1:1:", "expected a Kubernetes object"]),
    ]

    @Test("Given a bad manifest next to a good one, when rendered, then exit 1, a clear error, and the good one is still written",
          arguments: badManifests)
    func givenBadManifest_whenRendered_thenClearErrorAndGoodOneStillWritten(name: String, text: String, expected: [String]) throws {
        let scratch = try Scratch()
        try scratch.write("bp.yaml", Self.blueprint)
        try scratch.write("good.yaml", Self.deployment("good", annotations: Self.optIn))
        try scratch.write("m.yaml", text)
        let result = try CairnProcess.run(["render", "--blueprints", "bp.yaml", "--manifests", "good.yaml", "m.yaml"], in: scratch.url)
        #expect(result.status == 1, "\(name): \(result.stderr)")
        for fragment in expected {
            #expect(result.stderr.contains(fragment), "\(name): stderr lacks \(fragment):\n\(result.stderr)")
        }
        #expect(try YAML.parseStream(result.stdout).map { $0[path: "metadata", "name"] } == ["deployment-good"], "\(name)")
    }

    @Test func givenAYAMLBomb_whenRendered_thenItFailsFastAndSaysWhy() throws {
        let scratch = try Scratch()
        try scratch.write("bp.yaml", Self.blueprint)
        var bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { bomb += "  a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        try scratch.write("bomb.yaml", bomb)
        let result = try CairnProcess.run(["render", "--blueprints", "bp.yaml", "--manifests", "bomb.yaml"], in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("bomb.yaml:"))
        #expect(result.stderr.contains("YAML bomb"))
    }

    @Test func givenABinaryFile_whenRendered_thenItIsRefusedAsNotText() throws {
        let scratch = try Scratch()
        try scratch.write("bp.yaml", Self.blueprint)
        try scratch.write("cairn.yaml", Data([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00]))
        let result = try CairnProcess.run(["render", "--blueprints", "bp.yaml", "--manifests", "cairn.yaml"], in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("cairn.yaml"))
        #expect(result.stderr.contains("binary"))
    }

    @Test func givenEmptyInput_whenRendered_thenItSaysNothingWasFound() throws {
        let scratch = try Scratch()
        try scratch.write("bp.yaml", Self.blueprint)
        let result = try CairnProcess.run(["render", "--blueprints", "bp.yaml", "--manifests", "-"], stdin: "", in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no Kubernetes objects found"))
        #expect(result.stdout.isEmpty)
    }

    @Test func givenNoBlueprintsInTheBlueprintPaths_whenRendered_thenItSaysSo() throws {
        let scratch = try Scratch()
        try scratch.write("bp/readme.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        try scratch.write("m.yaml", Self.deployment("api", annotations: Self.optIn))
        let result = try CairnProcess.run(["render", "--blueprints", "bp", "--manifests", "m.yaml"], in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no BackupBlueprint found"))
    }

    static let badBlueprints: [(String, String, [String])] = [
        ("unknown field", blueprint.replacingOccurrences(of: "  variables:", with: "  variabels:"),
         ["bp.yaml:", "unknown field", "spec.variabels"]),
        ("wrong type in the blueprint", blueprint.replacingOccurrences(of: "required: true", with: "required: 3"),
         ["bp.yaml:", "spec.variables[0].required", "expected boolean"]),
        ("bad enum in the blueprint", blueprint.replacingOccurrences(of: "from: All", with: "from: Everyone"),
         ["bp.yaml:", "spec.usagePolicy.allowedNamespaces.from", "Everyone", "Selector"]),
        ("namespace not allowed", blueprint.replacingOccurrences(of: "from: All", with: "from: Same"),
         ["Deployment app/api", "cairn-system", "usagePolicy"]),
        ("unknown field in the template", blueprint.replacingOccurrences(of: "      retention:", with: "      retension:"),
         ["spec.template.sessions[0].retension", "unknown field"]),
        ("malformed blueprint YAML", blueprint + "  extra: [\n", ["bp.yaml:"]),
    ]

    @Test("Given a bad blueprint, when rendered, then exit 1 and an error naming the file, field and fix", arguments: badBlueprints)
    func givenBadBlueprint_whenRendered_thenErrorNamesFileAndField(name: String, text: String, expected: [String]) throws {
        let scratch = try Scratch()
        try scratch.write("bp.yaml", text)
        try scratch.write("m.yaml", Self.deployment("api", annotations: Self.optIn))
        let result = try CairnProcess.run(["render", "--blueprints", "bp.yaml", "--manifests", "m.yaml"], in: scratch.url)
        #expect(result.status == 1, "\(name): \(result.stderr)")
        for fragment in expected {
            #expect(result.stderr.contains(fragment), "\(name): stderr lacks \(fragment):\n\(result.stderr)")
        }
    }

    // MARK: - Bad usage: exit 2

    static let badUsage: [([String], String)] = [
        (["render", "--manifests", "examples"], "--blueprints"),
        (["render", "--blueprints", "blueprints"], "--manifests"),
        (["render", "--blueprints", "blueprints", "--manifests", "no/such/dir"], "no/such/dir: no such file or directory"),
        (["render", "--blueprints", "blueprints", "--manifests", "examples", "-o", "xml"], "xml"),
        (["render", "--blueprints", "-", "--manifests", "-"], "only once"),
        (["render", "--blueprints", "blueprints", "--manifests", "examples", "--bogus"], "--bogus"),
    ]

    @Test("Given bad usage, when run, then exit 2 and a message that says what to do", arguments: badUsage)
    func givenBadUsage_whenRun_thenExit2(arguments: [String], expected: String) throws {
        let result = try CairnProcess.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
    }
}
