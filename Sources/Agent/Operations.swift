import CairnAPI
import Foundation
import Logging

// MARK: - Backup

extension Session {
    /// One snapshot per volume, tagged with the request's tags and `pvc=<pvc>`. A repository-wide
    /// failure stops the run; the volumes not tried are reported as such.
    func backup(_ request: BackupRequest, into result: inout AgentResult) async throws(AgentFailure) {
        var volumes: [AgentVolumeResult] = []
        var firstFailure: AgentFailure?
        var partial = false
        for volume in request.volumes {
            if let stop = firstFailure, stop.reason.stopsOtherVolumes {
                var skipped = AgentVolumeResult(pvc: volume.pvc, phase: .failed)
                skipped.error = "not tried: \(stop.reason.rawValue) before it"
                volumes.append(skipped)
                continue
            }
            do throws(AgentFailure) {
                let outcome = try await backup(volume, request)
                partial = partial || outcome.phase == .partiallySucceeded
                volumes.append(outcome)
            } catch {
                var failed = AgentVolumeResult(pvc: volume.pvc, phase: .failed)
                failed.error = "\(error.reason.rawValue): \(error.message)"
                volumes.append(failed)
                if firstFailure == nil { firstFailure = error }
            }
        }
        result.volumes = volumes
        if var failure = firstFailure {
            if request.volumes.count > 1 { failure.message = "volume \(volumes.first { $0.phase == .failed }?.pvc ?? ""): \(failure.message)" }
            result.record(failure)
        } else if partial {
            result.phase = .partiallySucceeded
            result.reason = FailureReason.filesUnreadable.rawValue
            result.resticExitCode = 3
            let names = volumes.filter { $0.phase == .partiallySucceeded }.map(\.pvc).joined(separator: ", ")
            result.message = "some files could not be read in \(names); the snapshot holds everything else"
        } else {
            result.resticExitCode = 0
        }
    }

    private func backup(_ volume: VolumeMount, _ request: BackupRequest) async throws(AgentFailure) -> AgentVolumeResult {
        try checkInterrupted()
        let directory = mounts.directory(for: volume.mountPath)
        try requireDirectory(directory, "volume \(volume.pvc) (mounted at \(volume.mountPath))")
        var arguments = ["backup", "--json", "--host", request.host]
        for tag in Self.tags(request.tags, pvc: volume.pvc) { arguments += ["--tag", tag] }
        for pattern in request.excludes { arguments += ["--exclude", exclude(pattern, volume, directory)] }
        if let time = request.time { arguments += ["--time", Self.resticTime(time)] }
        // `.` from inside the volume: the snapshot's tree starts at the volume's root, so a restore
        // puts the files directly into any target directory.
        arguments.append(".")
        var restic = self.restic
        if request.time != nil { restic.environment["TZ"] = "UTC" }  // `--time` is read in restic's local zone
        let logger = self.logger
        let pvc = volume.pvc
        let (run, progress) = try await restic.run(arguments, in: directory, into: BackupProgress()) { state, line in
            state.read(line, pvc: pvc, logger: logger)
        }
        try check(run, "backup", allowing: .incompleteSnapshot)
        if let problem = progress.problem { throw AgentFailure(.undecodableOutput, problem) }
        guard let summary = progress.summary else {
            throw AgentFailure(.undecodableOutput, "restic backup of volume \(volume.pvc) ended without its JSON summary", resticExitCode: Int(run.code))
        }
        var outcome = AgentVolumeResult(pvc: volume.pvc, phase: run.exit == .success ? .succeeded : .partiallySucceeded)
        outcome.resticSnapshotID = try await fullID(of: summary.snapshotID)
        outcome.size = summary.totalBytesProcessed
        outcome.files = summary.totalFilesProcessed
        outcome.bytesAdded = summary.dataAdded
        if run.exit == .incompleteSnapshot {
            outcome.unreadable = Self.unreadable(run.stderr, volume: directory)
            outcome.error = "restic could not read \(outcome.unreadable?.count ?? 0) item(s)"
        }
        logger.info("volume backed up", metadata: [
            "pvc": "\(volume.pvc)", "snapshot": "\(outcome.resticSnapshotID ?? "")", "files": "\(summary.totalFilesProcessed ?? 0)",
            "bytes": "\(summary.totalBytesProcessed ?? 0)", "added": "\(summary.dataAdded ?? 0)",
        ])
        return outcome
    }

