import Foundation
import YAML

/// What the Job controller should write for one Job: pure, no I/O.
///
/// Like the real controller it counts the Job's Pods by phase, creates Pods up to `parallelism`
/// until `completions` succeeded, and fails the Job once more Pods failed than `backoffLimit`
/// allows. Unlike it, a retry starts at once (no exponential delay), which keeps tests fast.
struct JobPlan: Equatable {
    /// A Pod to create.
    var podToCreate: Node?
    /// Names of Pods to delete (the active ones of a failed or suspended Job).
    var podsToDelete: [String] = []
    /// The status to write through `/status`, when it differs from the current one.
    var status: Node?

    static func plan(job: Node, ownedPods: [Node], nodes: [String], now: Date) -> JobPlan {
        var plan = JobPlan()
        let counts = Counts(ownedPods)
        let spec = job["spec"] ?? .mapping([])
        let completions = spec["completions"]?.int ?? 1
        let parallelism = spec["parallelism"]?.int ?? 1
        let backoffLimit = spec["backoffLimit"]?.int ?? 6
        var conditions = job[path: "status", "conditions"]?.sequence ?? []
        let finished = conditions.contains { ["Complete", "Failed"].contains($0["type"]?.string) && $0["status"]?.string == "True" }

        if !finished && counts.succeeded >= completions {
            conditions += [condition("SuccessCriteriaMet", true, reason: "CompletionsReached", message: "Reached expected number of succeeded pods", at: now),
                           condition("Complete", true, reason: "CompletionsReached", message: "Reached expected number of succeeded pods", at: now)]
        } else if !finished && counts.failed > backoffLimit {
            conditions += [condition("FailureTarget", true, reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", at: now),
                           condition("Failed", true, reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", at: now)]
            plan.podsToDelete = counts.active.map(\.name)
        } else if !finished && spec["suspend"]?.bool == true {
            plan.podsToDelete = counts.active.map(\.name)
        } else if !finished, counts.active.count < min(parallelism, completions - counts.succeeded), !nodes.isEmpty {
            plan.podToCreate = pod(for: job, node: nodes[ownedPods.count % nodes.count])
        }
        let nowFinished = conditions.contains { ["Complete", "Failed"].contains($0["type"]?.string) && $0["status"]?.string == "True" }
        var status: Node = .mapping([
            "active": .int(nowFinished ? 0 : counts.active.count), "succeeded": .int(counts.succeeded), "failed": .int(counts.failed),
            "ready": .int(nowFinished ? 0 : counts.active.filter(WorkloadPlan.isReady).count),
            "startTime": job[path: "status", "startTime"] ?? timestamp(now),
        ])
        if !conditions.isEmpty { status["conditions"] = .sequence(conditions) }
        if conditions.contains(where: { $0["type"]?.string == "Complete" && $0["status"]?.string == "True" }) {
            status["completionTime"] = job[path: "status", "completionTime"] ?? timestamp(now)
        }
        plan.status = StatusComparison.differs(status, from: job["status"]) ? status : Node?.none
        return plan
    }

    /// A Pod from the Job's template, named `<job>-<5 random chars>` by the server (generateName),
    /// labelled and owned as the Job controller does.
    static func pod(for job: Node, node: String) -> Node {
        let template = job[path: "spec", "template"] ?? .mapping([])
        var labels = template[path: "metadata", "labels"]?.stringMap ?? [:]
        labels.merge(["batch.kubernetes.io/controller-uid": job.uid, "batch.kubernetes.io/job-name": job.name,
                      "controller-uid": job.uid, "job-name": job.name]) { _, new in new }
        var metadata: Node = .mapping(["generateName": .string("\(job.name)-"), "namespace": .string(job.namespace), "labels": .strings(labels),
                                       "ownerReferences": [controllerReference(to: job, apiVersion: "batch/v1", kind: "Job")]])
        if let annotations = template[path: "metadata", "annotations"] { metadata["annotations"] = annotations }
        var spec = template["spec"] ?? .mapping([])
        spec["nodeName"] = .string(node)
        return .mapping(["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec])
    }

    /// A Job's Pods by phase; a Pod being deleted counts as neither active nor finished.
    struct Counts {
        var active: [Node] = []
        var succeeded = 0
        var failed = 0

        init(_ pods: [Node]) {
            for pod in pods {
                switch pod[path: "status", "phase"]?.string {
                case "Succeeded": succeeded += 1
                case "Failed": failed += 1
                default: if !pod.isDeleting { active.append(pod) }
                }
            }
        }
    }
}
