import Foundation
import YAML

/// The workload kinds that own Pods directly in the sandbox.
public enum WorkloadKind: String, Sendable, CaseIterable {
    case deployment = "Deployment"
    case statefulSet = "StatefulSet"
    case daemonSet = "DaemonSet"
}

/// What the workload controller should write for one workload: pure, no I/O.
///
/// Deployments own their Pods directly (no ReplicaSet in between) and replace every Pod of an older
/// template at once, as the `Recreate` strategy does. StatefulSets create Pods in parallel (as
/// `podManagementPolicy: Parallel`) and keep their claims on scale-down (the default `Retain`).
struct WorkloadPlan: Equatable {
    /// Pods to create.
    var podsToCreate: [Node] = []
    /// Names of Pods to delete.
    var podsToDelete: [String] = []
    /// PersistentVolumeClaims to create (StatefulSet volumeClaimTemplates).
    var claimsToCreate: [Node] = []
    /// The status to write through `/status`, when it differs from the current one.
    var status: Node?

    /// Plans one pass for `workload`, given the Pods it controls, the claim names present in its
    /// namespace and the node names.
    static func plan(_ kind: WorkloadKind, workload: Node, ownedPods: [Node], claims: Set<String>, nodes: [String]) -> WorkloadPlan {
        let live = ownedPods.filter { !$0.isDeleting }
        var plan = switch kind {
        case .deployment: deployment(workload, live, nodes)
        case .statefulSet: statefulSet(workload, live, claims, nodes)
        case .daemonSet: daemonSet(workload, live, nodes)
        }
        let remaining = live.filter { !plan.podsToDelete.contains($0.name) }
        let desired = status(kind, workload: workload, pods: remaining, nodes: nodes)
        plan.status = StatusComparison.differs(desired, from: workload["status"]) ? desired : Node?.none
        return plan
    }

    /// The `pod-template-hash` of a workload's template: ten characters, stable for one template.
    static func templateHash(_ workload: Node) -> String {
        let text: String
        do {
            text = try JSON.emit(workload[path: "spec", "template"] ?? .null)
        } catch {
            text = "\(error)"  // only a tree deeper than the parser accepts fails; its error is as stable as the tree
        }
        return ShortHash.suffix(text, count: 10)
    }

    private static func deployment(_ workload: Node, _ pods: [Node], _ nodes: [String]) -> WorkloadPlan {
        var plan = WorkloadPlan()
        let hash = templateHash(workload)
        let (current, old) = pods.partitioned { $0[path: "metadata", "labels", "pod-template-hash"]?.string == hash }
        plan.podsToDelete = old.map(\.name)
        let desired = replicas(workload)
        if current.count > desired {
            plan.podsToDelete += current.sorted(by: preferredForRemoval).prefix(current.count - desired).map(\.name)
            return plan
        }
        var taken = Set(current.map(\.name))
        var perNode = Dictionary(grouping: current, by: { $0[path: "spec", "nodeName"]?.string ?? "" }).mapValues(\.count)
        var slot = 0
        while taken.count < desired, let node = leastUsed(nodes, perNode) {
            let name = "\(workload.name)-\(hash)-\(ShortHash.suffix("\(workload.uid)/\(hash)/\(slot)"))"
            slot += 1
            guard !taken.contains(name) else { continue }
            taken.insert(name)
            perNode[node, default: 0] += 1
            plan.podsToCreate.append(pod(from: workload, kind: .deployment, name: name, node: node, labels: ["pod-template-hash": hash]))
        }
        return plan
    }

    private static func statefulSet(_ workload: Node, _ pods: [Node], _ claims: Set<String>, _ nodes: [String]) -> WorkloadPlan {
        var plan = WorkloadPlan()
        let desired = replicas(workload)
        let names = Set(pods.map(\.name))
        let ordinals = (0..<desired).map { "\(workload.name)-\($0)" }
        plan.podsToDelete = pods.map(\.name).filter { !ordinals.contains($0) }.sorted()
        guard !nodes.isEmpty else { return plan }
        let templates = workload[path: "spec", "volumeClaimTemplates"]?.sequence ?? []
        for (ordinal, name) in ordinals.enumerated() {
            for template in templates {
                let claimName = "\(template.name)-\(name)"
                if !claims.contains(claimName) { plan.claimsToCreate.append(claim(from: template, workload: workload, name: claimName)) }
            }
            guard !names.contains(name) else { continue }
            var newPod = pod(from: workload, kind: .statefulSet, name: name, node: nodes[ordinal % nodes.count],
                             labels: ["statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": String(ordinal)])
            newPod.set(["spec", "hostname"], .string(name))
            for template in templates { mount(claim: "\(template.name)-\(name)", as: template.name, in: &newPod) }
            plan.podsToCreate.append(newPod)
        }
        return plan
    }

    private static func daemonSet(_ workload: Node, _ pods: [Node], _ nodes: [String]) -> WorkloadPlan {
        var plan = WorkloadPlan()
        let onNode = Dictionary(grouping: pods, by: { $0[path: "spec", "nodeName"]?.string ?? "" })
        for (node, podsThere) in onNode where !nodes.contains(node) { plan.podsToDelete += podsThere.map(\.name) }
        for node in nodes {
            let there = onNode[node] ?? []
            plan.podsToDelete += there.dropFirst().map(\.name)
            if there.isEmpty {
                let name = "\(workload.name)-\(ShortHash.suffix("\(workload.uid)/\(node)"))"
                plan.podsToCreate.append(pod(from: workload, kind: .daemonSet, name: name, node: node, labels: [:]))
            }
        }
        plan.podsToDelete.sort()
        return plan
    }