    /// `check`, with one more exit code that is not a failure.
    func check(_ run: ResticRun, _ command: String, allowing accepted: ResticExit) throws(AgentFailure) {
        if run.exit == accepted, run.stoppedBecause == nil { return }
        try check(run, command)
    }

    /// The request's tags plus `pvc=<pvc>`, without repeats.
    static func tags(_ tags: [String], pvc: String) -> [String] {
        var all: [String] = []
        for tag in tags + ["pvc=\(pvc)"] where !all.contains(tag) { all.append(tag) }
        return all
    }

    /// restic 0.14's `--time` layout.
    static func resticTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    private func exclude(_ pattern: String, _ volume: VolumeMount, _ directory: String) -> String {
        guard directory != volume.mountPath, pattern == volume.mountPath || pattern.hasPrefix(volume.mountPath + "/") else { return pattern }
        return directory + pattern.dropFirst(volume.mountPath.count)
    }

    /// The items of restic's JSON error messages, relative to the volume, each once.
    static func unreadable(_ stderr: [String], volume directory: String) -> [String] {
        var items: [String] = []
        for line in stderr where ResticMessage.type(of: line) == "error" {
            let item: String
            do throws(AgentFailure) {
                guard let named = try ResticMessage.decode(ResticMessage.BackupError.self, line, from: "backup").item else { continue }
                item = named
            } catch {
                item = "(unreadable item: \(error.message))"
            }
            let relative = relativePath(item, to: directory)
            if !items.contains(relative) { items.append(relative) }
        }
        return items
    }

    static func relativePath(_ item: String, to directory: String) -> String {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var path = item
        if path == base { return "." }
        if path.hasPrefix(base + "/") { path = String(path.dropFirst(base.count + 1)) }
        while path.hasPrefix("./") { path = String(path.dropFirst(2)) }
        while path.hasPrefix("/") { path = String(path.dropFirst()) }
        return path.isEmpty ? "." : path
    }

    /// The full ID of a snapshot restic's summary names by its short ID.
    private func fullID(of shortID: String) async throws(AgentFailure) -> String {
        try await snapshots([shortID]).first { $0.id.hasPrefix(shortID) }?.id ?? shortID
    }

    func snapshots(_ ids: [String] = []) async throws(AgentFailure) -> [ResticMessage.Snapshot] {
        try checkInterrupted()
        let (run, text) = try await restic.output(["snapshots", "--json", "--no-lock"] + ids)
        try check(run, "snapshots")
        return try ResticMessage.decode([ResticMessage.Snapshot].self, text.isEmpty ? "[]" : text, from: "snapshots")
    }

    func requireDirectory(_ path: String, _ what: String) throws(AgentFailure) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AgentFailure(.volumeMissing, "\(what): \(path) is not a directory; check the Job's volumeMounts")
        }
    }
}

/// What the agent keeps of `restic backup --json`'s stdout while it runs.
struct BackupProgress: Sendable {
    var summary: ResticMessage.BackupSummary?
    var problem: String?
    var lastReport: ContinuousClock.Instant?

    /// How often progress reaches the log.
    static let reportEvery: Duration = .seconds(10)

    mutating func read(_ line: String, pvc: String, logger: Logger) {
        switch ResticMessage.type(of: line) {
        case "summary":
            do throws(AgentFailure) {
                summary = try ResticMessage.decode(ResticMessage.BackupSummary.self, line, from: "backup")
            } catch {
                problem = error.message
            }
        case "status":
            let now = ContinuousClock.now
            guard lastReport.map({ now - $0 >= Self.reportEvery }) ?? true else { return }
            lastReport = now
            do throws(AgentFailure) {
                let status = try ResticMessage.decode(ResticMessage.BackupStatus.self, line, from: "backup")
                logger.info("backing up", metadata: [
                    "pvc": "\(pvc)", "percent": "\(Int((status.percentDone ?? 0) * 100))", "bytesDone": "\(status.bytesDone ?? 0)",
                    "totalBytes": "\(status.totalBytes ?? 0)", "errors": "\(status.errorCount ?? 0)",
                ])
            } catch {
                problem = problem ?? error.message
            }
        default:
            break
        }
    }
}

