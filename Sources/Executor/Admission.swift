import Kube

/// Whether a session may start its backup Job now, under a global and a per-node limit on Jobs
/// running at once: pure.
///
/// Sessions start in creation order. Every session older than the candidate that still waits
/// and would fit takes its place first, so a newer session never overtakes an older one that
/// fits; one that only waits for its own node's room does not hold up sessions bound elsewhere.
/// A session whose node is not known yet counts against every node, so the limits hold even
/// while the controller has not looked at every session since it started.
enum Admission {
    /// The limits; nil means none.
    struct Limits: Sendable, Equatable {
        var global: Int?
        var perNode: Int?
    }

    /// Where a session's Job runs, or would run.
    enum Place: Sendable, Equatable, Hashable {
        /// Pinned to, or running on, this node.
        case node(String)
        /// Not pinned: it may run on any node.
        case anywhere
        /// Not known yet.
        case unknown
    }

    /// A session that holds or wants a slot.
    struct Slot: Sendable, Equatable {
        var key: ObjectKey
        /// `metadata.creationTimestamp`, which orders waiting sessions.
        var created: String
        var place: Place
    }

    /// The decision for one session.
    enum Decision: Sendable, Equatable {
        case start
        case wait(reason: String, message: String)
    }

    /// The decision for `candidate` (one of `waiting`), given the sessions whose Jobs run.
    static func decide(candidate: ObjectKey, running: [Slot], waiting: [Slot], limits: Limits) -> Decision {
        var load = Load(running, limits: limits)
        for slot in waiting.sorted(by: { ($0.created, $0.key) < ($1.created, $1.key) }) {
            let verdict = load.verdict(slot.place)
            if slot.key == candidate { return decision(verdict) }
            if verdict == nil { load.take(slot.place) }
        }
        return decision(load.verdict(.unknown))
    }

    private static func decision(_ verdict: (reason: String, message: String)?) -> Decision {
        guard let verdict else { return .start }
        return .wait(reason: verdict.reason, message: verdict.message)
    }

    private struct Load {
        let limits: Limits
        var total = 0
        var byNode: [String: Int] = [:]
        /// Slots whose node is not known: they count against every node.
        var unplaced = 0

        init(_ running: [Slot], limits: Limits) {
            self.limits = limits
            for slot in running { take(slot.place) }
        }

        mutating func take(_ place: Place) {
            total += 1
            switch place {
            case .node(let node): byNode[node, default: 0] += 1
            case .unknown: unplaced += 1
            case .anywhere: break
            }
        }

        /// Nil when a session at `place` fits; else why not.
        func verdict(_ place: Place) -> (reason: String, message: String)? {
            if let global = limits.global, total >= global {
                return ("ConcurrencyLimit", "\(total) backup Jobs run and at most \(global) may run at once; this session starts in creation order as others finish")
            }
            guard let perNode = limits.perNode else { return nil }
            let node: String
            switch place {
            case .anywhere: return nil
            case .node(let name): node = name
            case .unknown: node = byNode.max { $0.value < $1.value }?.key ?? "any node"
            }
            let load = (byNode[node] ?? 0) + unplaced
            guard load >= perNode else { return nil }
            return ("NodeConcurrencyLimit", "\(load) backup Jobs run on node \(node) and at most \(perNode) may run on one node; this session, bound to that node by its volumes, starts in creation order as others there finish")
        }
    }
}
