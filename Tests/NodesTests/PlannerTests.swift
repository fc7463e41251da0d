import Foundation
@testable import SandboxNodes
import Testing
import YAML

/// The components' decisions, one transition at a time, without a server.
@Suite struct PlannerTests {
    static let nodes = ["sandbox-node-1", "sandbox-node-2"]

    static func workload(_ kind: String, replicas: Int, claimTemplate: Bool = false) -> Node {
        var spec: Node = .mapping([
            "replicas": .int(replicas), "selector": .mapping(["matchLabels": .mapping(["app": "web"])]),
            "template": .mapping(["metadata": .mapping(["labels": .mapping(["app": "web"])]),
                                  "spec": .mapping(["containers": [.mapping(["name": "app", "image": "nginx"])]])]),
        ])
        if claimTemplate {
            spec["volumeClaimTemplates"] = [.mapping(["metadata": .mapping(["name": "data"]), "spec": .mapping(["accessModes": ["ReadWriteOnce"]])])]
        }
        return .mapping(["apiVersion": "apps/v1", "kind": .string(kind),
                         "metadata": .mapping(["name": "web", "namespace": "app", "uid": "u-1", "generation": 4]), "spec": spec])
    }

    static func pod(_ name: String, owner: String = "u-1", phase: String = "Running", ready: Bool = true, labels: [String: String] = [:]) -> Node {
        .mapping([
            "metadata": .mapping(["name": .string(name), "namespace": "app", "uid": .string("pod-\(name)"), "labels": .strings(labels),
                                  "ownerReferences": [.mapping(["uid": .string(owner), "controller": true])]]),
            "spec": .mapping(["nodeName": "sandbox-node-1"]),
            "status": .mapping(["phase": .string(phase), "conditions": [.mapping(["type": "Ready", "status": .string(ready ? "True" : "False")])]]),
        ])
    }

    @Test func givenADeploymentWithoutPods_WhenPlanned_ThenItCreatesOwnedPodsSpreadOverTheNodes() {
        let plan = WorkloadPlan.plan(.deployment, workload: Self.workload("Deployment", replicas: 3), ownedPods: [], claims: [], nodes: Self.nodes)

        #expect(plan.podsToCreate.count == 3)
        #expect(Set(plan.podsToCreate.map(\.name)).count == 3)
        let hash = WorkloadPlan.templateHash(Self.workload("Deployment", replicas: 3))
        for pod in plan.podsToCreate {
            #expect(pod.name.hasPrefix("web-\(hash)-"))
            #expect(pod[path: "metadata", "labels", "app"]?.string == "web")
            #expect(pod[path: "metadata", "labels", "pod-template-hash"]?.string == hash)
            #expect(pod.isControlled(by: Self.workload("Deployment", replicas: 3)))
        }
        #expect(plan.podsToCreate.compactMap { $0[path: "spec", "nodeName"]?.string }.sorted() == ["sandbox-node-1", "sandbox-node-1", "sandbox-node-2"])
        #expect(plan.status?["observedGeneration"]?.int == 4)
    }

    @Test func givenTheSameDeploymentTwice_WhenPlanned_ThenPodNamesAreTheSame() {
        let first = WorkloadPlan.plan(.deployment, workload: Self.workload("Deployment", replicas: 2), ownedPods: [], claims: [], nodes: Self.nodes)
        let second = WorkloadPlan.plan(.deployment, workload: Self.workload("Deployment", replicas: 2), ownedPods: [], claims: [], nodes: Self.nodes)
        #expect(first.podsToCreate.map(\.name) == second.podsToCreate.map(\.name))
    }

    @Test func givenThreePodsAndOneReplica_WhenPlanned_ThenTwoAreDeletedNotReadyFirst() {
        let workload = Self.workload("Deployment", replicas: 1)
        let hash = WorkloadPlan.templateHash(workload)
        let pods = [Self.pod("a", labels: ["pod-template-hash": hash]), Self.pod("b", ready: false, labels: ["pod-template-hash": hash]),
                    Self.pod("c", labels: ["pod-template-hash": hash])]

        let plan = WorkloadPlan.plan(.deployment, workload: workload, ownedPods: pods, claims: [], nodes: Self.nodes)
        #expect(plan.podsToCreate.isEmpty)
        #expect(plan.podsToDelete == ["b", "c"])
        #expect(plan.status?["replicas"]?.int == 1)
    }

