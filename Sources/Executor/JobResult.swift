import CairnAPI
import YAML

/// How a backup Job ended, read from the Job's conditions and its last Pod's termination
/// message: pure. The controller never guesses: a Job that ended without a valid
/// ``AgentResult`` ends in a ``SessionFailure``.
enum JobResult: Equatable, Sendable {
    /// The Job has not finished.
    case running
    /// The Job finished.
    case ended(Ending)

    /// A finished Job.
    struct Ending: Equatable, Sendable {
        /// What the agent reported, when it reported something valid.
        var result: AgentResult?
        /// Why there is no valid result.
        var failure: SessionFailure?
        /// Pods that ran (succeeded plus failed), at least 1.
        var attempts: Int
        /// When the Job finished, as it says (RFC 3339).
        var completionTime: String?
    }

    /// Reads a Job and its Pods.
    static func read(job: Node, pods: [Node], operation: AgentOperation = .backup) -> JobResult {
        let conditions = job[path: "status", "conditions"]?.sequence ?? []
        func condition(_ type: String) -> Node? {
            conditions.first { $0["type"]?.string == type && $0["status"]?.string == "True" }
        }
        guard let ended = condition("Complete") ?? condition("Failed") else { return .running }
        let attempts = max(1, (job[path: "status", "succeeded"]?.int ?? 0) + (job[path: "status", "failed"]?.int ?? 0))
        let completion = job[path: "status", "completionTime"]?.string ?? ended["lastTransitionTime"]?.string
        let termination = lastTermination(job: job, pods: pods)
        var ending = Ending(attempts: attempts, completionTime: completion)
        guard let message = termination?.state["message"]?.string, !message.isEmpty else {
            ending.failure = noResult(job: job, ended: ended, termination: termination)
            return .ended(ending)
        }
        switch decode(message, operation: operation) {
        case .success(let result): ending.result = result
        case .failure(let problem): ending.failure = invalidResult(job: job, ended: ended, problem: problem)
        }
        return .ended(ending)
    }

    /// The agent's termination message, strictly: JSON, every field known, the current format, the
    /// operation asked for (a backup unless said).
    static func decode(_ message: String, operation: AgentOperation = .backup) -> Result<AgentResult, ResultProblem> {
        let result: AgentResult
        do {
            result = try NodeDecoder().decode(AgentResult.self, from: try JSON.parse(message))
        } catch {
            return .failure(ResultProblem(text: "it is not an agent result (\(error))"))
        }
        guard result.format == AgentResult.currentFormat else {
            return .failure(ResultProblem(text: "its format is \"\(result.format)\", not \"\(AgentResult.currentFormat)\"; run an agent image of the controller's version"))
        }
        guard result.operation == operation else {
            return .failure(ResultProblem(text: "it reports a \(result.operation.rawValue), not a \(operation.rawValue)"))
        }
        return .success(result)
    }

    /// Why a termination message is not a valid result.
    struct ResultProblem: Error, Equatable, Sendable {
        var text: String
    }

    /// The last Pod of the Job that has a terminated agent container, and that container's state.
    struct Termination {
        var pod: Node
        var state: Node
    }

    static func lastTermination(job: Node, pods: [Node]) -> Termination? {
        let owned = pods.filter { pod in
            (pod[path: "metadata", "ownerReferences"]?.sequence ?? []).contains { $0["uid"]?.string == job.uid }
        }
        let ordered = owned.sorted { ($0.creationTimestamp, $0.name) > ($1.creationTimestamp, $1.name) }
        for pod in ordered {
            let statuses = pod[path: "status", "containerStatuses"]?.sequence ?? []
            let status = statuses.first { $0["name"]?.string == BackupJob.containerName } ?? statuses.first
            if let state = status?[path: "state", "terminated"] ?? status?[path: "lastState", "terminated"] {
                return Termination(pod: pod, state: state)
            }
        }
        return nil
    }

    /// Reasons that say more than the Job's own: the kubelet's (OOMKilled) or the Pod's (Evicted, DeadlineExceeded).
    private static func specificReason(_ termination: Termination?) -> String? {
        let container = termination?.state["reason"]?.string
        if let container, !["Error", "Completed"].contains(container) { return container }
        return termination?.pod[path: "status", "reason"]?.string
    }

    private static func noResult(job: Node, ended: Node, termination: Termination?) -> SessionFailure {
        let reason = specificReason(termination) ?? (ended["type"]?.string == "Failed" ? ended["reason"]?.string : nil) ?? "NoResult"
        return SessionFailure(
            reason,
            "Job \(job.namespace)/\(job.name) ended (\(describe(ended, termination))) without a result from the agent in its termination message; "
                + "see kubectl logs job/\(job.name) -n \(job.namespace)")
    }

    private static func invalidResult(job: Node, ended: Node, problem: ResultProblem) -> SessionFailure {
        SessionFailure(
            "InvalidResult",
            "Job \(job.namespace)/\(job.name) ended (\(describe(ended, nil))), but the termination message of its agent is not a valid result: \(problem.text)")
    }

    /// `Failed: DeadlineExceeded: Job was active longer than specified deadline; container agent: OOMKilled, exit code 137`.
    private static func describe(_ ended: Node, _ termination: Termination?) -> String {
        var parts = [[ended["type"]?.string, ended["reason"]?.string, ended["message"]?.string].compactMap { $0 }.joined(separator: ": ")]
        // Plain bindings rather than optional chains: Swift 6.3.1's release build crashes (SIL
        // ownership verifier, "Found outside of lifetime use") on `state["exitCode"]?.int.map`.
        guard let termination else { return parts.joined(separator: "; ") }
        let state = termination.state
        let reason = state["reason"]?.string ?? "terminated"
        var code = ""
        if let exit = state["exitCode"], let number = exit.int { code = ", exit code \(number)" }
        parts.append("container \(BackupJob.containerName): \(reason)\(code)")
        let pod = termination.pod
        if let podReason = pod[path: "status", "reason"]?.string { parts.append("pod: \(podReason)") }
        return parts.joined(separator: "; ")
    }
}
