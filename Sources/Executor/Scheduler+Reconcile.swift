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
            decodedConfigurations.forget(key)
            await wakeUps.set(key, at: nil)
            return .done
        }
        let decoded = try decodedConfigurations.decoded(node, key: key)
        let configuration = decoded.configuration
        let now = clock.now
        let runs = sessions.byIndex(name: Self.configurationIndex, value: key.description).map(Run.init)
        try await repairSkipped(runs)
        var outcome = SessionOutcome()
        for (index, session) in configuration.spec.sessions.enumerated() {
            try await schedule(session, index: index, of: decoded, key: key, runs: runs, now: now, into: &outcome)
        }
        await wakeUps.set(key, at: outcome.wake)
        // A pass that created a session leaves the status to the next pass, which the new
        // session's watch event queues behind every configuration already waiting: when a whole
        // minute's runs come due at once, all the sessions are created before any status write.
        guard !outcome.acted else { return .done }
        return try await writeStatus(node, configuration, outcome, now: now)
    }

    /// Plans one session, creates what the plan asks for, and adds its next run to `outcome`.
    private func schedule(_ session: SessionSpec, index: Int, of decoded: DecodedConfiguration, key: ObjectKey, runs: [Run],
                          now: Date, into outcome: inout SessionOutcome) async throws {
        let configuration = decoded.configuration
        let plan: SchedulePlanner.Plan
        do {
            let schedule = try decoded.schedules[index].get()
            plan = try SchedulePlanner.plan(input(session, index: index, of: configuration, key: key, runs: runs, now: now), schedule: schedule)
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

    /// The planner's facts about one session, from the configuration and its BackupSessions.
    private func input(_ session: SessionSpec, index: Int, of configuration: BackupConfiguration, key: ObjectKey, runs: [Run],
                       now: Date) -> SchedulePlanner.Input {
        var input = SchedulePlanner.Input(namespace: key.namespace, configuration: key.name, index: index, session: session, now: now)
        input.startingDeadline = configuration.spec.startingDeadline
        input.concurrencyPolicy = configuration.spec.concurrencyPolicy
        input.createdAt = configuration.metadata.creationTimestamp.flatMap(KubeTime.date)
        for run in runs where run.session == session.name {
            if let time = run.scheduledTime { input.lastScheduledTime = max(input.lastScheduledTime ?? time, time) }
            if run.isActive { input.activeSessions.append(run.name) }
        }
        return input
    }

    /// What a pass reads of one BackupSession of the configuration, read from the session cache
    /// once per pass for all its sessions.
    struct Run {
        var name: String
        /// `spec.session`.
        var session: String?
        /// `spec.scheduledTime` of a run the schedule made (`trigger: Scheduled`).
        var scheduledTime: Date?
        /// Pending (no phase yet), Queued or Running, and neither being deleted nor a recorded skip.
        var isActive: Bool
        /// A recorded skip whose Skipped status is missing: the session, and its reason.
        var unwrittenSkip: (session: Node, reason: String)?

        init(_ node: Node) {
            name = node[path: "metadata", "name"]?.string ?? ""
            session = node[path: "spec", "session"]?.string
            scheduledTime = node[path: "spec", "trigger"]?.string == Trigger.scheduled.rawValue
                ? node[path: "spec", "scheduledTime"]?.string.flatMap(KubeTime.date) : nil
            let phase = node[path: "status", "phase"]
            let skipped = node[path: "metadata", "annotations", Scheduler.skippedAnnotation]
            isActive = node[path: "metadata", "deletionTimestamp"] == nil && skipped == nil
                && [nil, .pending, .queued, .running].contains(phase?.string.flatMap(SessionPhase.init(rawValue:)))
            unwrittenSkip = phase == nil ? skipped?.string.map { (node, $0) } : nil
        }
    }
}
