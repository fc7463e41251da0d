import CairnAPI

/// The latest report of every opted-in target, kept in memory: a blueprint's status is shared by
/// all its targets, so it is written from here, once per blueprint, rather than by each target.
public struct OutcomeBook: Sendable {
    /// What one ``record(_:_:)`` changed.
    public struct Change: Sendable, Equatable {
        /// The blueprints whose status may change: the old and the new one of the target.
        public var blueprints: Set<NamespacedRef>
        /// The failure reasons whose count of failing targets changed.
        public var reasons: Set<String>
    }

    private var reports: [TargetKey: TargetReport] = [:]
    private var byBlueprint: [NamespacedRef: Set<TargetKey>] = [:]
    /// Failing targets per reason; a reason whose count fell to zero stays, at zero.
    public private(set) var failing: [String: Int] = [:]

    /// An empty book.
    public init() {}

    /// The report of `key`, if it is opted in.
    public func report(_ key: TargetKey) -> TargetReport? { reports[key] }

    /// The reports of the targets that name `blueprint`.
    public func reports(naming blueprint: NamespacedRef) -> [TargetKey: TargetReport] {
        var result: [TargetKey: TargetReport] = [:]
        for key in byBlueprint[blueprint] ?? [] { result[key] = reports[key] }
        return result
    }

    /// Records the latest report of `key` (nil: not opted in, or gone); nil when nothing changed.
    public mutating func record(_ key: TargetKey, _ report: TargetReport?) -> Change? {
        let old = reports[key]
        guard old != report else { return nil }
        var change = Change(blueprints: [], reasons: [])
        if let old {
            byBlueprint[old.blueprint]?.remove(key)
            if byBlueprint[old.blueprint]?.isEmpty == true { byBlueprint[old.blueprint] = nil }
            change.blueprints.insert(old.blueprint)
            if let reason = old.failure?.reason {
                failing[reason, default: 0] -= 1
                change.reasons.insert(reason)
            }
        }
        reports[key] = report
        if let report {
            byBlueprint[report.blueprint, default: []].insert(key)
            change.blueprints.insert(report.blueprint)
            if let reason = report.failure?.reason {
                failing[reason, default: 0] += 1
                change.reasons.insert(reason)
            }
        }
        if old?.failure?.reason == report?.failure?.reason { change.reasons = [] }
        return change
    }
}
