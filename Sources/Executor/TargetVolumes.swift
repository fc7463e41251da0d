import CairnAPI
import YAML

/// Which PVCs a backup covers, where its Job must run to mount them, and whose files it reads: pure.
enum TargetVolumes {
    /// The PVCs to back up: `spec.volumes.pvcs`; else, for a PVC target, that PVC; else every PVC
    /// the target's pod template mounts, and for a StatefulSet each replica's claim from
    /// `volumeClaimTemplates` (`<template>-<statefulset>-<ordinal>`). In order, without repeats.
    static func claimNames(configuration: BackupConfigurationSpec, target: Node?) -> [String] {
        if let pvcs = configuration.volumes?.pvcs, !pvcs.isEmpty { return unique(pvcs) }
        if configuration.target.kind == "PersistentVolumeClaim" { return [configuration.target.name] }
        guard let target, let template = target[path: "spec", "template"] else { return [] }
        let mounted = (template[path: "spec", "volumes"]?.sequence ?? []).compactMap {
            $0[path: "persistentVolumeClaim", "claimName"]?.string
        }
        return unique(mounted + claimTemplateNames(target))
    }

    private static func claimTemplateNames(_ target: Node) -> [String] {
        guard target["kind"]?.string == "StatefulSet" else { return [] }
        let templates = (target[path: "spec", "volumeClaimTemplates"]?.sequence ?? []).compactMap { $0[path: "metadata", "name"]?.string }
        let replicas = target[path: "spec", "replicas"]?.int ?? 1
        return templates.flatMap { name in (0..<max(0, replicas)).map { "\(name)-\(target.name)-\($0)" } }
    }

    /// The pod-level `fsGroup`, `runAsUser` and `runAsGroup` the backup runs with, so it can read
    /// what the application wrote: from the workload's pod template, or for a PVC target from a
    /// running pod that mounts it. Nil when none is set.
    static func securityContext(target: Node?, claims: [String], pods: [Node]) -> Node? {
        let source: Node?
        if let template = target?[path: "spec", "template", "spec"] {
            source = template["securityContext"]
        } else {
            source = runningPods(mounting: claims.first ?? "", in: pods).first?[path: "spec", "securityContext"]
        }
        guard let source else { return nil }
        var context: Node = .mapping([])
        for field in ["fsGroup", "runAsUser", "runAsGroup"] {
            if let value = source[field], value.int != nil { context[field] = value }
        }
        return context.mapping?.isEmpty == false ? context : nil
    }

    /// Why a PVC's Job must run on a node.
    struct Pin: Equatable, Sendable {
        var claim: String
        var node: String
        /// `pod db-0 runs there`, `PersistentVolume pv-1's node affinity`.
        var because: String
    }

    /// The node the Job must run on, or nil when it may run anywhere, or the conflict when two
    /// PVCs are pinned to different nodes.
    ///
    /// Only ReadWriteOnce and ReadWriteOncePod claims pin (or claims whose access modes are not
    /// known yet): a running pod that mounts one pins it to its node; else the bound
    /// PersistentVolume's required node affinity on `kubernetes.io/hostname`, when it names one node.
    static func placement(claims: [String], claimObjects: [String: Node], volumes: [String: Node], pods: [Node]) -> Result<String?, SessionFailure> {
        let pins = claims.compactMap { claim in
            claimObjects[claim].flatMap { pin(claim, $0, volumes: volumes, pods: pods) }
        }
        let nodes = Set(pins.map(\.node))
        guard nodes.count > 1 else { return .success(pins.first?.node) }
        return .failure(.volumesOnDifferentNodes(pins))
    }

    private static func pin(_ claim: String, _ object: Node, volumes: [String: Node], pods: [Node]) -> Pin? {
        let modes = (object[path: "spec", "accessModes"]?.sequence ?? []).compactMap(\.string)
        guard modes.isEmpty || modes.contains("ReadWriteOnce") || modes.contains("ReadWriteOncePod") else { return nil }
        if let pod = runningPods(mounting: claim, in: pods).first, let node = pod[path: "spec", "nodeName"]?.string {
            return Pin(claim: claim, node: node, because: "pod \(pod.name) runs there")
        }
        guard let volumeName = object[path: "spec", "volumeName"]?.string, let volume = volumes[volumeName],
              let node = hostname(affinityOf: volume) else { return nil }
        return Pin(claim: claim, node: node, because: "PersistentVolume \(volumeName)'s node affinity")
    }

    /// Pods that run (phase Running, not being deleted, on a node) and mount `claim`, by name.
    static func runningPods(mounting claim: String, in pods: [Node]) -> [Node] {
        pods.filter { pod in
            pod[path: "status", "phase"]?.string == "Running" && !pod.isDeleting && pod[path: "spec", "nodeName"]?.string != nil
                && (pod[path: "spec", "volumes"]?.sequence ?? []).contains { $0[path: "persistentVolumeClaim", "claimName"]?.string == claim }
        }.sorted { $0.name < $1.name }
    }

    /// The one hostname a PV's required node affinity allows, if it names exactly one.
    static func hostname(affinityOf volume: Node) -> String? {
        let terms = volume[path: "spec", "nodeAffinity", "required", "nodeSelectorTerms"]?.sequence ?? []
        let names = terms.flatMap { term in
            (term["matchExpressions"]?.sequence ?? []).filter {
                $0["key"]?.string == hostnameLabel && $0["operator"]?.string == "In"
            }.flatMap { ($0["values"]?.sequence ?? []).compactMap(\.string) }
        }
        let distinct = Set(names)
        return distinct.count == 1 ? distinct.first : nil
    }

    /// `kubernetes.io/hostname`.
    static let hostnameLabel = "kubernetes.io/hostname"

    private static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
