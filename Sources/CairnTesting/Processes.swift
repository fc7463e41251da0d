import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// What a finished process printed.
public struct ProcessOutput: Sendable {
    /// The exit code, or 128 + the signal that ended it.
    public var status: Int32
    /// Its standard output.
    public var stdout: String
    /// Its standard error.
    public var stderr: String
}

/// A failure of the test harness itself (not of the code under test).
public struct HarnessError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// Creates an error.
    public init(description: String) {
        self.description = description
    }
}

/// Runs real executables through swift-subprocess, which waits for them and drains their pipes
/// without Foundation's `Process`. (`Process` with `readabilityHandler` and `terminationHandler`
/// lost the end of a short-lived kubectl now and then, and a test awaited it forever.)
public enum Processes {
    /// The most output a test collects from one process.
    public static let outputLimit = 8 << 20

    /// kubectl from PATH (scripts/ installs Debian's kubernetes-client when there is none).
    public static let kubectlPath: String = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        return path.split(separator: ":").map { "\($0)/kubectl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/bin/kubectl"
    }()

    /// Runs `executable` to completion (in `directory`, else the current one) and collects its output.
    public static func run(_ executable: String, _ arguments: [String], stdin: String? = nil, in directory: URL? = nil) async throws -> ProcessOutput {
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments),
            workingDirectory: directory.map { FilePath($0.path) },
            input: .string(stdin ?? ""),
            output: .string(limit: outputLimit), error: .string(limit: outputLimit))
        return ProcessOutput(
            status: code(result.terminationStatus), stdout: result.standardOutput, stderr: result.standardError)
    }

    /// Runs a long-lived `executable` (`kubectl get -w`) and hands its stdout lines to `body`; when
    /// `body` returns or throws, the process gets SIGTERM and is waited for.
    public static func streaming<T: Sendable>(
        _ executable: String, _ arguments: [String],
        _ body: @escaping @Sendable (LineReader) async throws -> T
    ) async throws -> T {
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments),
            input: .none, output: .sequence, error: .discarded
        ) { execution in
            let (lines, sink) = AsyncStream.makeStream(of: String.self)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    for try await line in execution.standardOutput.strings() { sink.yield(line) }
                    sink.finish()
                    return nil
                }
                let outcome: Result<T, any Error>
                do {
                    outcome = .success(try await body(LineReader(lines: lines)))
                } catch {
                    outcome = .failure(error)
                }
                try? execution.send(signal: .terminate)  // it may have ended already
                while try await group.next() != nil {}
                return try outcome.get()
            }
        }
        return result.closureResult
    }

    /// The `cairn` binary that `swift build` put beside the test runner, or `$CAIRN_BINARY`.
    public static var cairnBinary: String {
        if let path = ProcessInfo.processInfo.environment["CAIRN_BINARY"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("cairn")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            directory = directory.deletingLastPathComponent()
        }
        return "cairn"
    }

    /// The exit code, or 128 + the signal that ended the process, as a shell reports it.
    public static func code(_ status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}

/// The stdout lines of a streaming process.
public struct LineReader: Sendable {
    let lines: AsyncStream<String>

    /// The first line matching `predicate` within `deadline`, or a harness error.
    public func firstLine(within deadline: Duration = .seconds(20), where predicate: @escaping @Sendable (String) -> Bool) async throws -> String {
        let lines = self.lines
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                for await line in lines where predicate(line) { return line }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            let found = try await group.next() ?? nil
            group.cancelAll()
            guard let found else { throw HarnessError(description: "no matching line within \(deadline) (or the process ended)") }
            return found
        }
    }
}
