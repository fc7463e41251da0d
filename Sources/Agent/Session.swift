import Foundation
import Logging

/// One agent run's access to the repository: restic with its environment, and the steps every
/// operation shares.
struct Session: Sendable {
    var restic: Restic
    /// `RESTIC_REPOSITORY`, for messages.
    var repository: String
    var mounts: MountMap
    var options: AgentOptions
    var logger: Logger
    var staleLocksRemoved = 0

    /// Throws the failure a finished restic call stands for, if any. A call that succeeded counts,
    /// even if a stop came too late to matter; otherwise the agent's own stop explains it first.
    func check(_ run: ResticRun, _ command: String) throws(AgentFailure) {
        if run.exit == .success { return }
        switch run.stoppedBecause {
        case .interrupted?:
            throw AgentFailure(.interrupted, "the agent was asked to stop (SIGTERM or SIGINT) during restic \(command); restic was stopped with SIGINT", resticExitCode: Int(run.code))
        case .deadline(let limit)?:
            let said = FailureClassifier.fatalLine(run.stderr)
            throw AgentFailure(.repositoryUnreachable, """
                repository \(repository) did not answer within \(limit.formatted()) (restic retries an unreachable \
                backend for minutes); check the BackupStorage's endpoint and the network. \(said)
                """, resticExitCode: Int(run.code))
        case nil:
            break
        }
        guard run.exit == .success else {
            var failure = FailureClassifier.classify(code: run.code, stderr: run.stderr)
            if failure.reason == .locked {
                failure.message += " (a lock younger than --stale-lock-age \(options.staleLockAge.formatted()) is never removed)"
            }
            throw failure
        }
    }

    /// After an interruption: `restic unlock`, which removes only locks restic proves stale. restic
    /// removes its own lock on SIGINT; this is for a restic that got SIGTERM directly (a process
    /// group signalled as a whole), whose dead process's lock on this host qualifies. Best effort.
    func cleanUpAfterInterruption() async {
        var restic = self.restic
        restic.interruptible = false
        do {
            let (run, _) = try await restic.output(["unlock"], deadline: .seconds(10))
            if run.exit != .success { logger.warning("restic unlock after the interruption failed", metadata: ["stderr": "\(FailureClassifier.fatalLine(run.stderr))"]) }
        } catch {
            logger.warning("restic unlock after the interruption failed", metadata: ["error": "\(error)"])
        }
    }

    /// Throws `Interrupted` when a signal arrived between two restic calls.
    func checkInterrupted() throws(AgentFailure) {
        if restic.interruption.isInterrupted {
            throw AgentFailure(.interrupted, "the agent was asked to stop (SIGTERM or SIGINT) before it finished")
        }
    }

    /// Opens the repository (`restic cat config`) within the connect timeout; a missing repository is
    /// created when `creating`, and a concurrent creation by another agent is accepted.
    mutating func reach(creating: Bool) async throws(AgentFailure) {
        do throws(AgentFailure) {
            try await probe()
        } catch let failure where failure.reason == .repositoryMissing && creating {
            try await initialise()
            try await probe()
        } catch {
            throw error
        }
    }

    private func probe() async throws(AgentFailure) {
        try checkInterrupted()
        let (run, _) = try await restic.output(["cat", "config", "--no-lock"], deadline: options.connectTimeout)
        try check(run, "cat config")
    }

    private func initialise() async throws(AgentFailure) {
        logger.info("creating the restic repository", metadata: ["repository": "\(repository)"])
        let (run, _) = try await restic.output(["init"], deadline: options.connectTimeout)
        let said = run.stderr.joined(separator: "\n")
        if run.exit != .success, run.stoppedBecause == nil,
           said.contains("config file already exists") || said.contains("already initialized") {
            // Another agent created it between our probe and our init; the probe that follows proves
            // our password opens what it created.
            logger.info("another agent created the repository first", metadata: ["repository": "\(repository)"])
            return
        }
        try check(run, "init")
    }
}

// MARK: - Stale locks

