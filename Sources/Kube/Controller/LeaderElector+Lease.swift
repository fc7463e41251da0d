import Foundation
import YAML

extension LeaderElector {
    /// One try to acquire or renew the lease, as client-go's `tryAcquireOrRenew`.
    func attempt() async -> Attempt {
        if await renewOptimistically() { return .held }
        let lease: Node
        do {
            lease = try await client.get(Self.leases, namespace: options.namespace, name: options.name)
        } catch let error as KubeError where error.kind == .notFound {
            return await create()
        } catch {
            logger.warning("cannot read the lease", metadata: ["error": "\(error)"])
            return .failed
        }
        let now = clock.now()
        let record = Record(lease)
        let stillValid = state.withLock { state in
            if state.record != record {
                state.record = record
                state.observedAt = now
            }
            state.lease = lease
            return state.observedAt + .seconds(record.leaseDurationSeconds) > now
        }
        if !record.holderIdentity.isEmpty, record.holderIdentity != options.identity, stillValid {
            return .heldByOther(record.holderIdentity)
        }
        return await write(lease, record: claim(from: record))
    }

    /// The leader's fast path: update the lease it wrote last without reading it first. False when
    /// not leading, or when the write failed (a 409 when someone else wrote the lease meanwhile).
    private func renewOptimistically() async -> Bool {
        let known = state.withLock { state in state.isLeader ? state.lease.map { ($0, state.record) } : nil }
        guard let (lease, record) = known, let record, record.holderIdentity == options.identity else { return false }
        var renewed = record
        renewed.renewTime = KubeTime.microTime(wallClock())
        renewed.leaseDurationSeconds = Int(options.leaseDuration.components.seconds)
        if await write(lease, record: renewed) == .held { return true }
        logger.info("optimistic renewal failed; reading the lease again")
        return false
    }

    /// This elector's record: renewal keeps the acquire time, a takeover counts a transition.
    private func claim(from record: Record) -> Record {
        let now = KubeTime.microTime(wallClock())
        var claim = record
        if record.holderIdentity != options.identity {
            claim.holderIdentity = options.identity
            claim.acquireTime = now
            claim.leaseTransitions = record.leaseTransitions + 1
        }
        claim.renewTime = now
        claim.leaseDurationSeconds = Int(options.leaseDuration.components.seconds)
        return claim
    }

    private func create() async -> Attempt {
        let now = KubeTime.microTime(wallClock())
        let record = Record(holderIdentity: options.identity, leaseDurationSeconds: Int(options.leaseDuration.components.seconds),
                            acquireTime: now, renewTime: now, leaseTransitions: 0)
        let lease: Node = .mapping([
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": .mapping(["name": .string(options.name), "namespace": .string(options.namespace)]),
            "spec": record.spec,
        ])
        do {
            remember(try await client.create(Self.leases, namespace: options.namespace, lease))
            return .held
        } catch {
            logger.info("cannot create the lease", metadata: ["error": "\(error)"])
            return .failed
        }
    }

    /// Replaces the lease's spec, guarded by the resourceVersion in `lease`.
    private func write(_ lease: Node, record: Record) async -> Attempt {
        var updated = lease
        updated["spec"] = record.spec
        do {
            remember(try await client.update(Self.leases, namespace: options.namespace, updated))
            return .held
        } catch let error as KubeError where error.kind == .conflict {
            logger.info("the lease changed under this elector (409)")
            return .failed
        } catch {
            logger.warning("cannot update the lease", metadata: ["error": "\(error)"])
            return .failed
        }
    }

    /// Records a lease this elector wrote: its own write counts as a change it saw now.
    private func remember(_ lease: Node) {
        let now = clock.now()
        state.withLock { state in
            state.lease = lease
            state.record = Record(lease)
            state.observedAt = now
        }
    }

    /// Frees the lease so that another candidate can take it at once (client-go's
    /// `ReleaseOnCancel`). Runs in its own task: the caller's was cancelled.
    func release() async {
        let known = state.withLock { state in state.lease.map { ($0, state.record) } }
        guard let (lease, record) = known, let record, record.holderIdentity == options.identity else { return }
        let now = KubeTime.microTime(wallClock())
        let freed = Record(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now,
                           leaseTransitions: record.leaseTransitions)
        let outcome = await Task {
            if await write(lease, record: freed) == .held { return true }
            // A renewal cancelled in flight may still have landed, leaving our copy stale.
            return await releaseFresh(freed)
        }.value
        if outcome { logger.info("released the lease") } else { logger.warning("could not release the lease; it will expire") }
    }

    /// Reads the lease again and frees it, if this elector still holds it.
    private func releaseFresh(_ freed: Record) async -> Bool {
        do {
            let lease = try await client.get(Self.leases, namespace: options.namespace, name: options.name)
            guard Record(lease).holderIdentity == options.identity else { return false }
            return await write(lease, record: freed) == .held
        } catch {
            logger.warning("cannot read the lease to release it", metadata: ["error": "\(error)"])
            return false
        }
    }
}
