import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A container's command run as a local process, since the sandbox has no container runtime: the
/// container's environment, stdin fed by the caller, and stdout and stderr handed over as they
/// arrive. The exec endpoint runs one per request; the simulated kubelet runs one per container.
struct LocalProcess: Sendable {
    /// How the process ended.
    enum Termination: Sendable, Equatable {
        /// It exited with this code.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)

        /// The shell's convention: the exit code, or 128 + the signal.
        var code: Int32 {
            switch self {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        }
    }

    /// `command[0]` is run from `PATH` unless it contains a slash; the rest are its arguments.
    var command: [String]
    /// The whole environment of the process (nothing is inherited).
    var environment: [String: String]
    /// Where it runs; the current directory when `nil`.
    var workingDirectory: String?

    /// Runs the process to its end. `stdin` (when given) is written to its standard input and closed
    /// when the sequence ends; `stdout` and `stderr` receive each chunk as it is read.
    func run(
        stdin: AsyncStream<[UInt8]>?,
        stdout: @escaping @Sendable ([UInt8]) async throws -> Void,
        stderr: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws(LocalProcessError) -> Termination {
        guard let program = command.first, !program.isEmpty else { throw .noCommand }
        _ = Self.ignoreBrokenPipes
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        var variables: [Environment.Key: String] = [:]
        for (name, value) in environment {
            guard let key = Environment.Key(rawValue: name) else { throw .invalidVariableName(name) }
            variables[key] = value
        }
        do {
            let result = try await Subprocess.run(
                executable, arguments: Arguments(Array(command.dropFirst())), environment: .custom(variables),
                workingDirectory: workingDirectory.map { FilePath($0) },
                input: .inputWriter, output: .sequence, error: .sequence
            ) { execution in
                try await Self.pump(execution, stdin: stdin, stdout: stdout, stderr: stderr)
            }
            switch result.terminationStatus {
            case .exited(let code): return .exited(code)
            case .signaled(let signal): return .signaled(signal)
            }
        } catch let error as SubprocessError where error.code == .executableNotFound {
            throw .executableNotFound(program)
        } catch let error as CancellationError {
            throw .cancelled(error)
        } catch {
            throw .failed(program, error)
        }
    }

    /// Copies stdin in and stdout and stderr out until both outputs end; then stops feeding stdin,
    /// which a finished process no longer reads.
    private static func pump(
        _ execution: Execution<CustomWriteInput, SequenceOutput, SequenceOutput>, stdin: AsyncStream<[UInt8]>?,
        stdout: @escaping @Sendable ([UInt8]) async throws -> Void, stderr: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for try await chunk in execution.standardOutput { try await stdout(chunk.withUnsafeBytes { Array($0) }) }
                return true
            }
            group.addTask {
                for try await chunk in execution.standardError { try await stderr(chunk.withUnsafeBytes { Array($0) }) }
                return true
            }
            group.addTask {
                await feed(execution.standardInputWriter, from: stdin)
                return false
            }
            var outputsEnded = 0
            while let isOutput = try await group.next() {
                if isOutput { outputsEnded += 1 }
                if outputsEnded == 2 { group.cancelAll() }
            }
        }
    }

    private static func feed(_ writer: StandardInputWriter, from stdin: AsyncStream<[UInt8]>?) async {
        do {
            if let stdin {
                for await chunk in stdin where !chunk.isEmpty { _ = try await writer.write(chunk) }
            }
            try await writer.finish()
        } catch {
            // The process closed its stdin or ended (EPIPE): what it did not read is dropped, as a
            // container runtime drops it. Its exit status tells what happened.
        }
    }

    /// Writing to a process that has exited must fail with EPIPE rather than kill this process.
    private static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()
}

/// Why a local process could not run.
enum LocalProcessError: Error, Sendable, CustomStringConvertible {
    /// The container has no command to run.
    case noCommand
    /// An environment variable name the system cannot pass (it contains `=` or NUL).
    case invalidVariableName(String)
    /// `command[0]` is not on `PATH` (or not at the path given).
    case executableNotFound(String)
    /// The caller's task was cancelled; the process was killed.
    case cancelled(CancellationError)
    /// It could not be started or watched.
    case failed(String, any Error)

    var description: String {
        switch self {
        case .noCommand: "no command given"
        case .invalidVariableName(let name): "environment variable name \"\(name)\" cannot be passed to a process"
        case .executableNotFound(let program): "exec: \"\(program)\": executable file not found in $PATH"
        case .cancelled: "cancelled"
        case .failed(let program, let error): "cannot run \(program): \(error)"
        }
    }
}