extension Session {
    /// Removes locks older than `--stale-lock-age` as `StaleLockPlan` decides; returns how many went.
    func removeStaleLocks() async throws(AgentFailure) -> Int {
        let ids = try await lockIDs()
        guard !ids.isEmpty else { return 0 }
        var observed: [ObservedLock] = []
        for id in ids {
            if let lock = try await observe(id) { observed.append(lock) }
        }
        let plan = StaleLockPlan.plan(observed, threshold: options.staleLockAge)
        switch plan {
        case .nothing:
            logger.info("repository locks are fresh; leaving them", metadata: ["locks": "\(observed.map(describe))"])
            return 0
        case .removeAll:
            try await unlock(["unlock", "--remove-all"])
        case .resticUnlock(let stale, let fresh):
            logger.warning("stale and fresh locks together: only locks restic proves stale are removed", metadata: [
                "stale": "\(stale.map(describe))", "fresh": "\(fresh.map(describe))",
            ])
            try await unlock(["unlock"])
        }
        let left = Set(try await lockIDs())
        let removed = observed.filter { !left.contains($0.id) }
        for lock in removed {
            logger.warning("removed stale restic lock", metadata: ["lock": "\(describe(lock))", "staleLockAge": "\(options.staleLockAge.formatted())"])
        }
        for lock in observed where left.contains(lock.id) && lock.age > options.staleLockAge && !lock.liveHere {
            logger.warning("stale restic lock left in place", metadata: ["lock": "\(describe(lock))"])
        }
        return removed.count
    }

    private func lockIDs() async throws(AgentFailure) -> [String] {
        try checkInterrupted()
        let (run, text) = try await restic.output(["list", "locks", "--no-lock"])
        try check(run, "list locks")
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The lock `id`, or nil when it went away since the listing (its restic finished).
    private func observe(_ id: String) async throws(AgentFailure) -> ObservedLock? {
        let (run, text) = try await restic.output(["cat", "lock", id, "--no-lock"])
        if run.exit != .success, run.stoppedBecause == nil, run.stderr.joined().contains("no such file") || run.stderr.joined().contains("does not exist") {
            return nil
        }
        try check(run, "cat lock")
        let lock = try ResticMessage.decode(ResticMessage.Lock.self, text, from: "cat lock")
        guard let written = RFC3339.parse(lock.time) else {
            throw AgentFailure(.undecodableOutput, "restic lock \(id.prefix(8)) has a time that is not RFC 3339: \(lock.time)")
        }
        let age = Duration.milliseconds(Int64(Date().timeIntervalSince(written) * 1000))
        let liveHere = lock.hostname == Host.name && Host.processExists(lock.pid)
        return ObservedLock(id: id, exclusive: lock.exclusive, hostname: lock.hostname, pid: lock.pid, age: age, liveHere: liveHere)
    }

    private func unlock(_ arguments: [String]) async throws(AgentFailure) {
        try checkInterrupted()
        let (run, _) = try await restic.output(arguments)
        try check(run, arguments.joined(separator: " "))
    }

    private func describe(_ lock: ObservedLock) -> String {
        "\(lock.id.prefix(8)) (\(lock.exclusive ? "exclusive" : "shared"), pid \(lock.pid) on \(lock.hostname), age \(lock.age.formatted()))"
    }
}

/// This machine, as restic sees it when it decides whether a lock's process is still running.
enum Host {
    /// The kernel's host name (Go's `os.Hostname` reads the same).
    static var name: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether a process with this ID runs here (EPERM: it exists, owned by someone else). A zombie
    /// does not: a restic killed with its parent waits as one until someone reaps it, and its lock
    /// is as stale as a vanished process's.
    static func processExists(_ pid: Int) -> Bool {
        guard pid > 0, pid <= Int(Int32.max) else { return false }
        guard kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
        return !isZombie(pid)
    }

    /// Reads the state in `/proc/<pid>/stat` (after the command's closing parenthesis).
    static func isZombie(_ pid: Int) -> Bool {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.endIndex
        else { return false }  // no /proc (not Linux): count the process as running, the safe side
        let state = stat[close + 2]
        return state == UInt8(ascii: "Z") || state == UInt8(ascii: "X")
    }
}

extension Duration {
    /// `1h0m0s`-style text for logs and messages.
    func formatted() -> String {
        let total = components.seconds
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        return "\(total / 3600)h\(total % 3600 / 60)m\(total % 60)s"
    }
}
