import CairnAPI

/// Which finished BackupSessions to delete: pure.
///
/// Per configuration and session name, the newest `historyLimit` finished sessions (Succeeded,
/// Failed or Skipped) are kept, ``defaultLimit`` when the configuration sets none; older ones
/// are deleted, and their Jobs and Pods with them through their ownerReferences. The Snapshots
/// belong to the configuration, so they stay.
enum HistoryPlan {
    /// Finished sessions kept per configuration and session when `historyLimit` is not set.
    static let defaultLimit = 5

    /// A finished session, as the plan sees it.
    struct Entry: Sendable, Equatable {
        var name: String
        /// `status.completionTime`, else `metadata.creationTimestamp`: what orders the history.
        var finished: String
    }

    /// The names to delete among the finished sessions of one configuration and session, oldest first.
    static func excess(_ finished: [Entry], limit: Int?) -> [String] {
        let keep = max(0, limit ?? defaultLimit)
        let newestFirst = finished.sorted { ($0.finished, $0.name) > ($1.finished, $1.name) }
        return newestFirst.dropFirst(keep).reversed().map(\.name)
    }

    /// Whether a phase is final.
    static func isFinished(_ phase: SessionPhase?) -> Bool {
        phase == .succeeded || phase == .failed || phase == .skipped
    }
}
