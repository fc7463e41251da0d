import Foundation

/// Runs one command to completion with stdin disconnected, capturing stdout and stderr.
struct ExecProcess {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    let executable: String
    let arguments: [String]
    let environment: [String: String]

    /// How often a start that failed is tried again. A script that was just written may be briefly
    /// "busy" (ETXTBSY) while another thread's child still holds its write descriptor between fork
    /// and exec; Foundation reports that only as a generic error, so any failed start is retried.
    static let startAttempts = 5

    func run() throws -> Output {
        var attempt = 1
        while true {
            do {
                return try runOnce()
            } catch is StartFailure where attempt < Self.startAttempts {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            } catch let error as StartFailure {
                throw KubeConfigError(.execFailed, "exec plugin \(executable): cannot start: \(error.underlying.localizedDescription)")
            }
        }
    }

    /// The process could not be started at all.
    private struct StartFailure: Error {
        var underlying: any Error
    }

    private func runOnce() throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let stdout = Pipe()
        // stderr goes to a file so a chatty plugin cannot fill a pipe while stdout is drained.
        let stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-exec-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: stderrURL.path, contents: nil) else {
            throw KubeConfigError(.execFailed, "exec plugin \(executable): cannot create \(stderrURL.path) for its stderr")
        }
        defer { try? FileManager.default.removeItem(at: stderrURL) }  // cleanup only; the result is already read
        let stderr = try FileHandle(forWritingTo: stderrURL)
        defer { try? stderr.close() }  // cleanup only
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw StartFailure(underlying: error)
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: [UInt8](output), stderr: Self.text(of: stderrURL))
    }

    private static func text(of url: URL) -> String {
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            return "(stderr unreadable: \(error.localizedDescription))"
        }
    }
}
