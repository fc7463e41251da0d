#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one benchmark process measured: printed as one `key=value` line for the driver to read.
public struct BenchResult: Sendable {
    /// The contender's name, as the driver's table shows it.
    public var name: String
    /// Input bytes parsed.
    public var bytes: Int
    /// Wall time of the parse alone, from a monotonic clock.
    public var seconds: Double
    /// Documents the contender produced; every contender must agree.
    public var documents: Int
    /// The contender's own node count, so the parse result is used and cannot be optimised away.
    public var nodes: Int
    /// Peak resident set size before the parse started (the input is already in memory).
    public var rssBeforeKiB: Int
    /// Peak resident set size after the parse, result still alive.
    public var rssPeakKiB: Int

    /// Creates a result.
    public init(
        name: String, bytes: Int, seconds: Double, documents: Int, nodes: Int, rssBeforeKiB: Int, rssPeakKiB: Int
    ) {
        self.name = name
        self.bytes = bytes
        self.seconds = seconds
        self.documents = documents
        self.nodes = nodes
        self.rssBeforeKiB = rssBeforeKiB
        self.rssPeakKiB = rssPeakKiB
    }

    /// The line the driver parses; keep the keys stable.
    public var line: String {
        "bench name=\(name) bytes=\(bytes) seconds=\(format6(seconds)) documents=\(documents) nodes=\(nodes)"
            + " rss_before_kib=\(rssBeforeKiB) rss_peak_kib=\(rssPeakKiB)"
    }
}

/// Seconds with microsecond precision, without Foundation's `String(format:)`.
private func format6(_ seconds: Double) -> String {
    let micros = Int((seconds * 1_000_000).rounded())
    let fraction = String(micros % 1_000_000)
    return "\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
}

/// Reads a whole file into memory; the benchmarks time the parse, never the read.
public func readWholeFile(_ path: String) throws(BenchError) -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw BenchError("cannot open \(path): \(String(cString: strerror(errno))); run Benchmarks/run-yaml-parse to generate it")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[..<count])
    }
    guard ferror(file) == 0 else { throw BenchError("error reading \(path)") }
    return bytes
}

/// The process's peak resident set size so far, in KiB (Linux reports `ru_maxrss` in KiB).
public func peakRSSKiB() -> Int {
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    return Int(usage.ru_maxrss)
}

/// Times `body` with the monotonic clock and returns its result with the elapsed seconds.
public func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    let elapsed = start.duration(to: clock.now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (result, seconds)
}

/// A failure that ends a benchmark process with a message on standard error.
public struct BenchError: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public var description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// The command line every benchmark executable takes: `--mode NAME FILE`.
public struct BenchArguments {
    /// Which contender to run.
    public var mode: String
    /// The input file.
    public var path: String

    /// Reads `--mode NAME FILE`, or explains the usage and exits with 2.
    public init(modes: [String]) {
        let args = Array(CommandLine.arguments.dropFirst())
        guard args.count == 3, args[0] == "--mode", modes.contains(args[1]) else {
            let tool = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? "bench"
            printToStandardError("usage: \(tool) --mode \(modes.joined(separator: "|")) FILE")
            exit(2)
        }
        mode = args[1]
        path = args[2]
    }
}

/// Runs a benchmark body, printing its result line, or its error to standard error with exit 1.
public func runBenchmark(_ body: () throws -> BenchResult) -> Never {
    do {
        print(try body().line)
        exit(0)
    } catch {
        printToStandardError("error: \(error)")
        exit(1)
    }
}

/// Writes one line to standard error (the C `stderr` global is not concurrency-safe in Swift 6).
public func printToStandardError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