// MARK: - Restore

extension Session {
    /// Restores one snapshot into the target's directory after checking it is the expected volume's.
    func restore(_ request: RestoreRequest, into result: inout AgentResult) async throws(AgentFailure) {
        let directory = mounts.directory(for: request.target)
        try requireDirectory(directory, "restore target (mounted at \(request.target))")
        let matches = try await snapshots([request.snapshot]).filter { $0.id.hasPrefix(request.snapshot) }
        guard let snapshot = matches.first, matches.count == 1 else {
            throw AgentFailure(.snapshotNotFound, matches.isEmpty
                ? "snapshot \(request.snapshot) is not in repository \(repository); list what exists with `kubectl get snapshots`"
                : "snapshot ID \(request.snapshot) is ambiguous in repository \(repository); give more of it")
        }
        if let mismatch = Self.mismatch(snapshot, host: request.host, tags: request.expectedTags) {
            throw AgentFailure(.snapshotMismatch, """
                refusing to restore snapshot \(snapshot.id.prefix(8)) into \(request.target): \(mismatch). It belongs to \
                another volume or configuration; choose a snapshot of this volume, or name the other PVC explicitly
                """)
        }
        try checkInterrupted()
        logger.info("restoring", metadata: ["snapshot": "\(snapshot.id)", "target": "\(request.target)"])
        let (run, _) = try await restic.output(["restore", snapshot.id, "--target", directory])
        try check(run, "restore")
        let figures = try await contents(of: snapshot.id)
        result.restored = AgentRestoreFigures(resticSnapshotID: snapshot.id, files: figures.files, bytes: figures.bytes)
        result.resticExitCode = 0
        result.message = "restored \(figures.files) files (\(figures.bytes) bytes) from snapshot \(snapshot.id.prefix(8))"
    }

    /// Why `snapshot` is not the expected one, or nil when host and every expected tag match.
    static func mismatch(_ snapshot: ResticMessage.Snapshot, host: String?, tags: [String]) -> String? {
        var problems: [String] = []
        if let host, snapshot.hostname != host { problems.append("its host is \(snapshot.hostname), not \(host)") }
        let missing = tags.filter { !(snapshot.tags ?? []).contains($0) }
        if !missing.isEmpty {
            problems.append("it lacks tag(s) \(missing.joined(separator: ", ")) (it has \((snapshot.tags ?? []).joined(separator: ", ")))")
        }
        return problems.isEmpty ? nil : problems.joined(separator: " and ")
    }

    /// The regular files and their bytes in a snapshot, from `restic ls --json`.
    private func contents(of id: String) async throws(AgentFailure) -> Listing {
        try checkInterrupted()
        let (run, listing) = try await restic.run(["ls", "--json", "--no-lock", id], into: Listing()) { $0.read($1) }
        try check(run, "ls")
        if let problem = listing.problem { throw AgentFailure(.undecodableOutput, problem) }
        return listing
    }
}

/// Files and bytes counted from `restic ls --json`, one node per line.
struct Listing: Sendable {
    var files = 0
    var bytes = 0
    var problem: String?

