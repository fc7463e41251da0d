import CairnAPI
import Foundation
import Kube
import YAML

extension Scheduler {
    /// What one session's planning came to.
    struct SessionOutcome {
        var runs: [NextRun] = []
        var errors: [ScheduleError] = []
        var wake: Date?
        /// Whether this pass created a BackupSession (to run or to record a skip), whose watch event
        /// brings the configuration back.
        var acted = false
    }

    /// Plans every session of one configuration and carries the plans out.
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        defer { counters.withLock { $0.reconciles += 1 } }
        guard let node = configurations.get(key), node[path: "metadata", "deletionTimestamp"] == nil else {
            await wakeUps.set(key, at: nil)
            return .done
        }
        let configuration = try NodeDecoder().decode(BackupConfiguration.self, from: node)
        let now = clock.now
        try await repairSkipped(key)
        var outcome = SessionOutcome()
        for (index, session) in configuration.spec.sessions.enumerated() {
            try await schedule(session, index: index, of: configuration, key: key, now: now, into: &outcome)
        }
        await wakeUps.set(key, at: outcome.wake)
        // A pass that created a session leaves the status to the next pass, which the new
        // session's watch event queues behind every configuration already waiting: when a whole
        // minute's runs come due at once, all the sessions are created before any status write.
        guard !outcome.acted else { return .done }
        return try await writeStatus(node, configuration, outcome, now: now)
    }

    /// Plans one session, creates what the plan asks for, and adds its next run to `outcome`.
    private func schedule(_ session: SessionSpec, index: Int, of configuration: BackupConfiguration, key: ObjectKey,
                          now: Date, into outcome: inout SessionOutcome) async throws {
        let plan: SchedulePlanner.Plan
        do {
            plan = try SchedulePlanner.plan(input(session, index: index, of: configuration, key: key, now: now))
        } catch let error as ScheduleError {
            if !outcome.errors.contains(error) { outcome.errors.append(error) }
            return
        }
        if let action = plan.action, try await carryOut(action, session: session.name, configuration: configuration) {
            outcome.acted = true
        }
        if let missed = plan.missed { reportMissed(missed, session: session.name, configuration: configuration, next: plan.next) }
        guard let next = plan.next else { return }
        outcome.runs.append(NextRun(session: session.name, schedule: plan.effectiveSchedule, time: KubeTime.time(next)))
        outcome.wake = min(outcome.wake ?? next, next)
    }

    /// The planner's facts about one session, from the configuration and the session cache.
    private func input(_ session: SessionSpec, index: Int, of configuration: BackupConfiguration, key: ObjectKey,
                       now: Date) -> SchedulePlanner.Input {
        var input = SchedulePlanner.Input(namespace: key.namespace, configuration: key.name, index: index, session: session, now: now)
        input.startingDeadline = configuration.spec.startingDeadline
        input.concurrencyPolicy = configuration.spec.concurrencyPolicy
        input.createdAt = configuration.metadata.creationTimestamp.flatMap(KubeTime.date)
        for run in sessions.byIndex(name: Self.configurationIndex, value: key.description) {
            guard run[path: "spec", "session"]?.string == session.name else { continue }
            if run[path: "spec", "trigger"]?.string == Trigger.scheduled.rawValue,
               let time = run[path: "spec", "scheduledTime"]?.string.flatMap(KubeTime.date) {
                input.lastScheduledTime = max(input.lastScheduledTime ?? time, time)
            }
            if Self.isActive(run) { input.activeSessions.append(run.objectName) }
        }
        return input
    }

    /// Pending (no phase yet), Queued or Running, and neither being deleted nor a recorded skip.
    static func isActive(_ session: Node) -> Bool {
        guard session[path: "metadata", "deletionTimestamp"] == nil,
              session[path: "metadata", "annotations", skippedAnnotation] == nil else { return false }
        let phase = session[path: "status", "phase"]?.string.flatMap(SessionPhase.init(rawValue:))
        return [nil, .pending, .queued, .running].contains(phase)
    }
}

extension Node {
    /// `metadata.name`, or empty.
    var objectName: String { self[path: "metadata", "name"]?.string ?? "" }
}
