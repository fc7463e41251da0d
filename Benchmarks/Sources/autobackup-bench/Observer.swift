import AutoBackup
import BenchSupport
import CairnAPI
import ClusterBench
import Kube
import Synchronization
import YAML

/// Watches every BackupConfiguration, as a user with `kubectl get bc -w` would: counts the writes
/// it sees, and tracks which configurations carry the rendered hash the benchmark expects and when
/// each one last changed.
final class Observer: Sendable {
    struct Counts: Sendable {
        var added = 0
        var modified = 0
        var deleted = 0
        var total: Int { added + modified + deleted }

        static func - (lhs: Counts, rhs: Counts) -> Counts {
            Counts(added: lhs.added - rhs.added, modified: lhs.modified - rhs.modified, deleted: lhs.deleted - rhs.deleted)
        }
    }

    private struct State {
        var counts = Counts()
        /// `namespace/name` to the rendered hash the benchmark expects.
        var expected: [String: String] = [:]
        /// `namespace/name` to the rendered hash last seen.
        var live: [String: String] = [:]
        /// When each configuration's last event arrived.
        var seenAt: [String: ContinuousClock.Instant] = [:]
        /// Expected configurations whose live hash matches.
        var matched = 0
        /// When the last expected configuration came to match, while all match.
        var allMatchedAt: ContinuousClock.Instant?
        var failure: String?

        func matches(_ key: String) -> Bool { live[key] != nil && live[key] == expected[key] }

        mutating func update(_ key: String, expected newExpected: String?? = .none, live newLive: String?? = .none, at now: ContinuousClock.Instant) {
            let before = matches(key)
            if case .some(let value) = newExpected { expected[key] = value }
            if case .some(let value) = newLive { live[key] = value }
            let after = matches(key)
            matched += (after ? 1 : 0) - (before ? 1 : 0)
            if matched == expected.count {
                if allMatchedAt == nil || (after && !before) { allMatchedAt = now }
            } else {
                allMatchedAt = nil
            }
        }
    }

    private let state = Mutex(State())
    private let client: KubeClient
    private let clock = ContinuousClock()

    init(client: KubeClient) { self.client = client }

    static func key(_ object: Node) -> String {
        "\(object[path: "metadata", "namespace"]?.string ?? "")/\(object[path: "metadata", "name"]?.string ?? "")"
    }

    /// Sets the hash expected for `key`.
    func expect(_ key: String, hash: String) {
        let now = clock.now
        state.withLock { $0.update(key, expected: .some(hash), at: now) }
    }

    var counts: Counts { state.withLock { $0.counts } }

    /// When every expected configuration last came to match, or nil while some do not.
    var allMatchedAt: ContinuousClock.Instant? { state.withLock { $0.allMatchedAt } }

    var matched: Int { state.withLock { $0.matched } }

    /// Configurations the watch last saw existing.
    var liveCount: Int { state.withLock { $0.live.count } }

    /// When `key`'s configuration arrived with `hash`, or nil until then.
    func seen(_ key: String, hash: String) -> ContinuousClock.Instant? {
        state.withLock { $0.live[key] == hash ? $0.seenAt[key] : nil }
    }

    /// Throws if the watch failed.
    func check() throws {
        if let failure = state.withLock({ $0.failure }) { throw BenchError("the BackupConfiguration watch failed: \(failure)") }
    }

    /// Watches from `resourceVersion` until cancelled, resuming where the server ended a watch.
    func run(from resourceVersion: String) async {
        do {
            try await watchAll(client, CairnResource.configurations, from: resourceVersion) { handle($0, $1) }
        } catch is CancellationError {
            return
        } catch {
            guard !Task.isCancelled else { return }
            state.withLock { $0.failure = "\(error)" }
        }
    }

    private func handle(_ event: WatchEvent, _ object: Node) {
        let now = clock.now
        let key = Self.key(object)
        let hash = object[path: "metadata", "annotations", CairnLabel.renderedHash]?.string
        state.withLock { state in
            switch event {
            case .added: state.counts.added += 1
            case .modified: state.counts.modified += 1
            default: state.counts.deleted += 1
            }
            state.seenAt[key] = now
            if case .deleted = event {
                state.update(key, live: .some(nil), at: now)
            } else {
                state.update(key, live: .some(hash), at: now)
            }
        }
    }
}