    mutating func read(_ line: String) {
        guard line.contains(#""struct_type":"node""#) else { return }  // the snapshot line comes first
        do throws(AgentFailure) {
            let node = try ResticMessage.decode(ResticMessage.ListedNode.self, line, from: "ls")
            guard node.type == "file" else { return }
            files += 1
            bytes += node.size ?? 0
        } catch {
            problem = problem ?? error.message
        }
    }
}

// MARK: - Forget, prune, check

extension Session {
    /// Forgets the named snapshots, but only when every one that still exists has the request's host
    /// and tags: one namespace's retention never touches another's snapshots, even in a shared
    /// repository. A snapshot already gone counts as forgotten.
    func forget(_ request: ForgetRequest, into result: inout AgentResult) async throws(AgentFailure) {
        let all = try await snapshots()
        var chosen: [String] = []
        var gone: [String] = []
        var refused: [String] = []
        for wanted in request.snapshots {
            let matches = all.filter { $0.id.hasPrefix(wanted) }
            guard let snapshot = matches.first else {
                gone.append(wanted)
                continue
            }
            if matches.count > 1 {
                refused.append("\(wanted) is ambiguous")
            } else if let mismatch = Self.mismatch(snapshot, host: request.host, tags: request.tags) {
                refused.append("\(snapshot.id.prefix(8)): \(mismatch)")
            } else if !chosen.contains(snapshot.id) {
                chosen.append(snapshot.id)
            }
        }
        guard refused.isEmpty else {
            throw AgentFailure(.snapshotMismatch, "refusing to forget anything: \(refused.joined(separator: "; ")); only snapshots of host \(request.host) with tags \(request.tags.joined(separator: ",")) may be forgotten here")
        }
        if !chosen.isEmpty {
            try checkInterrupted()
            let (run, _) = try await restic.output(["forget"] + chosen)
            try check(run, "forget")
        }
        result.resticExitCode = 0
        result.message = "forgot \(chosen.count) snapshot(s)\(chosen.isEmpty ? "" : ": " + chosen.map { String($0.prefix(8)) }.joined(separator: ", "))"
            + (gone.isEmpty ? "" : "; already gone: \(gone.joined(separator: ", "))")
    }

    /// `restic check`, then `restic prune` only if the check found no errors: a damaged repository
    /// is never pruned, so nothing restic could still read is thrown away. Returns what both found.
    func maintain(_ request: MaintainRequest) async throws(AgentFailure) -> String {
        try checkInterrupted()
        var arguments = ["check"]
        if let subset = request.readDataSubset { arguments += ["--read-data-subset", subset] }
        let (checked, _) = try await restic.output(arguments)
        if checked.exit != .success {
            var failure = FailureClassifier.classify(code: checked.code, stderr: checked.stderr)
            if failure.reason == .repositoryDamaged {
                let errors = checked.stderr.map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty && !$0.hasPrefix("Fatal:") && !$0.hasPrefix("[") }
                failure.message = "restic check found errors, so prune did not run: "
                    + (errors.isEmpty ? failure.message : errors.prefix(5).joined(separator: "; ") + (errors.count > 5 ? "; and \(errors.count - 5) more" : ""))
                    + "; repair the repository by hand (restic rebuild-index, then restic check) before relying on its snapshots"
            }
            throw failure
        }
        try checkInterrupted()
        let (pruned, output) = try await restic.output(["prune"])
        try check(pruned, "prune")
        let checkedWhat = request.readDataSubset.map { "restic check read back \($0) of the data and found no errors" } ?? "restic check found no errors"
        return "\(checkedWhat); restic prune " + Self.pruneSummary(output)
    }

    /// `removed 7 blobs / 2.862 MiB, 5 blobs / 1.908 MiB remain` from restic prune's report.
    static func pruneSummary(_ output: String) -> String {
        func figure(_ label: String) -> String? {
            output.split(separator: "\n").first { $0.hasPrefix(label) }.map { $0.dropFirst(label.count).trimmingCharacters(in: .whitespaces) }
        }
        guard let removed = figure("total prune:") else { return "found nothing to remove" }
        return "removed \(removed)" + (figure("remaining:").map { ", \($0) remain" } ?? "")
    }

    /// `restic prune` or `restic check`: repository-wide, and harmless to other tenants (prune drops
    /// only data no snapshot refers to).
    func maintain(_ arguments: [String], done: String) async throws(AgentFailure) -> String {
        try checkInterrupted()
        let (run, _) = try await restic.output(arguments)
        try check(run, arguments.joined(separator: " "))
        return done
    }
}
