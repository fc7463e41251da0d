/// A wait in a test ran past its limit.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    /// What was waited for, and for how long.
    public let description: String

    /// Creates the error.
    public init(description: String) { self.description = description }
}

/// Runs `body`, cancelling it and failing with `DeadlineExceeded` naming `what` when it takes longer
/// than `limit`, so a test never hangs on a stream that does not end.
public func withDeadline<T: Sendable>(
    _ what: String, _ limit: Duration = .seconds(30), _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw DeadlineExceeded(description: "\(what): not done within \(limit)")
        }
        return value
    }
}

/// Polls `probe` every `interval` until it returns a value; fails with `DeadlineExceeded` naming
/// `what` after `limit`.
public func eventually<T: Sendable>(
    _ what: String, _ limit: Duration = .seconds(30), interval: Duration = .milliseconds(50),
    _ probe: @Sendable () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while true {
        if let value = try await probe() { return value }
        guard clock.now < deadline else { throw DeadlineExceeded(description: "\(what): not done within \(limit)") }
        try await Task.sleep(for: interval)
    }
}

/// Polls `condition` every `interval` until it holds; fails with `DeadlineExceeded` naming `what`
/// after `limit`.
public func eventually(
    _ what: String, _ limit: Duration = .seconds(30), interval: Duration = .milliseconds(50),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    _ = try await eventually(what, limit, interval: interval) { try await condition() ? true : nil }
}