    @Test func givenAStatefulSetWithAClaimTemplate_WhenPlanned_ThenOrdinalsGetPodsAndClaims() {
        let plan = WorkloadPlan.plan(.statefulSet, workload: Self.workload("StatefulSet", replicas: 2, claimTemplate: true),
                                     ownedPods: [Self.pod("web-0"), Self.pod("web-5")], claims: ["data-web-0"], nodes: Self.nodes)
        #expect(plan.podsToCreate.map(\.name) == ["web-1"])
        #expect(plan.podsToDelete == ["web-5"])
        #expect(plan.claimsToCreate.map(\.name) == ["data-web-1"])
        #expect(plan.claimsToCreate.first?[path: "metadata", "labels", "app"]?.string == "web")
        let volume = plan.podsToCreate.first?[path: "spec", "volumes"]?.sequence?.first
        #expect(volume?[path: "persistentVolumeClaim", "claimName"]?.string == "data-web-1")
        #expect(plan.podsToCreate.first?[path: "spec", "nodeName"]?.string == "sandbox-node-2")
    }

    @Test func givenADaemonSet_WhenPlanned_ThenEachNodeGetsOnePod() {
        let plan = WorkloadPlan.plan(.daemonSet, workload: Self.workload("DaemonSet", replicas: 1), ownedPods: [Self.pod("web-old")], claims: [], nodes: Self.nodes)
        #expect(plan.podsToCreate.compactMap { $0[path: "spec", "nodeName"]?.string } == ["sandbox-node-2"])
        #expect(plan.podsToDelete.isEmpty)
        #expect(plan.status?["desiredNumberScheduled"]?.int == 2)
    }

    @Test func givenAStatusAlreadyWritten_WhenPlannedAgain_ThenNothingIsWritten() {
        var workload = Self.workload("StatefulSet", replicas: 1)
        let pods = [Self.pod("web-0")]
        workload["status"] = WorkloadPlan.plan(.statefulSet, workload: workload, ownedPods: pods, claims: [], nodes: Self.nodes).status
        #expect(WorkloadPlan.plan(.statefulSet, workload: workload, ownedPods: pods, claims: [], nodes: Self.nodes) == WorkloadPlan())
    }

    static func job(backoffLimit: Int = 1) -> Node {
        .mapping(["metadata": .mapping(["name": "backup", "namespace": "app", "uid": "job-1"]),
                  "spec": .mapping(["backoffLimit": .int(backoffLimit), "template": .mapping(["metadata": .mapping(["labels": .mapping(["team": "a"])]),
                                                                                              "spec": .mapping(["restartPolicy": "Never"])])])])
    }

