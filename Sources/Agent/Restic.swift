import Foundation
import Logging
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// How one restic call ended.
struct ResticRun: Sendable {
    /// The exit code, or 128 + the signal that ended restic.
    var code: Int32
    /// stderr's lines: restic's prose (`Fatal: ...`) and, for backup, its JSON error messages.
    var stderr: [String]
    /// Why the agent stopped restic, if it did.
    var stoppedBecause: StopCause?

    var exit: ResticExit { ResticExit(code: code) }
}

/// Why the agent asked restic to stop.
enum StopCause: Sendable, Equatable {
    case interrupted
    case deadline(Duration)
}

/// Runs the `restic` executable with the repository's environment and the agent's global options,
/// through swift-subprocess. Arguments never hold credentials: those stay in the environment and in
/// 0600 files.
struct Restic: Sendable {
    /// `restic`, looked up in PATH, or an absolute path.
    var executable: String
    /// The whole environment restic gets (RESTIC_*, AWS_*, HOME, PATH, ...).
    var environment: [String: String]
    /// Options before the command: `--cache-dir`, `-o sftp.command=...`.
    var globalArguments: [String]
    var interruption: Interruption
    var logger: Logger
    /// How long restic has to clean up after SIGINT before it gets SIGKILL.
    var stopGrace: Duration = .seconds(20)
    /// Whether an interruption stops the call; the clean-up after one must not be stopped by it.
    var interruptible = true

    /// The most stderr lines kept; restic's fatal message is at the end.
    static let stderrLimit = 2000

    /// Runs `restic <global> <arguments>` in `directory`, folding each stdout line into `state`;
    /// after `deadline` (or on interruption) restic gets SIGINT, then SIGKILL after `stopGrace`.
    func run<State: Sendable>(
        _ arguments: [String], in directory: String? = nil, deadline: Duration? = nil,
        into initial: State, fold: @escaping @Sendable (inout State, String) -> Void
    ) async throws(AgentFailure) -> (ResticRun, State) {
        var environment: [Environment.Key: String] = [:]
        for (key, value) in self.environment { if let key = Environment.Key(rawValue: key) { environment[key] = value } }
        let command = arguments.first ?? ""
        logger.debug("running restic", metadata: ["command": "\(command)", "arguments": "\(arguments.dropFirst().joined(separator: " "))"])
        let executable: Executable = self.executable.contains("/") ? .path(FilePath(self.executable)) : .name(self.executable)
        var options = PlatformOptions()
        options.teardownSequence = [.send(signal: .interrupt, allowedDurationToNextStep: stopGrace)]
        do {
            let result = try await Subprocess.run(
                executable, arguments: Arguments(globalArguments + arguments), environment: .custom(environment),
                workingDirectory: directory.map { FilePath($0) }, platformOptions: options, input: .none,
                output: .sequence, error: .sequence
            ) { execution in
                try await collect(execution, deadline: deadline, initial: initial, fold: fold)
            }
            let (stderr, state, cause) = result.closureResult
            return (ResticRun(code: code(result.terminationStatus), stderr: stderr, stoppedBecause: cause), state)
        } catch let failure as AgentFailure {
            throw failure
        } catch {
            throw AgentFailure(.resticFailed, "could not run \(self.executable) \(command): \(error); is restic installed and on PATH?")
        }
    }

    /// Runs restic and returns its exit and all of stdout (for the commands that print one JSON document).
    func output(_ arguments: [String], deadline: Duration? = nil) async throws(AgentFailure) -> (ResticRun, String) {
        let (run, lines) = try await self.run(arguments, deadline: deadline, into: [String]()) { $0.append($1) }
        return (run, lines.joined(separator: "\n"))
    }

    private func collect<State: Sendable>(
        _ execution: Execution<NoInput, SequenceOutput, SequenceOutput>, deadline: Duration?, initial: State,
        fold: @escaping @Sendable (inout State, String) -> Void
    ) async throws -> ([String], State, StopCause?) {
        let pid = execution.processIdentifier
        let stdout = execution.standardOutput
        let stderr = execution.standardError
        let grace = stopGrace
        let interruption = interruptible ? self.interruption : nil
        let logger = self.logger
        return try await withThrowingTaskGroup(of: Collected<State>.self) { group in
            group.addTask {
                var state = initial
                try await Lines.each(in: stdout) { fold(&state, $0) }
                return .stdout(state)
            }
            group.addTask {
                var lines: [String] = []
                try await Lines.each(in: stderr) { line in
                    lines.append(line)
                    if lines.count > Self.stderrLimit { lines.removeFirst(lines.count - Self.stderrLimit) }
                }
                return .stderr(lines)
            }
            group.addTask {
                let cause = await Self.stopCause(interruption: interruption, deadline: deadline)
                guard let cause else { return .stopped(nil) }
                logger.warning("stopping restic", metadata: ["cause": "\(cause)", "pid": "\(pid.value)"])
                Self.signal(pid, .interrupt)
                do { try await Task.sleep(for: grace) } catch { return .stopped(cause) }
                Self.signal(pid, .kill)
                return .stopped(cause)
            }
            var state = initial
            var lines: [String] = []
            var cause: StopCause?
            var outputsDone = 0
            while outputsDone < 2, let next = try await group.next() {
                switch next {
                case .stdout(let value): state = value; outputsDone += 1
                case .stderr(let value): lines = value; outputsDone += 1
                case .stopped(let value): cause = value
                }
            }
            group.cancelAll()
            while let next = try await group.next() {
                if case .stopped(let value) = next, value != nil { cause = value }
            }
            return (lines, state, cause)
        }
    }

    private enum Collected<State: Sendable>: Sendable {
        case stdout(State)
        case stderr([String])
        case stopped(StopCause?)
    }

    /// Waits for an interruption or the deadline; nil when cancelled first (restic ended).
    private static func stopCause(interruption: Interruption?, deadline: Duration?) async -> StopCause? {
        await withTaskGroup(of: StopCause?.self) { group in
            if let interruption { group.addTask { await interruption.wait() ? .interrupted : nil } }
            if let deadline {
                group.addTask {
                    do { try await Task.sleep(for: deadline) } catch { return nil }
                    return .deadline(deadline)
                }
            }
            guard interruption != nil || deadline != nil else { return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private static func signal(_ pid: ProcessIdentifier, _ signal: Signal) {
        // The process may have ended between the decision and the signal: nothing left to stop.
        _ = kill(pid.value, signal.rawValue)
    }

    private func code(_ status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}

/// Splits a byte stream at `\n` only: restic's JSON escapes newlines inside strings, but not every
/// character Unicode calls a line break (U+0085 can sit in a file name).
enum Lines {
    static func each(in sequence: SubprocessOutputSequence, _ body: (String) throws -> Void) async throws {
        var pending: [UInt8] = []
        for try await buffer in sequence {
            buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                try body(String(decoding: pending[start..<newline], as: UTF8.self))
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { try body(String(decoding: pending, as: UTF8.self)) }
    }
}
