import Foundation

/// A request's query parameters, decoded as Go's `url.ParseQuery` does (`+` is a space).
struct Query: Sendable {
    private var values: [String: [String]] = [:]

    /// Parses the raw query string (without `?`).
    init(_ raw: String?) {
        for pair in (raw ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[Self.decode(parts[0]), default: []].append(parts.count > 1 ? Self.decode(parts[1]) : "")
        }
    }

    /// The first value of `key`.
    subscript(_ key: String) -> String? { values[key]?.first }

    /// Every value of a repeated `key` (`command=sh&command=-c`), in order.
    func all(_ key: String) -> [String] { values[key] ?? [] }

    /// Whether `key` is `true` or `1`.
    func flag(_ key: String) -> Bool { ["true", "1"].contains(self[key] ?? "") }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
