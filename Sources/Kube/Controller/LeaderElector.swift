import Foundation
import Logging
import Synchronization
import YAML

/// Leader election over a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection`.
///
/// An elector takes the lease when it is free or expired, then renews it every `retryPeriod`.
/// Expiry is judged by the local clock: the lease counts as held until `leaseDurationSeconds`
/// after the moment *this* elector last saw its record change, so clocks of different machines
/// are never compared. Writes carry the lease's resourceVersion; a 409 means another elector
/// wrote first. A leader that cannot renew within `renewDeadline` stops leading.
public final class LeaderElector: Sendable {
    /// `coordination.k8s.io/v1 leases`.
    public static let leases = Resource(group: "coordination.k8s.io", version: "v1", plural: "leases", namespaced: true)

    /// The lease and the timings.
    public struct Options: Sendable {
        /// The namespace of the Lease.
        public var namespace: String
        /// The name of the Lease.
        public var name: String
        /// This candidate's identity, unique among the candidates (the pod name, say).
        public var identity: String
        /// How long a lease holds after its last renewal, as others see it.
        public var leaseDuration: Duration = .seconds(15)
        /// How long the leader keeps trying to renew before it gives up leading.
        public var renewDeadline: Duration = .seconds(10)
        /// The wait between attempts to acquire or renew.
        public var retryPeriod: Duration = .seconds(2)
        /// Whether a leader whose `run` is cancelled frees the lease, so another takes over at once.
        public var releaseOnCancel = true

        /// Creates options with client-go's default timings: 15 s, 10 s, 2 s.
        public init(namespace: String, name: String, identity: String) {
            self.namespace = namespace
            self.name = name
            self.identity = identity
        }
    }

    /// The fields of a Lease's spec that election uses.
    struct Record: Equatable {
        var holderIdentity = ""
        var leaseDurationSeconds = 0
        var acquireTime: String?
        var renewTime: String?
        var leaseTransitions = 0

        init(holderIdentity: String, leaseDurationSeconds: Int, acquireTime: String?, renewTime: String?, leaseTransitions: Int) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }

        init(_ lease: Node) {
            let spec = lease["spec"]
            holderIdentity = spec?["holderIdentity"]?.string ?? ""
            leaseDurationSeconds = spec?["leaseDurationSeconds"]?.int ?? 0
            acquireTime = spec?["acquireTime"]?.string
            renewTime = spec?["renewTime"]?.string
            leaseTransitions = spec?["leaseTransitions"]?.int ?? 0
        }

        var spec: Node {
            var spec: Node = .mapping([
                "holderIdentity": .string(holderIdentity), "leaseDurationSeconds": .int(leaseDurationSeconds),
                "leaseTransitions": .int(leaseTransitions),
            ])
            spec["acquireTime"] = acquireTime.map { .string($0) }
            spec["renewTime"] = renewTime.map { .string($0) }
            return spec
        }
    }

    /// The outcome of one attempt to acquire or renew.
    enum Attempt: Equatable {
        case held
        case heldByOther(String)
        case failed
    }

    struct State {
        var lease: Node?
        var record: Record?
        /// When (by `clock`) the record last changed as this elector saw it.
        var observedAt: Duration = .zero
        var isLeader = false
    }

    /// The options this elector runs with.
    public let options: Options
    let client: KubeClient
    let clock: any KubeClock
    let wallClock: @Sendable () -> Date
    let logger: Logger
    let state = Mutex(State())

    /// Creates an elector; `clock` judges expiry and paces retries, `wallClock` stamps the lease.
    public init(client: KubeClient, options: Options, clock: any KubeClock = SystemKubeClock(),
                wallClock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "cairn.leader-election")) {
        self.client = client
        self.options = options
        self.clock = clock
        self.wallClock = wallClock
        var logger = logger
        logger[metadataKey: "lease"] = "\(options.namespace)/\(options.name)"
        logger[metadataKey: "identity"] = "\(options.identity)"
        self.logger = logger
    }

    /// Whether this elector leads now.
    public var isLeader: Bool { state.withLock { $0.isLeader } }

    /// The holder of the lease as last seen; empty when free, nil before the first look.
    public var observedLeader: String? { state.withLock { $0.record?.holderIdentity } }

    /// Campaigns until it leads, runs `onStartedLeading` while it leads, and returns once it no
    /// longer does: after failing to renew, after another candidate took the lease, or after the
    /// task was cancelled (then releasing the lease when `releaseOnCancel`).
    ///
    /// `onStartedLeading` is cancelled when leadership ends and must return promptly then; the
    /// lease is released only after it has. `onStoppedLeading` runs after, and only if this
    /// elector led.
    public func run(onStartedLeading: @escaping @Sendable () async -> Void,
                    onStoppedLeading: @escaping @Sendable () async -> Void = {}) async {
        guard await acquire() else { return }
        logger.info("started leading")
        let cancelled = await withTaskGroup(of: Void.self) { group in
            group.addTask { await onStartedLeading() }
            let cancelled = await renewWhileLeading()
            group.cancelAll()
            await group.waitForAll()
            return cancelled
        }
        state.withLock { $0.isLeader = false }
        if cancelled && options.releaseOnCancel { await release() }
        logger.info("stopped leading")
        await onStoppedLeading()
    }

    // MARK: campaign

    /// Tries every `retryPeriod` (jittered) until it holds the lease; false when cancelled first.
    private func acquire() async -> Bool {
        while !Task.isCancelled {
            if await attempt() == .held {
                state.withLock { $0.isLeader = true }
                return true
            }
            do {
                try await clock.sleep(for: options.retryPeriod * (1 + Double.random(in: 0..<0.2)))
            } catch {
                return false  // cancelled
            }
        }
        return false
    }

    /// Renews every `retryPeriod`; returns true when cancelled, false when leadership was lost.
    private func renewWhileLeading() async -> Bool {
        while true {
            do { try await clock.sleep(for: options.retryPeriod) } catch { return true }
            let deadline = clock.now() + options.renewDeadline
            renewal: while true {
                switch await attempt(until: deadline) {
                case .held: break renewal
                case .heldByOther(let holder):
                    logger.warning("another candidate holds the lease; stopping", metadata: ["holder": "\(holder)"])
                    return false
                case .failed:
                    guard clock.now() < deadline else {
                        logger.error("could not renew the lease within the renew deadline; stopping")
                        return false
                    }
                    do { try await clock.sleep(for: options.retryPeriod) } catch { return true }
                }
            }
        }
    }

    /// One attempt, abandoned when `deadline` passes first.
    private func attempt(until deadline: Duration) async -> Attempt {
        let clock = clock
        return await withTaskGroup(of: Attempt?.self) { group in
            group.addTask { await self.attempt() }
            group.addTask {
                do { try await clock.sleep(for: deadline - clock.now()) } catch { return nil }  // the attempt ended first
                return .failed
            }
            let first = await group.next()
            group.cancelAll()
            return (first ?? nil) ?? .failed
        }
    }
}
