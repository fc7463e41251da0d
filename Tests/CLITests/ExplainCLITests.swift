import CairnTesting
import Foundation
import Testing
import YAML

/// `cairn explain --manifests` as a user runs it: the real binary, real files, real exit codes.
@Suite struct ExplainCLITests {
    /// Runs `cairn explain` in the package root.
    static func explain(_ arguments: [String], stdin: String? = nil) async throws -> ProcessOutput {
        try await Processes.run(CairnProcess.binary.path, ["explain"] + arguments, stdin: stdin, in: CairnProcess.root)
    }

    /// The shop's configurations as `cairn render` writes them, in a scratch file, edited by `edit`.
    static func renderedShop(in scratch: Scratch, edit: (String) -> String = { $0 }) async throws -> String {
        let rendered = try await Processes.run(
            CairnProcess.binary.path, ["render", "--blueprints", "blueprints", "--manifests", "examples/shop"], in: CairnProcess.root)
        try #require(rendered.status == 0, "\(rendered.stderr)")
        return try scratch.write("live.yaml", edit(rendered.stdout))
    }

    static let shop = ["sts/orders-db", "-n", "shop", "--manifests", "blueprints", "crds", "examples/shop"]

    // MARK: - What works

    @Test func givenTheShopAndItsRenderedConfiguration_whenExplained_thenEveryValueHasASourceAndItIsInStep() async throws {
        let scratch = try Scratch()
        let live = try await Self.renderedShop(in: scratch)

        let result = try await Self.explain(Self.shop + [live])

        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.isEmpty)
        try assertGolden(result.stdout, "explain-in-step.txt")
    }

    @Test func givenALiveConfigurationEditedByHand_whenExplained_thenTheDiffShowsLiveAgainstRenderedAndExit1() async throws {
        let scratch = try Scratch()
        let live = try await Self.renderedShop(in: scratch) { $0.replacingOccurrences(of: "keepDaily: 7", with: "keepDaily: 3") }

        let result = try await Self.explain(Self.shop + [live])

        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        try assertGolden(result.stdout, "explain-drift.txt")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("live BackupConfiguration shop/statefulset-orders-db: drifted; the controller puts it back (- live, + rendered):"))
        #expect(lines.contains("-      keepDaily: 3"))
        #expect(lines.contains("+      keepDaily: 7"))
        #expect(lines.filter { $0.hasPrefix("-") || $0.hasPrefix("+") }.count == 4, "--- and +++, then one line each way")
    }

    @Test func givenNoLiveConfiguration_whenExplained_thenItIsNotCreatedYetAndExit1() async throws {
        let result = try await Self.explain(Self.shop)

        #expect(result.status == 1)
        #expect(result.stdout.hasSuffix("live BackupConfiguration shop/statefulset-orders-db: not created yet (in the manifests)\n"), "\(result.stdout)")
    }

    @Test func givenAMissingVariable_whenExplained_thenTheProblemNamesTheAnnotationToSet() async throws {
        let scratch = try Scratch()
        let blueprint = try scratch.write("bp.yaml", RenderCLITests.blueprint)
        var annotations = RenderCLITests.optIn
        annotations["variables.cairn.dev/dbName"] = nil
        let deployment = try scratch.write("api.yaml", RenderCLITests.deployment("api", annotations: annotations))

        let result = try await Self.explain(["deploy/api", "-n", "app", "--manifests", blueprint, deployment])

        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "Deployment app/api (\(deployment):1:1)")
        #expect(lines.contains("  blueprint: BackupBlueprint cairn-system/nightly (\(blueprint))"), "\(result.stdout)")
        #expect(lines.contains("  cannot render: 1 problem:"))
        #expect(lines.contains { $0.hasPrefix("    - MissingVariable: ") && $0.contains("dbName") }, "\(result.stdout)")
        #expect(lines.contains("        fix: set annotation variables.cairn.dev/dbName on Deployment app/api"), "\(result.stdout)")
        #expect(lines.contains("live BackupConfiguration app/deployment-api: not created yet"))
    }

    @Test func givenAWorkloadWithoutTheAnnotation_whenExplained_thenNoBlueprintAppliesAndItSaysHowToOptIn() async throws {
        let result = try await Self.explain(
            ["deploy/plain", "-n", "app", "--manifests", "-"], stdin: RenderCLITests.deployment("plain", annotations: [:]))

        #expect(result.status == 1)
        #expect(result.stdout == """
            Deployment app/plain (-:1:1)
              no blueprint applies: it has no annotation blueprint.cairn.dev/name
                fix: set annotation blueprint.cairn.dev/name to the BackupBlueprint to use (and blueprint.cairn.dev/namespace when it lives in another namespace)
            live BackupConfiguration app/deployment-plain: none
            note: no BackupConfiguration CRD (backupconfigurations.cairn.dev) among the manifests: lone ${...} references are typed as written; add crds/ to --manifests to type them as the cluster does

            """)
    }

    static let liveStates: [(name: String, edit: @Sendable (String) -> String, status: Int32, line: String)] = [
        ("detached and unchanged", { $0.replacingOccurrences(of: "    cairn.dev/rendered-hash:", with: "    cairn.dev/managed: \"false\"\n    cairn.dev/rendered-hash:") }, 0,
         "live BackupConfiguration shop/statefulset-orders-db: detached (cairn.dev/managed: \"false\"); the controller leaves it alone, and it matches the rendered one"),
        ("detached and edited", {
            $0.replacingOccurrences(of: "    cairn.dev/rendered-hash:", with: "    cairn.dev/managed: \"false\"\n    cairn.dev/rendered-hash:")
                .replacingOccurrences(of: "keepDaily: 7", with: "keepDaily: 3")
        }, 1, "live BackupConfiguration shop/statefulset-orders-db: detached (cairn.dev/managed: \"false\"); the controller leaves it alone; it differs from the rendered one:"),
        ("user-owned", { $0.replacingOccurrences(of: "app.kubernetes.io/managed-by: cairn", with: "app.kubernetes.io/managed-by: helm") }, 1,
         "live BackupConfiguration shop/statefulset-orders-db: not Cairn's: it lacks the label app.kubernetes.io/managed-by: cairn or an ownerReference to the StatefulSet, so the controller leaves it alone and reports a NameConflict; rename or delete that configuration, or remove annotation blueprint.cairn.dev/name from the StatefulSet"),
    ]

    @Test("Given a live configuration that is detached or someone else's, when explained, then a note says so", arguments: liveStates)
    func givenADetachedOrUserOwnedConfiguration_whenExplained_thenANoteSaysWhoOwnsIt(
        name: String, edit: @Sendable (String) -> String, status: Int32, line: String
    ) async throws {
        let scratch = try Scratch()
        let live = try await Self.renderedShop(in: scratch, edit: edit)

        let result = try await Self.explain(Self.shop + [live])

        #expect(result.status == status, "\(result.stdout)")
        #expect(result.stdout.split(separator: "\n").map(String.init).contains(line), "\(result.stdout)")
    }

    @Test("Given the kind spelled as kubectl spells it, when explained, then it finds the target",
          arguments: ["sts", "statefulset", "StatefulSet", "STATEFULSETS"])
    func givenAKindAlias_whenExplained_thenItFindsTheTarget(kind: String) async throws {
        let result = try await Self.explain(["\(kind)/orders-db", "-n", "shop", "--manifests", "blueprints", "examples/shop"])

        #expect(result.stdout.hasPrefix("StatefulSet shop/orders-db (examples/shop/orders-db.yaml:2:1)\n"), "\(result.stdout)\(result.stderr)")
    }

    // MARK: - What fails

    @Test func givenATargetThatIsNotInTheManifests_whenExplained_thenExit1NamingIt() async throws {
        let result = try await Self.explain(["deploy/nope", "-n", "shop", "--manifests", "examples/shop"])

        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("cairn explain: Deployment shop/nope not found in the manifests ("), "\(result.stderr)")
    }

    static let badUsage: [([String], String)] = [
        (["explain", "fo:o/db", "--manifests", "examples"], "\"fo:o\" in fo:o/db is not a kind"),
        (["explain", "db", "--manifests", "examples"], "\"db\" is not <kind>/<name>"),
        (["explain", "deploy/", "--manifests", "examples"], "is not <kind>/<name>"),
        (["explain", "deploy/db", "--manifests", "examples", "--kubeconfig", "k"], "--manifests reads files, not a cluster"),
        (["explain", "deploy/db", "--manifests", "no/such/dir"], "no/such/dir: no such file or directory"),
        (["explain"], "Missing expected argument"),
    ]

    @Test("Given bad usage, when explained, then exit 2 and a message that says what to do", arguments: badUsage)
    func givenBadUsage_whenExplained_thenExit2(arguments: [String], expected: String) async throws {
        let result = try await Processes.run(CairnProcess.binary.path, arguments, in: CairnProcess.root)

        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
    }
}
