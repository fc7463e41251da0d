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
        let list: ObjectList
        do {
            list = try await listAll(pageSize: options.pageSize)
        } catch let error as KubeError where error.kind == .gone {
            // The continue token expired between pages: read everything in one go instead.
            logger.info("list continuation expired; listing without pages")
            list = try await listAll(pageSize: nil)
        }
        let items = options.transform.map { list.items.map($0) } ?? list.items
        let waiters = state.withLock { state in
            for event in state.cache.replace(with: items) { dispatchInput.yield(event) }
            state.resourceVersion = list.resourceVersion
            state.synced = true
            state.statistics.lists += 1
            defer { state.syncWaiters = [:] }
            return Array(state.syncWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
        logger.debug("listed", metadata: ["count": "\(list.items.count)", "resourceVersion": "\(list.resourceVersion)"])
    }

    private func listAll(pageSize: Int?) async throws -> ObjectList {
        var all = ObjectList(items: [], resourceVersion: "", continueToken: nil)
        var token: String?
        repeat {
            let page = try await client.list(resource, namespace: namespace, options: ListOptions(
                labelSelector: labelSelector, limit: pageSize, continueToken: token))
            all.items += page.items
            all.resourceVersion = page.resourceVersion
            token = page.continueToken
        } while token != nil
        return all
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