    /// A Pod from the workload's template, controlled by the workload and bound to `node`.
    static func pod(from workload: Node, kind: WorkloadKind, name: String, node: String, labels extra: [String: String]) -> Node {
        let template = workload[path: "spec", "template"] ?? .mapping([])
        var labels = template[path: "metadata", "labels"]?.stringMap ?? [:]
        labels.merge(extra) { _, new in new }
        var metadata: Node = .mapping(["name": .string(name), "namespace": .string(workload.namespace), "labels": .strings(labels),
                                       "ownerReferences": [controllerReference(to: workload, apiVersion: "apps/v1", kind: kind.rawValue)]])
        if let annotations = template[path: "metadata", "annotations"] { metadata["annotations"] = annotations }
        var spec = template["spec"] ?? .mapping([])
        spec["nodeName"] = .string(node)
        return .mapping(["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec])
    }

    /// A claim from a volumeClaimTemplate, labelled with the workload's selector as the StatefulSet
    /// controller does (and, like it, not owned: claims outlive their Pods).
    private static func claim(from template: Node, workload: Node, name: String) -> Node {
        var metadata = template["metadata"] ?? .mapping([])
        metadata["name"] = .string(name)
        metadata["namespace"] = .string(workload.namespace)
        var labels = metadata["labels"]?.stringMap ?? [:]
        labels.merge(workload[path: "spec", "selector", "matchLabels"]?.stringMap ?? [:]) { old, _ in old }
        if !labels.isEmpty { metadata["labels"] = .strings(labels) }
        return .mapping(["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata,
                         "spec": template["spec"] ?? .mapping([])])
    }

    /// Points the Pod's volume `volume` at `claim`, adding the volume when the template lacks it.
    private static func mount(claim: String, as volume: String, in pod: inout Node) {
        var volumes = pod[path: "spec", "volumes"]?.sequence ?? []
        volumes.removeAll { $0["name"]?.string == volume }
        volumes.append(.mapping(["name": .string(volume), "persistentVolumeClaim": .mapping(["claimName": .string(claim)])]))
        pod.set(["spec", "volumes"], .sequence(volumes))
    }

    static func replicas(_ workload: Node) -> Int { max(workload[path: "spec", "replicas"]?.int ?? 1, 0) }

    static func isReady(_ pod: Node) -> Bool {
        (pod[path: "status", "conditions"]?.sequence ?? []).contains { $0["type"]?.string == "Ready" && $0["status"]?.string == "True" }
    }

    /// Not-ready Pods go first, then the newest names.
    private static func preferredForRemoval(_ a: Node, _ b: Node) -> Bool {
        let (readyA, readyB) = (isReady(a), isReady(b))
        if readyA != readyB { return !readyA }
        return a.name > b.name
    }

    private static func leastUsed(_ nodes: [String], _ perNode: [String: Int]) -> String? {
        nodes.min { (perNode[$0] ?? 0, $0) < (perNode[$1] ?? 0, $1) }
    }

    /// The status a workload's controller reports for these Pods.
    static func status(_ kind: WorkloadKind, workload: Node, pods: [Node], nodes: [String]) -> Node {
        let ready = pods.filter(isReady).count
        let generation = Node.int(workload.generation)
        switch kind {
        case .deployment:
            let hash = templateHash(workload)
            let updated = pods.filter { $0[path: "metadata", "labels", "pod-template-hash"]?.string == hash }.count
            let available = ready >= replicas(workload)
            return .mapping(["observedGeneration": generation, "replicas": .int(pods.count), "updatedReplicas": .int(updated),
                             "readyReplicas": .int(ready), "availableReplicas": .int(ready),
                             "unavailableReplicas": .int(max(replicas(workload) - ready, 0)),
                             "conditions": [condition("Available", available, reason: available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                                                      message: available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
                                                      at: Date())]])
        case .statefulSet:
            return .mapping(["observedGeneration": generation, "replicas": .int(pods.count), "readyReplicas": .int(ready),
                             "currentReplicas": .int(pods.count), "updatedReplicas": .int(pods.count), "availableReplicas": .int(ready)])
        case .daemonSet:
            return .mapping(["observedGeneration": generation, "desiredNumberScheduled": .int(nodes.count),
                             "currentNumberScheduled": .int(pods.count), "updatedNumberScheduled": .int(pods.count),
                             "numberReady": .int(ready), "numberAvailable": .int(ready), "numberMisscheduled": 0])
        }
    }
}

/// Whether a desired status differs from the current one, ignoring condition timestamps (which
/// would otherwise make every pass a write, and every write another pass).
enum StatusComparison {
    static func differs(_ desired: Node, from current: Node?) -> Bool {
        guard let current else { return true }
        for pair in desired.mapping ?? [] {
            guard let key = pair.key.string else { continue }
            if key == "conditions" {
                if summary(pair.value) != summary(current[key] ?? .sequence([])) { return true }
            } else if key == "startTime" || key == "completionTime" {
                if current[key] == nil { return true }
            } else if current[key] != pair.value {
                return true
            }
        }
        return false
    }

    private static func summary(_ conditions: Node) -> [String] {
        (conditions.sequence ?? []).map { "\($0["type"]?.string ?? "")=\($0["status"]?.string ?? "")/\($0["reason"]?.string ?? "")" }.sorted()
    }
}

extension Array {
    /// The elements that satisfy `predicate`, and those that do not.
    func partitioned(_ predicate: (Element) -> Bool) -> ([Element], [Element]) {
        var yes: [Element] = []
        var no: [Element] = []
        for element in self { if predicate(element) { yes.append(element) } else { no.append(element) } }
        return (yes, no)
    }
}
