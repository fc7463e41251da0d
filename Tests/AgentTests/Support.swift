import Agent
import CairnAPI
import CairnTesting
import Foundation
import Logging
import Subprocess
import Testing
import YAML
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A per-test directory under the system temporary directory, removed when the test ends.
final class TestDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-agent-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        // Best effort: make every directory writable again (the unreadable-file test closes some), then remove.
        if let paths = FileManager.default.enumerator(atPath: url.path) {
            for case let path as String in paths {
                chmod(url.appendingPathComponent(path).path, 0o755)
            }
        }
        try? FileManager.default.removeItem(at: url)
    }

    /// A new (created) directory `name` inside.
    func directory(_ name: String) throws -> URL {
        let directory = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    var path: String { url.path }
}

/// Test data: large and small files, nested directories and names restic must carry intact.
enum TestData {
    /// Names with spaces, Unicode, a newline, a tab and a leading dot.
    static let oddNames = ["with space.txt", "ünïcödé ☃ 名前.txt", "new\nline.txt", "tab\there", ".hidden", "empty"]

    /// Writes the data set into `directory` on a thread of its own (see `offPool`).
    static func generate(in directory: URL, largeBytes: Int = 3 << 20) async throws {
        try await offPool { try generateNow(in: directory, largeBytes: largeBytes) }
    }

    /// Writes the data set into `directory`: one `largeBytes` file of pseudo-random bytes, 40 small
    /// files in nested directories and the odd names.
    static func generateNow(in directory: URL, largeBytes: Int) throws {
        try write(random(largeBytes), to: directory.appendingPathComponent("large.bin"))
        for index in 0..<40 {
            let sub = directory.appendingPathComponent("dir-\(index % 4)/nested-\(index % 3)")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try write(random(100 + index * 37), to: sub.appendingPathComponent("small-\(index).dat"))
        }
        for (index, name) in oddNames.enumerated() {
            try write(name == "empty" ? Data() : Data("file \(index): \(name)\n".utf8), to: directory.appendingPathComponent(name))
        }
    }

    static func write(_ data: Data, to file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    /// `count` bytes from /dev/urandom: incompressible, so restic stores every one.
    static func random(_ count: Int) throws -> Data {
        let source = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        defer { try? source.close() }
        return source.readData(ofLength: count)
    }

    /// Every entry under `directory` by relative path: a file's bytes, or nil for a directory.
    static func contents(of directory: URL) throws -> [String: Data?] {
        var result: [String: Data?] = [:]
        guard let paths = FileManager.default.enumerator(atPath: directory.path) else { return result }
        for case let path as String in paths {
            let full = directory.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full.path, isDirectory: &isDirectory)
            result[path] = isDirectory.boolValue ? .some(nil) : .some(try Data(contentsOf: full))
        }
        return result
    }

    /// Checks that `restored` holds exactly `original`'s entries with byte-identical files.
    static func expectIdentical(_ original: URL, _ restored: URL, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (want, got) = try await offPool { (try contents(of: original), try contents(of: restored)) }
        #expect(Set(got.keys) == Set(want.keys), "restored entries differ", sourceLocation: sourceLocation)
        for (path, data) in want {
            #expect(got[path] == data, "\(path.debugDescription) differs after restore", sourceLocation: sourceLocation)
        }
        #expect(want.count > TestData.oddNames.count, "the data set is there", sourceLocation: sourceLocation)
    }
}

/// Runs blocking file work on a thread of its own, so that it does not hold one of Swift's few
/// cooperative threads, which every test in the process (and the agent's timers) share.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// Agents for tests: the real `Agent` with an environment built from the process's.
enum TestAgent {
    static let quiet = Logger(label: "cairn.agent.test") { _ in SwiftLogNoOpLogHandler() }

    /// The process's environment plus `extra` (RESTIC_*, AWS_*, ...), without the caller's restic settings.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RESTIC_") && !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("CAIRN_") }
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    static func run(_ request: AgentRequest, _ extra: [String: String], options: AgentOptions = AgentOptions(), interruption: Interruption = Interruption()) async -> AgentResult {
        await Agent(environment: environment(extra), options: options, interruption: interruption, logger: quiet).run(request)
    }
}

