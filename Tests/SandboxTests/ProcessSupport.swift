import Foundation
import Synchronization

/// What a finished process printed.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A failure of the test harness itself (not of the code under test).
struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// Runs real executables without blocking the cooperative thread pool, which also runs the server.
enum Processes {
    /// Runs `executable` to completion and collects its output.
    static func run(_ executable: String, _ arguments: [String], stdin: String? = nil) async throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let input = Pipe()  // small inputs fit the pipe's buffer before the process starts
            try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try input.fileHandleForWriting.close()
            process.standardInput = input
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let collected = Collector(out: out, err: err)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
        }
        let (stdout, stderr) = await collected.finish()
        return ProcessOutput(status: status, stdout: stdout, stderr: stderr)
    }

    /// Starts a long-running process whose stdout is read line by line.
    static func stream(_ executable: String, _ arguments: [String]) throws -> StreamingProcess {
        try StreamingProcess(executable, arguments)
    }
}

/// Drains a process's stdout and stderr as they arrive, so a full pipe never stalls it.
private final class Collector: Sendable {
    private struct State {
        var out = Data(), err = Data(), open = 2
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    init(out: Pipe, err: Pipe) {
        out.fileHandleForReading.readabilityHandler = { [self] handle in append(handle, stdout: true) }
        err.fileHandleForReading.readabilityHandler = { [self] handle in append(handle, stdout: false) }
    }

    private func append(_ handle: FileHandle, stdout: Bool) {
        let data = handle.availableData
        if data.isEmpty { handle.readabilityHandler = nil }
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            if data.isEmpty { state.open -= 1 } else if stdout { state.out.append(data) } else { state.err.append(data) }
            guard state.open == 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Both streams' text, once both have ended.
    func finish() async -> (String, String) {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.open > 0 { state.waiter = continuation }
                return state.open == 0
            }
            if done { continuation.resume() }
        }
        return state.withLock { (String(decoding: $0.out, as: UTF8.self), String(decoding: $0.err, as: UTF8.self)) }
    }
}

/// A running process (`kubectl get -w`, `curl -N`) whose stdout lines arrive as a stream.
final class StreamingProcess: Sendable {
    private let process: Process
    private let exited: AsyncStream<Int32>
    /// Complete stdout lines, ending when the process closes stdout.
    let lines: AsyncStream<String>

    init(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = Mutex(Data())
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete: [String] = pending.withLock { buffer in
                buffer.append(data)
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
                return lines
            }
            for line in complete { continuation.yield(line) }
        }
        let (exited, exit) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { exit.yield($0.terminationStatus); exit.finish() }
        try process.run()
        self.process = process
        self.lines = lines
        self.exited = exited
    }

    /// The first line matching `predicate` within `deadline`, or a harness error naming what was seen.
    func firstLine(within deadline: Duration = .seconds(20), where predicate: @escaping @Sendable (String) -> Bool) async throws -> String {
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

    /// Ends the process and waits for it.
    func stop() async {
        if process.isRunning { process.terminate() }
        _ = await waitForExit()
    }

    /// Waits for the process to end by itself; its exit status.
    func waitForExit() async -> Int32? {
        for await status in exited { return status }
        return nil
    }
}
