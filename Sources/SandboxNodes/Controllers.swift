import Foundation
import Kube
import Logging
import Synchronization
import YAML

/// Deployments, StatefulSets and DaemonSets get their Pods (and StatefulSets their claims), each
/// Pod placed on a sandbox node; each workload's status follows its Pods.
struct WorkloadController: Component {
    let name = "workload-controller"
    let watches = [Resources.deployments, Resources.statefulSets, Resources.daemonSets, Resources.pods, Resources.claims]
    let cluster: Cluster
    let nodes: [String]

    func reconcile() async throws -> Duration? {
        let pods = cluster.objects(Resources.pods)
        let podsByOwner = Dictionary(grouping: pods.filter { $0.controllerUID != nil }, by: { $0.controllerUID ?? "" })
        let claims = Set(cluster.objects(Resources.claims).map { "\($0.namespace)/\($0.name)" })
        for (kind, resource) in [(WorkloadKind.deployment, Resources.deployments), (.statefulSet, Resources.statefulSets), (.daemonSet, Resources.daemonSets)] {
            for workload in cluster.objects(resource) where !workload.isDeleting {
                let inNamespace = Set(claims.filter { $0.hasPrefix(workload.namespace + "/") }.map { String($0.dropFirst(workload.namespace.count + 1)) })
                let plan = WorkloadPlan.plan(kind, workload: workload, ownedPods: podsByOwner[workload.uid] ?? [], claims: inNamespace, nodes: nodes)
                try await apply(plan, to: workload, resource: resource)
            }
        }
        return nil
    }

    private func apply(_ plan: WorkloadPlan, to workload: Node, resource: Resource) async throws {
        for claim in plan.claimsToCreate { try await cluster.create(Resources.claims, claim) }
        for pod in plan.podsToCreate { try await cluster.create(Resources.pods, pod) }
        for name in plan.podsToDelete { try await cluster.delete(Resources.pods, namespace: workload.namespace, name: name) }
        if let status = plan.status { try await cluster.patchStatus(resource, namespace: workload.namespace, name: workload.name, status) }
    }
}

/// Jobs get Pods, retried up to `backoffLimit`; each Job's status counts them and ends Complete
/// or Failed.
///
/// Pods are named by the server (generateName), so a Pod deleted by hand is replaced by a new
/// name, as the real controller does. Like its "expectations", a Pod just created is remembered
/// until the cache shows it, so a pass on a stale cache does not create a second one.
final class JobController: Component {
    let name = "job-controller"
    let watches = [Resources.jobs, Resources.pods]
    let cluster: Cluster
    let nodes: [String]
    /// Pods created and not yet seen in the cache, by Job uid, with when they were created.
    private let expected = Mutex<[String: (pod: String, at: ContinuousClock.Instant)]>([:])

    init(cluster: Cluster, nodes: [String]) {
        self.cluster = cluster
        self.nodes = nodes
    }

    func reconcile() async throws -> Duration? {
        let pods = cluster.objects(Resources.pods)
        let podsByOwner = Dictionary(grouping: pods.filter { $0.controllerUID != nil }, by: { $0.controllerUID ?? "" })
        var next: Duration?
        for job in cluster.objects(Resources.jobs) where !job.isDeleting {
            let owned = podsByOwner[job.uid] ?? []
            let plan = JobPlan.plan(job: job, ownedPods: owned, nodes: nodes, now: Date())
            if let pod = plan.podToCreate {
                if let wait = awaitingCreated(job.uid, seen: owned) {
                    next = min(next ?? wait, wait)
                } else {
                    let created = try await cluster.client.create(Resources.pods, pod)
                    expected.withLock { $0[job.uid] = (created.name, .now) }
                }
            }
            for name in plan.podsToDelete { try await cluster.delete(Resources.pods, namespace: job.namespace, name: name) }
            if let status = plan.status { try await cluster.patchStatus(Resources.jobs, namespace: job.namespace, name: job.name, status) }
        }
        return next
    }

    /// How long to wait for the cache to show the Job's last created Pod; nil when it does (or
    /// ten seconds passed: it was deleted before the cache could see it).
    private func awaitingCreated(_ job: String, seen: [Node]) -> Duration? {
        expected.withLock { expected in
            guard let (pod, at) = expected[job] else { return nil }
            let waited = ContinuousClock.now - at
            if seen.contains(where: { $0.name == pod }) || waited > .seconds(10) {
                expected[job] = nil
                return nil
            }
            return .seconds(10) - waited
        }
    }
}

/// Registers the sandbox nodes: a Node object each, Ready.
struct NodeRegistrar {
    let cluster: Cluster

    func register(_ names: [String]) async throws {
        for name in names {
            try await cluster.create(Resources.nodes, .mapping([
                "apiVersion": "v1", "kind": "Node",
                "metadata": .mapping(["name": .string(name), "labels": .strings([
                    "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "node.cairn.dev/sandbox": "true",
                ])]),
                "spec": .mapping([:]),
            ]))
            try await cluster.patchStatus(Resources.nodes, namespace: nil, name: name, Self.status(name, now: Date()))
        }
    }

    static func status(_ name: String, now: Date) -> Node {
        let capacity: Node = .mapping(["cpu": "2", "memory": "4Gi", "pods": "110"])
        return .mapping([
            "conditions": [condition("Ready", true, reason: "KubeletReady", message: "kubelet is posting ready status", at: now)],
            "addresses": [.mapping(["type": "InternalIP", "address": "127.0.0.1"]), .mapping(["type": "Hostname", "address": .string(name)])],
            "capacity": capacity, "allocatable": capacity,
            "nodeInfo": .mapping(["kubeletVersion": "v1.32.0-cairn-sandbox", "operatingSystem": "linux", "architecture": "amd64",
                                  "containerRuntimeVersion": "cairn-sandbox://local-processes", "osImage": "cairn sandbox",
                                  "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "systemUUID": "", "bootID": ""]),
        ])
    }
}
