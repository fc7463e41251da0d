import CairnAPI
import Foundation

/// Decides, for one session of one configuration, what the schedule asks for now: a BackupSession
/// to create, a Skipped one to record, or nothing; and when to look again. Pure: the ``Scheduler``
/// gathers the facts and carries the decision out.
///
/// - Only the latest run missed since the last one handled is caught up, so an outage of any
///   length costs at most one run per session, never a storm; and only while it is within
///   `startingDeadline` of its scheduled time.
/// - Runs already handled are known from the BackupSessions' `spec.scheduledTime`: a run whose
///   session exists (created, skipped, finished or deleted from history but newer) is never made again.
/// - With `Forbid` (the default), a run that comes while a session is still active is recorded as
///   a Skipped BackupSession, so `kubectl get backupsessions` shows that it was not taken and why.
/// - With `Replace`, such a run deletes the active sessions first (their Jobs go with them, as a
///   CronJob's do), then is created; with `Allow` it is created beside them.
/// - A paused session creates nothing.
public enum SchedulePlanner {
    /// What the planner is told about one session.
    public struct Input: Sendable {
        /// The configuration's namespace and name, for the random seed and the session names.
        public var namespace: String
        public var configuration: String
        /// The session's position in `spec.sessions`, for error paths.
        public var index: Int
        public var session: SessionSpec
        /// `spec.startingDeadline`, as written; nil means no limit.
        public var startingDeadline: String?
        /// `spec.concurrencyPolicy`; `Forbid` when nil.
        public var concurrencyPolicy: ConcurrencyPolicy?
        /// The latest `spec.scheduledTime` among this session's scheduled BackupSessions.
        public var lastScheduledTime: Date?
        /// The active (Pending, Queued, Running) BackupSessions of this session, scheduled or manual.
        public var activeSessions: [String] = []
        /// When the configuration was created: the earliest time a run may be caught up from when
        /// no session was scheduled yet.
        public var createdAt: Date?
        public var now: Date

        /// Creates an input.
        public init(namespace: String, configuration: String, index: Int, session: SessionSpec, now: Date) {
            self.namespace = namespace
            self.configuration = configuration
            self.index = index
            self.session = session
            self.now = now
        }
    }

    /// What to do now.
    public enum Action: Sendable, Equatable {
        /// Create BackupSession `name` for the run scheduled at `scheduledTime`.
        case create(name: String, scheduledTime: Date)
        /// Create BackupSession `name` for that run with phase Skipped, `reason` and `message`.
        case skip(name: String, scheduledTime: Date, reason: String, message: String)
        /// Delete the active BackupSessions `replacing`, then create `name` for that run.
        case replace(name: String, scheduledTime: Date, replacing: [String])
    }

    /// The decision for one session.
    public struct Plan: Sendable, Equatable {
        /// What to create now, if anything.
        public var action: Action?
        /// A run that was missed and is now past `startingDeadline`, so it is not run.
        public var missed: Date?
        /// The next run after now; nil when paused.
        public var next: Date?
        /// The concrete schedule (a random one's choice filled in), for status.
        public var effectiveSchedule: String
    }

    /// The reason on a Skipped session.
    public static let skippedReason = "ConcurrencyForbidden"

    /// The seed a random schedule is chosen from: `namespace/configuration/session`.
    public static func seed(namespace: String, configuration: String, session: String) -> String {
        "\(namespace)/\(configuration)/\(session)"
    }

    /// Plans one session; throws ``ScheduleError`` for a schedule, time zone or starting deadline
    /// that cannot be used.
    public static func plan(_ input: Input) throws -> Plan {
        try plan(input, schedule: schedule(of: input))
    }

    /// Plans one session with its schedule parsed already (``schedule(of:)``), as the ``Scheduler``
    /// does, which keeps each configuration's parsed schedules while it is unchanged; throws
    /// ``ScheduleError`` for a starting deadline that cannot be used.
    public static func plan(_ input: Input, schedule: CronSchedule) throws -> Plan {
        let deadline = try startingDeadline(input)
        var plan = Plan(action: nil, missed: nil, next: schedule.next(after: input.now), effectiveSchedule: schedule.effectiveExpression)
        guard input.session.paused != true else {
            plan.next = nil
            return plan
        }
        let since = input.lastScheduledTime ?? input.createdAt ?? input.now
        guard let due = schedule.latest(after: since, through: input.now) else { return plan }
        if let deadline, input.now.timeIntervalSince(due) > deadline {
            plan.missed = due
            return plan
        }
        plan.action = action(for: due, input)
        return plan
    }

    /// The parsed schedule of a session, with errors naming `sessions[<index>]`.
    public static func schedule(of input: Input) throws -> CronSchedule {
        try schedule(of: input.session, index: input.index, namespace: input.namespace, configuration: input.configuration)
    }

    /// The parsed schedule of `session`, at `index` in the `spec.sessions` of configuration
    /// `namespace/configuration`, with errors naming `sessions[<index>]`.
    public static func schedule(of session: SessionSpec, index: Int, namespace: String, configuration: String) throws -> CronSchedule {
        try CronSchedule(
            session.schedule, timeZone: session.timeZone,
            seed: seed(namespace: namespace, configuration: configuration, session: session.name),
            path: "sessions[\(index)]")
    }

    private static func action(for due: Date, _ input: Input) -> Action {
        let name = SessionNaming.scheduledSession(configuration: input.configuration, session: input.session.name, scheduledTime: due)
        let active = input.activeSessions.sorted()
        guard let first = active.first else { return .create(name: name, scheduledTime: due) }
        switch input.concurrencyPolicy ?? .forbid {
        case .forbid:
            return .skip(name: name, scheduledTime: due, reason: skippedReason,
                         message: "BackupSession \(first) of session \(input.session.name) is still active and concurrencyPolicy is Forbid")
        case .replace:
            return .replace(name: name, scheduledTime: due, replacing: active)
        case .allow:
            return .create(name: name, scheduledTime: due)
        }
    }

    private static func startingDeadline(_ input: Input) throws -> TimeInterval? {
        guard let text = input.startingDeadline else { return nil }
        do {
            let duration = try KubeDuration(parsing: text)
            guard duration.nanoseconds >= 0 else {
                throw ScheduleError(.syntax, path: "startingDeadline", value: text, reason: "must not be negative; write a duration such as \"1h\"")
            }
            return duration.seconds
        } catch let error as KubeDurationError {
            throw ScheduleError(.syntax, path: "startingDeadline", value: text, reason: error.description)
        }
    }
}
