import YAML

/// The columns kube-apiserver prints for the built-in kinds the sandbox serves, so `kubectl get
/// pods` shows READY and STATUS, not just NAME and AGE. Cells are computed as kubectl's printers
/// compute them, as far as the sandbox's objects carry the fields.
enum BuiltInColumns {
    static let columns: [GroupResource: [TableColumn]] = [
        GroupResource(group: "", plural: "pods"): [
            TableColumn(name: "Ready") { pod in
                let total = pod[path: "spec", "containers"]?.sequence?.count ?? 0
                let ready = statuses(pod).filter { $0["ready"]?.bool == true }.count
                return .string("\(ready)/\(total)")
            },
            TableColumn(name: "Status") { .string(podStatus($0)) },
            TableColumn(name: "Restarts", type: "integer") { .int(statuses($0).reduce(0) { $0 + ($1["restartCount"]?.int ?? 0) }) },
            age,
            TableColumn(name: "IP", priority: 1) { $0[path: "status", "podIP"] },
            TableColumn(name: "Node", priority: 1) { $0[path: "spec", "nodeName"] },
        ],
        GroupResource(group: "", plural: "nodes"): [
            TableColumn(name: "Status") { node in
                let ready = node[path: "status", "conditions"]?.sequence?.first { $0["type"]?.string == "Ready" }
                return .string(ready?["status"]?.string == "True" ? "Ready" : "NotReady")
            },
            TableColumn(name: "Roles") { _ in "<none>" },
            age,
            TableColumn(name: "Version") { $0[path: "status", "nodeInfo", "kubeletVersion"] },
        ],
        GroupResource(group: "", plural: "namespaces"): [TableColumn(name: "Status") { $0[path: "status", "phase"] }, age],
        GroupResource(group: "", plural: "configmaps"): [TableColumn(name: "Data", type: "integer") { .int(count($0["data"]) + count($0["binaryData"])) }, age],
        GroupResource(group: "", plural: "secrets"): [
            TableColumn(name: "Type") { $0["type"] ?? "Opaque" },
            TableColumn(name: "Data", type: "integer") { .int(count($0["data"]) + count($0["stringData"])) },
            age,
        ],
        GroupResource(group: "", plural: "persistentvolumeclaims"): [
            TableColumn(name: "Status") { $0[path: "status", "phase"] },
            TableColumn(name: "Volume") { $0[path: "spec", "volumeName"] },
            TableColumn(name: "Capacity") { $0[path: "status", "capacity", "storage"] },
            TableColumn(name: "Access Modes") { pvc in accessModes(pvc[path: "spec", "accessModes"]) },
            TableColumn(name: "StorageClass") { $0[path: "spec", "storageClassName"] },
            age,
        ],
        GroupResource(group: "", plural: "persistentvolumes"): [
            TableColumn(name: "Capacity") { $0[path: "spec", "capacity", "storage"] },
            TableColumn(name: "Access Modes") { pv in accessModes(pv[path: "spec", "accessModes"]) },
            TableColumn(name: "Reclaim Policy") { $0[path: "spec", "persistentVolumeReclaimPolicy"] },
            TableColumn(name: "Status") { $0[path: "status", "phase"] },
            TableColumn(name: "Claim") { pv in
                guard let name = pv[path: "spec", "claimRef", "name"]?.string else { return "" }
                return .string("\(pv[path: "spec", "claimRef", "namespace"]?.string ?? "")/\(name)")
            },
            age,
        ],
        GroupResource(group: "apps", plural: "deployments"): [
            TableColumn(name: "Ready") { ratio($0[path: "status", "readyReplicas"], $0[path: "spec", "replicas"]) },
            TableColumn(name: "Up-to-date", type: "integer") { .int($0[path: "status", "updatedReplicas"]?.int ?? 0) },
            TableColumn(name: "Available", type: "integer") { .int($0[path: "status", "availableReplicas"]?.int ?? 0) },
            age,
        ],
        GroupResource(group: "apps", plural: "statefulsets"): [
            TableColumn(name: "Ready") { ratio($0[path: "status", "readyReplicas"], $0[path: "spec", "replicas"]) },
            age,
        ],
        GroupResource(group: "apps", plural: "daemonsets"): [
            TableColumn(name: "Desired", type: "integer") { .int($0[path: "status", "desiredNumberScheduled"]?.int ?? 0) },
            TableColumn(name: "Current", type: "integer") { .int($0[path: "status", "currentNumberScheduled"]?.int ?? 0) },
            TableColumn(name: "Ready", type: "integer") { .int($0[path: "status", "numberReady"]?.int ?? 0) },
            age,
        ],
        GroupResource(group: "batch", plural: "jobs"): [
            TableColumn(name: "Status") { .string(jobStatus($0)) },
            TableColumn(name: "Completions") { ratio($0[path: "status", "succeeded"], $0[path: "spec", "completions"]) },
            age,
        ],
        GroupResource(group: "coordination.k8s.io", plural: "leases"): [TableColumn(name: "Holder") { $0[path: "spec", "holderIdentity"] }, age],
        GroupResource(group: "", plural: "events"): [
            TableColumn(name: "Last Seen", type: "date") { $0["lastTimestamp"] ?? $0["eventTime"] },
            TableColumn(name: "Type") { $0["type"] },
            TableColumn(name: "Reason") { $0["reason"] },
            TableColumn(name: "Object") { event in
                .string("\(event[path: "involvedObject", "kind"]?.string?.lowercased() ?? "")/\(event[path: "involvedObject", "name"]?.string ?? "")")
            },
            TableColumn(name: "Message") { $0["message"] },
        ],
        GroupResource(group: "snapshot.storage.k8s.io", plural: "volumesnapshots"): [
            TableColumn(name: "ReadyToUse", type: "boolean") { $0[path: "status", "readyToUse"] },
            TableColumn(name: "SourcePVC") { $0[path: "spec", "source", "persistentVolumeClaimName"] },
            TableColumn(name: "RestoreSize") { $0[path: "status", "restoreSize"] },
            TableColumn(name: "SnapshotClass") { $0[path: "spec", "volumeSnapshotClassName"] },
            TableColumn(name: "SnapshotContent") { $0[path: "status", "boundVolumeSnapshotContentName"] },
            age,
        ],
    ]

