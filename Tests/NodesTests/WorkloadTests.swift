import CairnTesting
import Foundation
import Kube
@testable import SandboxNodes
import Testing
import YAML

/// Deployments, StatefulSets and DaemonSets get Pods on the sandbox nodes.
@Suite struct WorkloadTests {
    static func workload(_ kind: String, _ name: String, in namespace: String, replicas: Int? = nil, extraSpec: [Node.Pair] = []) -> Node {
        var spec: Node = .mapping([
            "selector": .mapping(["matchLabels": .mapping(["app": .string(name)])]),
            "template": .mapping([
                "metadata": .mapping(["labels": .mapping(["app": .string(name)])]),
                "spec": .mapping(["containers": [.mapping(["name": "app", "image": "nginx"])]]),
            ]),
        ])
        if let replicas { spec["replicas"] = .int(replicas) }
        for pair in extraSpec { spec[pair.key.string ?? ""] = pair.value }
        return .mapping(["apiVersion": "apps/v1", "kind": .string(kind),
                         "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]), "spec": spec])
    }

    @Test func givenADeploymentOfThree_WhenScaledDownToOne_ThenItsPodsFollowAndRunOnTheNodes() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { _ in
                let nodes = try await cluster.eventually("the nodes to register") {
                    let nodes = try await cluster.client.list(R.nodes).items
                    return nodes.count == 2 && nodes.allSatisfy { $0.condition("Ready") == "True" } ? nodes : nil
                }
                let names = Set(nodes.compactMap { $0[path: "metadata", "name"]?.string })
                #expect(names == ["sandbox-node-1", "sandbox-node-2"])
                #expect(nodes.first?.condition("Ready") == "True")

                let created = try await cluster.client.create(R.deployments, Self.workload("Deployment", "web", in: cluster.namespace, replicas: 3))
                let ready = try await cluster.eventually("three ready replicas") {
                    let web = try await cluster.read(R.deployments, "web")
                    return web?[path: "status", "readyReplicas"]?.int == 3 ? web : nil
                }
                #expect(ready[path: "status", "observedGeneration"]?.int == created[path: "metadata", "generation"]?.int)
                #expect(ready[path: "status", "availableReplicas"]?.int == 3)
                let pods = try await cluster.pods("app=web")
                #expect(pods.count == 3)
                #expect(Set(pods.compactMap { $0[path: "spec", "nodeName"]?.string }) == ["sandbox-node-1", "sandbox-node-2"])
                for pod in pods {
                    let name = try #require(pod[path: "metadata", "name"]?.string)
                    let hash = try #require(pod[path: "metadata", "labels", "pod-template-hash"]?.string)
                    #expect(name.hasPrefix("web-\(hash)-") && name.count == "web-".count + hash.count + 6)
                    #expect(pod[path: "metadata", "ownerReferences"]?.sequence?.first?["controller"]?.bool == true)
                    #expect(pod[path: "status", "phase"]?.string == "Running")
                }

                _ = try await cluster.client.patch(R.deployments, namespace: cluster.namespace, name: "web", .mapping(["spec": .mapping(["replicas": 1])]))
                let scaled = try await cluster.eventually("one replica") {
                    let web = try await cluster.read(R.deployments, "web")
                    return web?[path: "status", "replicas"]?.int == 1 && web?[path: "status", "observedGeneration"]?.int == 2 ? web : nil
                }
                #expect(scaled[path: "status", "readyReplicas"]?.int == 1)
                #expect(try await cluster.pods("app=web").count == 1)
            }
        }
    }

    @Test func givenAStatefulSetWithAClaimTemplate_WhenCreated_ThenEachOrdinalGetsAPodAndABoundClaim() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { root in
                let template: Node = .mapping([
                    "metadata": .mapping(["name": "data"]),
                    "spec": .mapping(["accessModes": ["ReadWriteOnce"], "resources": .mapping(["requests": .mapping(["storage": "1Gi"])])]),
                ])
                _ = try await cluster.client.create(R.statefulSets, Self.workload(
                    "StatefulSet", "db", in: cluster.namespace, replicas: 2,
                    extraSpec: [Node.Pair(key: "serviceName", value: "db"), Node.Pair(key: "volumeClaimTemplates", value: [template])]))

                _ = try await cluster.eventually("two ready replicas") {
                    try await cluster.read(R.statefulSets, "db")?[path: "status", "readyReplicas"]?.int == 2 ? true : nil
                }
                let pods = try await cluster.pods("app=db").compactMap { $0[path: "metadata", "name"]?.string }.sorted()
                #expect(pods == ["db-0", "db-1"])
                for ordinal in 0..<2 {
                    let claim = try await cluster.eventually("claim data-db-\(ordinal) bound") {
                        let claim = try await cluster.read(R.claims, "data-db-\(ordinal)")
                        return claim?[path: "status", "phase"]?.string == "Bound" ? claim : nil
                    }
                    #expect(claim[path: "metadata", "labels", "app"]?.string == "db")
                    #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("volumes/\(cluster.namespace)/data-db-\(ordinal)").path))
                    let pod = try #require(try await cluster.read(R.pods, "db-\(ordinal)"))
                    let volume = pod[path: "spec", "volumes"]?.sequence?.first { $0["name"]?.string == "data" }
                    #expect(volume?[path: "persistentVolumeClaim", "claimName"]?.string == "data-db-\(ordinal)")
                }
            }
        }
    }

    @Test func givenADaemonSet_WhenCreated_ThenEveryNodeRunsOnePod() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes(nodes: 3) { _ in
                _ = try await cluster.client.create(R.daemonSets, Self.workload("DaemonSet", "agent", in: cluster.namespace))

                let status = try await cluster.eventually("three ready pods") {
                    let status = try await cluster.read(R.daemonSets, "agent")?["status"]
                    return status?["numberReady"]?.int == 3 ? status : nil
                }
                #expect(status["desiredNumberScheduled"]?.int == 3)
                let nodes = try await cluster.pods("app=agent").compactMap { $0[path: "spec", "nodeName"]?.string }.sorted()
                #expect(nodes == ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"])
            }
        }
    }
}
