import Foundation
import YAML

/// Pod statuses as a kubelet writes them. Pure.
enum PodStatus {
    /// How one container ended.
    struct Termination: Equatable {
        var container: String
        var exitCode: Int
        var message: String
        var startedAt: Date
        var finishedAt: Date
        /// `Completed`, `Error`, or `StartError` when the process could not be started.
        var reason: String
    }

    /// Pending, with every container waiting for `reason`.
    static func waiting(_ pod: Node, reason: String, message: String?, now: Date) -> Node {
        var status = base(pod, phase: "Pending", ready: false, now: now)
        status["containerStatuses"] = .sequence(containers(pod).map { name, image in
            var waiting: Node = .mapping(["reason": .string(reason)])
            if let message { waiting["message"] = .string(message) }
            return containerStatus(name, image, ready: false, state: .mapping(["waiting": waiting]))
        })
        return status
    }

    /// Running and Ready since `startedAt`.
    static func running(_ pod: Node, startedAt: Date, now: Date) -> Node {
        var status = base(pod, phase: "Running", ready: true, now: now, startedAt: startedAt)
        status["containerStatuses"] = .sequence(containers(pod).map { name, image in
            containerStatus(name, image, ready: true, state: .mapping(["running": .mapping(["startedAt": timestamp(startedAt)])]))
        })
        return status
    }

    /// Succeeded when every container exited 0, else Failed.
    static func terminated(_ pod: Node, _ terminations: [Termination], startedAt: Date, now: Date) -> Node {
        let phase = terminations.allSatisfy { $0.exitCode == 0 } ? "Succeeded" : "Failed"
        var status = base(pod, phase: phase, ready: false, now: now, startedAt: startedAt, reason: "PodCompleted")
        let byName = Dictionary(terminations.map { ($0.container, $0) }, uniquingKeysWith: { first, _ in first })
        status["containerStatuses"] = .sequence(containers(pod).map { name, image in
            let end = byName[name]
            var terminated: Node = .mapping([
                "exitCode": .int(end?.exitCode ?? 137), "reason": .string(end?.reason ?? "Error"),
                "startedAt": timestamp(end?.startedAt ?? startedAt), "finishedAt": timestamp(end?.finishedAt ?? now),
            ])
            if let message = end?.message, !message.isEmpty { terminated["message"] = .string(message) }
            return containerStatus(name, image, ready: false, state: .mapping(["terminated": terminated]))
        })
        return status
    }

    private static func base(_ pod: Node, phase: String, ready: Bool, now: Date, startedAt: Date? = nil, reason: String? = nil) -> Node {
        var status: Node = .mapping([
            "phase": .string(phase),
            "conditions": [
                condition("PodScheduled", true, at: now),
                condition("Initialized", true, at: now),
                condition("ContainersReady", ready, reason: ready ? nil : (reason ?? "ContainersNotReady"), at: now),
                condition("Ready", ready, reason: ready ? nil : (reason ?? "ContainersNotReady"), at: now),
            ],
            "hostIP": "127.0.0.1", "podIP": "127.0.0.1", "podIPs": [.mapping(["ip": "127.0.0.1"])],
            "qosClass": "BestEffort",
        ])
        status["startTime"] = pod[path: "status", "startTime"] ?? timestamp(startedAt ?? now)
        return status
    }

    private static func containers(_ pod: Node) -> [(String, String)] {
        (pod[path: "spec", "containers"]?.sequence ?? []).map { ($0["name"]?.string ?? "", $0["image"]?.string ?? "") }
    }

    private static func containerStatus(_ name: String, _ image: String, ready: Bool, state: Node) -> Node {
        let running = state["running"] != nil
        return .mapping(["name": .string(name), "image": .string(image), "imageID": .string(image),
                         "containerID": .string("sandbox://\(name)"), "ready": .bool(ready), "started": .bool(running),
                         "restartCount": 0, "state": state])
    }

    /// Whether the Pod has ended.
    static func isFinished(_ pod: Node) -> Bool {
        ["Succeeded", "Failed"].contains(pod[path: "status", "phase"]?.string)
    }

    /// Whether the Pod runs to completion (Job Pods): those become local processes; the others
    /// (`restartPolicy: Always`, the default) are only reported Running and Ready.
    static func runsToCompletion(_ pod: Node) -> Bool {
        ["Never", "OnFailure"].contains(pod[path: "spec", "restartPolicy"]?.string)
    }
}