    /// The Age column, placed where kube-apiserver places it.
    private static let age = TableColumn(name: "Age", type: "date") { $0[path: "metadata", "creationTimestamp"] }

    private static func statuses(_ pod: Node) -> [Node] { pod[path: "status", "containerStatuses"]?.sequence ?? [] }

    /// kubectl's STATUS: Terminating, a waiting or terminated container's reason, Completed, or the phase.
    private static func podStatus(_ pod: Node) -> String {
        if pod[path: "metadata", "deletionTimestamp"] != nil { return "Terminating" }
        let phase = pod[path: "status", "phase"]?.string ?? "Pending"
        for status in statuses(pod) {
            if let reason = status[path: "state", "waiting", "reason"]?.string, !reason.isEmpty { return reason }
            if let reason = status[path: "state", "terminated", "reason"]?.string, !reason.isEmpty { return reason }
        }
        return phase == "Succeeded" ? "Completed" : phase
    }

    private static func jobStatus(_ job: Node) -> String {
        let conditions = job[path: "status", "conditions"]?.sequence ?? []
        for type in ["Complete", "Failed", "Suspended"] where conditions.contains(where: { $0["type"]?.string == type && $0["status"]?.string == "True" }) {
            return type
        }
        return "Running"
    }

    private static func ratio(_ have: Node?, _ want: Node?) -> Node {
        .string("\(have?.int ?? 0)/\(want?.int ?? 1)")
    }

    private static func count(_ node: Node?) -> Int { node?.mapping?.count ?? 0 }

    private static func accessModes(_ modes: Node?) -> Node {
        let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
        return .string((modes?.sequence ?? []).compactMap { $0.string.map { short[$0] ?? $0 } }.joined(separator: ","))
    }
}