    @Test(arguments: [
        (pods: [String](), create: true, condition: String?.none, failed: 0),
        (pods: ["Running"], create: false, condition: nil, failed: 0),
        (pods: ["Failed"], create: true, condition: nil, failed: 1),
        (pods: ["Failed", "Failed"], create: false, condition: "Failed", failed: 2),
        (pods: ["Failed", "Succeeded"], create: false, condition: "Complete", failed: 1),
    ])
    func givenAJobsPods_WhenPlanned_ThenItRetriesUpToTheBackoffLimit(pods: [String], create: Bool, condition: String?, failed: Int) {
        let owned = pods.enumerated().map { Self.pod("p\($0.offset)", owner: "job-1", phase: $0.element) }
        let plan = JobPlan.plan(job: Self.job(), ownedPods: owned, nodes: Self.nodes, now: Date())

        #expect((plan.podToCreate != nil) == create)
        #expect(plan.status?["failed"]?.int == failed)
        let conditions = (plan.status?["conditions"]?.sequence ?? []).filter { $0["status"]?.string == "True" }.compactMap { $0["type"]?.string }
        #expect(conditions.contains { $0 == "Complete" || $0 == "Failed" } == (condition != nil))
        if let condition { #expect(conditions.contains(condition)) }
        if let pod = plan.podToCreate {
            #expect(pod[path: "metadata", "labels", "job-name"]?.string == "backup")
            #expect(pod[path: "metadata", "labels", "team"]?.string == "a")
            #expect(pod.controllerUID == "job-1")
            #expect(pod[path: "metadata", "generateName"]?.string == "backup-")
        }
    }

    static let launcher = PodLauncher(layout: NodeLayout(root: URL(fileURLWithPath: "/sandbox")), cairnBinary: "/opt/cairn/bin/cairn",
                                      cairnImageMarker: "cairn", baseEnvironment: ["PATH": "/usr/bin:/bin"])

    @Test(arguments: [
        (image: "ghcr.io/cairn/cairn:1.0", command: [String](), args: ["agent", "backup"], expected: ["/opt/cairn/bin/cairn", "agent", "backup"]),
        (image: "ghcr.io/cairn/cairn:1.0", command: ["/usr/local/bin/cairn", "agent"], args: ["--json"], expected: ["/opt/cairn/bin/cairn", "agent", "--json"]),
        (image: "ghcr.io/cairn/cairn:1.0", command: ["sh", "-c"], args: ["true"], expected: ["sh", "-c", "true"]),
        (image: "postgres:16", command: ["pg_dump", "$(DB)"], args: ["$$HOME"], expected: ["pg_dump", "shop", "$HOME"]),
    ])
    func givenAContainer_WhenItsCommandIsResolved_ThenCairnsImageRunsTheLocalBinary(image: String, command: [String], args: [String], expected: [String]) throws {
        let container: Node = .mapping(["name": "c", "image": .string(image), "command": .sequence(command.map { .string($0) }),
                                        "args": .sequence(args.map { .string($0) })])
        let (executable, arguments) = try Self.launcher.command(of: container, env: [("DB", "shop")])
        #expect([executable] + arguments == expected)
    }

    @Test func givenAnImageWithoutACommand_WhenResolved_ThenTheProblemSaysToSetOne() {
        let container: Node = .mapping(["name": "db", "image": "postgres:16"])
        #expect(throws: LaunchProblem.self) { try Self.launcher.command(of: container, env: []) }
    }

    @Test func givenEnvFromSecretsAndConfigMaps_WhenResolved_ThenValuesAreReadAndMissingOnesNamed() async throws {
        let secret: Node = .mapping(["data": .mapping(["password": .string(Data("pw".utf8).base64EncodedString())])])
        let config: Node = .mapping(["data": .mapping(["mode": "fast"])])
        let lookup: PodLauncher.Lookup = { plural, name in
            switch (plural, name) {
            case ("secrets", "db"): secret
            case ("configmaps", "settings"): config
            default: nil
            }
        }
        let pod: Node = .mapping(["metadata": .mapping(["name": "p", "namespace": "app"])])
        let container: Node = .mapping(["env": [
            .mapping(["name": "PASSWORD", "valueFrom": .mapping(["secretKeyRef": .mapping(["name": "db", "key": "password"])])]),
            .mapping(["name": "MODE", "valueFrom": .mapping(["configMapKeyRef": .mapping(["name": "settings", "key": "mode"])])]),
            .mapping(["name": "URL", "value": "db://$(PASSWORD)@host"]),
            .mapping(["name": "POD", "valueFrom": .mapping(["fieldRef": .mapping(["fieldPath": "metadata.name"])])]),
        ]])
        let env = try await Self.launcher.environment(of: container, in: pod, lookup: lookup)
        #expect(env.map { "\($0.0)=\($0.1)" } == ["PASSWORD=pw", "MODE=fast", "URL=db://pw@host", "POD=p"])

        let missingKey: Node = .mapping(["env": [.mapping(["name": "X", "valueFrom": .mapping(["secretKeyRef": .mapping(["name": "db", "key": "user"])])])]])
        do {
            _ = try await Self.launcher.environment(of: missingKey, in: pod, lookup: lookup)
            Issue.record("a missing key must fail")
        } catch {
            #expect(error == LaunchProblem(reason: "CreateContainerConfigError", message: "couldn't find key user in Secret app/db"))
        }
        let optional: Node = .mapping(["env": [.mapping(["name": "X", "valueFrom": .mapping(["configMapKeyRef": .mapping(["name": "gone", "key": "k", "optional": true])])])]])
        #expect(try await Self.launcher.environment(of: optional, in: pod, lookup: lookup).isEmpty)
    }

    @Test func givenVolumeMounts_WhenMapped_ThenEachMountPathNamesItsHostDirectory() throws {
        let container: Node = .mapping(["name": "c", "volumeMounts": [.mapping(["name": "data", "mountPath": "/data"]),
                                                                      .mapping(["name": "data", "mountPath": "/logs", "subPath": "logs"])]])
        let mounts = try Self.launcher.mounts(of: container, volumes: ["data": "/sandbox/volumes/app/data"])
        #expect(mounts == ["/data": "/sandbox/volumes/app/data", "/logs": "/sandbox/volumes/app/data/logs"])
        #expect(throws: LaunchProblem.self) { try Self.launcher.mounts(of: container, volumes: [:]) }
    }
}
