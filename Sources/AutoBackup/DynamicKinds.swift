import CairnAPI
import Kube
import Logging
import Synchronization
import YAML

/// The informers of every kind the controller renders configurations for: the built-in kinds for
/// the controller's lifetime, and each further kind that some blueprint lists in `spec.subjects`
/// (a database custom resource, say) for as long as one does.
///
/// A listed kind that is not built in is resolved through discovery (``RESTMapper``). One the
/// server does not serve gets a Warning Event on each blueprint that lists it and a log line, and
/// is looked up again every `recheckInterval` until it is served, so that installing its CRD is
/// enough. (Polling discovery while a kind is missing costs nothing once all are found; an
/// informer on CustomResourceDefinitions would hold every CRD's schema in memory.)
///
/// Only ``run()`` starts and stops informers, one pass at a time; reconciles read the map under
/// its `Mutex` from any task.
final class TargetInformers: Sendable {
    /// One watched kind.
    struct Entry: Sendable {
        let kind: TargetKind
        let informer: Informer
        /// Ends a dynamic kind's informer when finished; nil for built-in kinds.
        let stop: StopSignal?
    }

    /// A signal that ends when it is given: a stream with no elements and its continuation.
    struct StopSignal: Sendable {
        let stopped: AsyncStream<Never>
        let continuation: AsyncStream<Never>.Continuation

        init() { (stopped, continuation) = AsyncStream.makeStream(of: Never.self) }

        /// Gives the signal.
        func finish() { continuation.finish() }

        /// Returns once the signal is given (or the task is cancelled).
        func wait() async { for await _ in stopped {} }
    }

    /// The Event reason on a blueprint whose subject kind the server does not serve.
    static let kindNotServed = "SubjectKindNotServed"

    private let client: KubeClient
    private let namespace: String?
    private let queue: WorkQueue<TargetKey>
    private let blueprints: Informer
    private let recorder: EventRecorder
    private let recheckInterval: Duration
    private let clock: any KubeClock
    private let logger: Logger
    private let mapper: RESTMapper
    private let entries: Mutex<[String: Entry]>
    private let state = Mutex(PassState())
    private let changes: AsyncStream<Void>
    private let changesInput: AsyncStream<Void>.Continuation

    /// What passes remember between them.
    private struct PassState {
        /// `<blueprint namespace>/<name> <subject>` pairs already reported as not served.
        var reported: Set<String> = []
        /// Whether the last pass left a listed kind unresolved.
        var unresolved = false
    }

