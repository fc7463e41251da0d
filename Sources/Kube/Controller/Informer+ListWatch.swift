import YAML

extension Informer {
    /// How one watch ended without an error.
    private struct WatchOutcome {
        /// Events (bookmarks included) it delivered.
        var received: Int
        /// How long it was open.
        var lasted: Duration
    }

    /// The reflector loop: list when needed, watch, and on failure wait and try again.
    func listAndWatch() async {
        var backoff = options.backoff
        var needsList = true
        while !Task.isCancelled {
            do {
                if needsList {
                    try await relist()
                    needsList = false
                }
                let outcome = try await watchOnce()
                // A watch the server ended after a while is the normal cycle: resume at once.
                // One that ended at once, with nothing, must not become a hot loop.
                if outcome.received > 0 || outcome.lasted >= .seconds(1) {
                    backoff.reset()
                    continue
                }
            } catch let error as KubeError where error.kind == .gone && !Task.isCancelled {
                logger.info("resourceVersion expired; listing again", metadata: ["error": "\(error.message)"])
                state.withLock { $0.statistics.relists += 1 }
                needsList = true
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("list or watch failed; retrying", metadata: ["error": "\(error)"])
                state.withLock { $0.statistics.lastError = "\(error)" }
            }
            do { try await clock.sleep(for: backoff.next()) } catch { return }  // cancelled
        }
    }

    /// Lists everything in pages, replaces the cache and delivers the differences.
    private func relist() async throws {
        let listed: (count: Int, resourceVersion: String)
        do {
            listed = try await listIntoCache(pageSize: options.pageSize)
        } catch let error as KubeError where error.kind == .gone {
            // The continue token expired between pages: read everything in one go instead. The
            // pages already stored are merged again (unchanged ones skipped by resourceVersion).
            logger.info("list continuation expired; listing without pages")
            listed = try await listIntoCache(pageSize: nil)
        }
        let waiters = state.withLock { state in
            state.resourceVersion = listed.resourceVersion
            state.synced = true
            state.statistics.lists += 1
            defer { state.syncWaiters = [:] }
            return Array(state.syncWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
        logger.debug("listed", metadata: ["count": "\(listed.count)", "resourceVersion": "\(listed.resourceVersion)"])
    }

    /// Lists in pages and stores each page in the cache (as compact JSON) before asking for the
    /// next, so that only one page is alive as trees at a time, not the whole list. Deletes of keys
    /// the list no longer has are delivered when the last page arrives, before its own changes;
    /// the resourceVersion to watch from is the last page's, set by the caller once all is stored.
    private func listIntoCache(pageSize: Int?) async throws -> (count: Int, resourceVersion: String) {
        var seen = Set<ObjectKey>()
        var token: String?
        var resourceVersion = ""
        repeat {
            let page = try await client.list(resource, namespace: namespace, options: ListOptions(
                labelSelector: labelSelector, limit: pageSize, continueToken: token))
            token = page.continueToken
            resourceVersion = page.resourceVersion
            let items = options.transform.map { page.items.map($0) } ?? page.items
            seen.formUnion(items.map(ObjectKey.init))
            let isLast = token == nil
            state.withLock { state in
                if isLast { for event in state.cache.remove(keeping: seen) { dispatchInput.yield(event) } }
                for event in state.cache.merge(items) { dispatchInput.yield(event) }
            }
        } while token != nil
        return (seen.count, resourceVersion)
    }

    /// One watch from the cache's resourceVersion, applied event by event until it ends.
    private func watchOnce() async throws -> WatchOutcome {
        let started = clock.now()
        let from = state.withLock { state in
            state.statistics.watches += 1
            return state.resourceVersion
        }
        let minimum = Int(options.watchTimeout.components.seconds)
        let watch = client.watch(resource, namespace: namespace, options: WatchOptions(
            labelSelector: labelSelector, resourceVersion: from, allowWatchBookmarks: true,
            timeoutSeconds: Int.random(in: max(1, minimum)...max(1, 2 * minimum))))
        var received = 0
        for try await event in watch {
            try apply(event)
            received += 1
        }
        return WatchOutcome(received: received, lasted: clock.now() - started)
    }

    /// Updates the cache and the resourceVersion from one event, and queues what changed.
    private func apply(_ event: WatchEvent) throws {
        let object: Node
        switch event {
        case .added(let node), .modified(let node), .deleted(let node), .bookmark(let node): object = node
        case .error(let status):
            throw KubeError(status: status, verb: "GET", url: "watch \(resource)")
        }
        let cached = options.transform?(object) ?? object
        state.withLock { state in
            switch event {
            case .added, .modified: dispatchInput.yield(state.cache.upsert(cached))
            case .deleted: if let change = state.cache.remove(cached) { dispatchInput.yield(change) }
            default: break
            }
            if let version = object[path: "metadata", "resourceVersion"]?.string, !version.isEmpty {
                state.resourceVersion = version
            }
        }
    }
}

extension Informer {
    /// Queues the key of every object that is added, updated or deleted. `keys` maps an object to
    /// the keys to reconcile (by default its own); for an update both the old and the new
    /// object's keys are queued, so that an object that stops matching is reconciled too.
    public func enqueue(into queue: WorkQueue<ObjectKey>,
                        keys: @escaping @Sendable (Node) -> [ObjectKey] = { [ObjectKey($0)] }) {
        addHandler(
            added: { object in for key in keys(object) { await queue.add(key) } },
            updated: { old, new in for key in Set(keys(old) + keys(new)).sorted() { await queue.add(key) } },
            deleted: { object in for key in keys(object) { await queue.add(key) } })
    }
}
