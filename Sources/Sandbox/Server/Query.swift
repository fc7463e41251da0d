import Foundation

/// A request's query parameters, decoded as Go's `url.ParseQuery` does (`+` is a space).
struct Query: Sendable {
    private var values: [String: String] = [:]

    /// Parses the raw query string (without `?`).
    init(_ raw: String?) {
        for pair in (raw ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(parts[0])
            if values[key] == nil { values[key] = parts.count > 1 ? Self.decode(parts[1]) : "" }
        }
    }

    /// The first value of `key`.
    subscript(_ key: String) -> String? { values[key] }

    /// Whether `key` is `true` or `1`.
    func flag(_ key: String) -> Bool { ["true", "1"].contains(values[key] ?? "") }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