    /// Creates the registry with an informer per built-in kind; nothing runs before the controller does.
    init(client: KubeClient, namespace: String?, queue: WorkQueue<TargetKey>, blueprints: Informer, recorder: EventRecorder,
         recheckInterval: Duration, clock: any KubeClock = SystemKubeClock(), logger: Logger) {
        (self.client, self.namespace, self.queue, self.blueprints, self.recorder) = (client, namespace, queue, blueprints, recorder)
        (self.recheckInterval, self.clock, self.logger) = (recheckInterval, clock, logger)
        mapper = RESTMapper(client: client)
        (changes, changesInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var builtIn: [String: Entry] = [:]
        for kind in TargetKind.builtIn {
            builtIn[kind.kind] = Entry(kind: kind, informer: Self.informer(for: kind, client: client, namespace: namespace, queue: queue, logger: logger), stop: nil)
        }
        entries = Mutex(builtIn)
    }

    /// The entry watching `kind` (`Deployment`, `PostgresCluster`), if any.
    func entry(_ kind: String) -> Entry? { entries.withLock { $0[kind] } }

    /// Every watched kind, built-in and dynamic.
    var all: [Entry] { entries.withLock { Array($0.values) } }

    /// The informers of the built-in kinds, which the controller runs and waits for.
    var builtInInformers: [Informer] { all.filter { $0.stop == nil }.map(\.informer) }

    /// Asks for a pass over the blueprints' subjects: a blueprint changed.
    func subjectsChanged() { changesInput.yield() }

    /// Starts and stops dynamic kinds' informers as blueprints list them, until cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.recheckWhileUnresolved() }
            for await _ in changes {
                for entry in await pass() {
                    group.addTask { await Self.run(entry) }
                }
            }
            group.cancelAll()
        }
        // Cancelled: the group's children stopped with it; forget their entries.
        entries.withLock { $0 = $0.filter { $0.value.stop == nil } }
    }

    private func recheckWhileUnresolved() async {
        while true {
            do { try await clock.sleep(for: recheckInterval) } catch { return }  // cancelled: the controller stops
            if state.withLock({ $0.unresolved }) { changesInput.yield() }
        }
    }

    private static func run(_ entry: Entry) async {
        guard let stop = entry.stop else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await entry.informer.run() }
            group.addTask { await stop.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: - One pass

    /// Stops the informers no blueprint asks for any more and resolves the kinds newly asked for;
    /// returns the entries to start.
    private func pass() async -> [Entry] {
        let wanted = Self.listedSubjects(blueprints.list())
        stopUnwanted(wanted)
        var started: [Entry] = []
        var failing: Set<String> = []
        for (subject, listers) in wanted.sorted(by: { $0.key.description < $1.key.description }) where matchingEntry(subject) == nil {
            if let entry = await resolve(subject, listers: listers) {
                started.append(entry)
            } else {
                failing.formUnion(listers.map { Self.reportKey($0, subject) })
            }
        }
        state.withLock { state in
            // A kind found, or no longer listed, is reported again should it fail again later.
            state.reported.formIntersection(failing)
            state.unresolved = !failing.isEmpty
        }
        return started
    }

    private func stopUnwanted(_ wanted: [ListedSubject: [Node]]) {
        let stopped = entries.withLock { entries in
            let unwanted = entries.values.filter { entry in entry.stop != nil && !wanted.keys.contains { $0.matches(entry.kind) } }
            for entry in unwanted { entries[entry.kind.kind] = nil }
            return unwanted
        }
        for entry in stopped {
            logger.info("no blueprint lists \(entry.kind.kind) in spec.subjects any more; stopped watching \(entry.kind.resource)")
            entry.stop?.finish()
        }
    }

    private func matchingEntry(_ subject: ListedSubject) -> Entry? {
        entries.withLock { $0.values.first { subject.matches($0.kind) } }
    }

    /// The new entry for a listed kind the server serves; nil (after reporting why) when it cannot be watched.
    private func resolve(_ subject: ListedSubject, listers: [Node]) async -> Entry? {
        let apiVersion: String
        let resource: Resource
        do {
            (apiVersion, resource) = try await mapper.resource(group: subject.group, kind: subject.kind)
        } catch let error as RESTMappingError {
            report(subject, listers: listers, "\(error)")
            return nil
        } catch {
            logger.warning("cannot look up subject kind \(subject) through discovery; trying again in \(recheckInterval)", metadata: ["error": "\(error)"])
            return nil
        }
        let kind = TargetKind(apiVersion: apiVersion, kind: subject.kind, resource: resource)
        guard resource.namespaced else {
            report(subject, listers: listers, "\(kind.kind) in \(apiVersion) is cluster-scoped, and a BackupConfiguration lives in its target's namespace; list a namespaced kind")
            return nil
        }
        let entry = Entry(kind: kind, informer: Self.informer(for: kind, client: client, namespace: namespace, queue: queue, logger: logger),
                          stop: StopSignal())
        let taken = entries.withLock { entries -> Entry? in
            if let existing = entries[kind.kind] { return existing }
            entries[kind.kind] = entry
            return nil
        }
        if let taken {
            report(subject, listers: listers, "kind \(kind.kind) is already watched as \(taken.kind.resource), and configurations are named <kind>-<name>; two groups may not share a kind name")
            return nil
        }
        logger.info("a blueprint lists \(subject) in spec.subjects; watching \(resource)")
        return entry
    }

    /// A Warning Event on each blueprint that lists the subject (once until it is fixed), and a log line.
    private func report(_ subject: ListedSubject, listers: [Node], _ why: String) {
        let fresh = state.withLock { state in listers.filter { state.reported.insert(Self.reportKey($0, subject)).inserted } }
        guard !fresh.isEmpty else { return }
        let message = "spec.subjects lists \(subject), which Cairn cannot watch: \(why). Install the CRD that serves \(subject), or remove it from spec.subjects"
        logger.warning("\(message)", metadata: ["blueprints": "\(fresh.map { "\($0.namespace)/\($0.name)" }.sorted())"])
        for var blueprint in fresh {
            // Objects in a list carry no apiVersion and kind; the Event's involvedObject needs them.
            blueprint["apiVersion"] = .string(CairnGroup.apiVersion)
            blueprint["kind"] = "BackupBlueprint"
            recorder.record(blueprint, type: .warning, reason: Self.kindNotServed, message: message)
        }
    }

    private static func reportKey(_ blueprint: Node, _ subject: ListedSubject) -> String {
        "\(blueprint.namespace)/\(blueprint.name) \(subject)"
    }

    // MARK: - Informers and subjects

    private static func informer(for kind: TargetKind, client: KubeClient, namespace: String?, queue: WorkQueue<TargetKey>, logger: Logger) -> Informer {
        // Rendering reads only a target's metadata, so that is all the cache keeps of it.
        var options = Informer.Options()
        options.transform = Informer.metadataOnly
        let informer = Informer(client: client, resource: kind.resource, namespace: namespace,
                                indexers: [AutoBackupController.blueprintIndex: AutoBackupController.blueprintKeys],
                                options: options, logger: logger)
        let kind = kind.kind
        informer.addHandler(
            added: { object in await queue.add(TargetKey(kind: kind, object)) },
            updated: { _, object in await queue.add(TargetKey(kind: kind, object)) },
            deleted: { object in await queue.add(TargetKey(kind: kind, object)) })
        return informer
    }

    /// The subjects the cached blueprints list beyond the built-in kinds, each with the blueprints listing it.
    static func listedSubjects(_ blueprints: [Node]) -> [ListedSubject: [Node]] {
        var listed: [ListedSubject: [Node]] = [:]
        for blueprint in blueprints {
            for entry in blueprint[path: "spec", "subjects"]?.sequence ?? [] {
                guard let kind = entry["kind"]?.string, !kind.isEmpty else { continue }
                let subject = ListedSubject(group: entry["apiGroup"]?.string, kind: kind)
                guard !TargetKind.builtIn.contains(where: subject.matches) else { continue }
                listed[subject, default: []].append(blueprint)
            }
        }
        return listed
    }
}

/// A kind as a blueprint's `spec.subjects` lists it: a nil group matches the kind in any group.
struct ListedSubject: Hashable, Sendable, CustomStringConvertible {
    var group: String?
    var kind: String

    /// Whether `target` is this kind.
    func matches(_ target: TargetKind) -> Bool {
        target.kind == kind && (group == nil || group == target.resource.group)
    }

    /// `PostgresCluster.db.example.com`, or the bare kind for the core group or any group.
    var description: String {
        guard let group, !group.isEmpty else { return kind }
        return "\(kind).\(group)"
    }
}

extension TargetKey {
    /// The key of a cached object of `kind`.
    init(kind: String, _ object: Node) {
        self.init(kind: kind, namespace: object.namespace, name: object.name)
    }
}