/// Runs restic directly, to look at what the agent did.
enum ResticCLI {
    static func run(_ arguments: [String], _ environment: [String: String], in directory: URL? = nil) async throws -> RunOutput {
        var env: [Environment.Key: String] = [:]
        for (key, value) in TestAgent.environment(environment) { if let key = Environment.Key(rawValue: key) { env[key] = value } }
        let result = try await Subprocess.run(
            .name("restic"), arguments: Arguments(arguments), environment: .custom(env),
            workingDirectory: directory.map { FilePath($0.path) }, input: .none,
            output: .string(limit: Processes.outputLimit), error: .string(limit: Processes.outputLimit))
        return RunOutput(status: Processes.code(result.terminationStatus), stdout: result.standardOutput, stderr: result.standardError)
    }

    /// `restic snapshots --json` as (id, host, tags).
    static func snapshots(_ environment: [String: String], options: [String] = []) async throws -> [(id: String, host: String, tags: [String])] {
        let output = try await run(options + ["snapshots", "--json", "--no-lock"], environment)
        guard output.status == 0 else { throw HarnessError(description: "restic snapshots failed: \(output.stderr)") }
        let list = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]] ?? []
        return list.map { ($0["id"] as? String ?? "", $0["hostname"] as? String ?? "", $0["tags"] as? [String] ?? []) }
    }

    /// The IDs of the repository's lock files.
    static func locks(_ environment: [String: String]) async throws -> [String] {
        let output = try await run(["list", "locks", "--no-lock"], environment)
        guard output.status == 0 else { throw HarnessError(description: "restic list locks failed: \(output.stderr)") }
        return output.stdout.split(separator: "\n").map(String.init)
    }
}

/// What a finished process printed.
struct RunOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Whether the tests run as root (then `chmod 000` does not stop reads, and tmpfs can be mounted).
let runningAsRoot = getuid() == 0

/// The real `cairn` binary running `cairn agent ...`.
enum CairnAgent {
    /// Runs `cairn agent <arguments>` with `environment` added to the test's; with `asNobody` (when
    /// root) it runs as uid/gid 65534 through setpriv, so that file permissions apply.
    static func run(_ arguments: [String], _ environment: [String: String], asNobody: Bool = false) async throws -> RunOutput {
        let (executable, allArguments) = command(arguments, asNobody: asNobody)
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(allArguments), environment: .custom(keys(environment)), input: .none,
            output: .string(limit: Processes.outputLimit), error: .string(limit: Processes.outputLimit))
        return RunOutput(status: Processes.code(result.terminationStatus), stdout: result.standardOutput, stderr: result.standardError)
    }

    /// Starts `cairn agent <arguments>` in a process group of its own and hands `body` its process
    /// ID; the result is the exit code (or 128 + signal) once it ends.
    static func start(_ arguments: [String], _ environment: [String: String], _ body: (pid_t) async throws -> Void) async throws -> Int32 {
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(1))]
        let result = try await Subprocess.run(
            .path(FilePath(Processes.cairnBinary)), arguments: Arguments(["agent"] + arguments), environment: .custom(keys(environment)),
            platformOptions: options, input: .none, output: .discarded, error: .discarded
        ) { execution in
            try await body(execution.processIdentifier.value)
        }
        return Processes.code(result.terminationStatus)
    }

    static func command(_ arguments: [String], asNobody: Bool) -> (String, [String]) {
        if asNobody && runningAsRoot {
            return ("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Processes.cairnBinary, "agent"] + arguments)
        }
        return (Processes.cairnBinary, ["agent"] + arguments)
    }

    private static func keys(_ environment: [String: String]) -> [Environment.Key: String] {
        var result: [Environment.Key: String] = [:]
        for (key, value) in TestAgent.environment(environment) { if let key = Environment.Key(rawValue: key) { result[key] = value } }
        return result
    }

    /// The result the agent wrote to `file`.
    static func result(at file: URL) throws -> AgentResult {
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.utf8.count <= 4096)
        return try NodeDecoder().decode(AgentResult.self, from: try JSON.parse(text))
    }
}
