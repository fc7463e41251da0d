import CairnTesting
import Foundation
import Testing

@testable import cairn

/// The drift diff against GNU `diff -u`, the format users read it as.
@Suite struct UnifiedDiffTests {
    static func numbered(_ range: ClosedRange<Int>) -> [String] { range.map { "line \($0)" } }

    static func text(_ lines: [String]) -> String { lines.map { $0 + "\n" }.joined() }

    static let cases: [(name: String, old: [String], new: [String])] = [
        ("one line changed", numbered(1...20), numbered(1...9) + ["changed"] + numbered(11...20)),
        ("a line inserted at the start", numbered(1...8), ["first"] + numbered(1...8)),
        ("the last line deleted", numbered(1...8), numbered(1...7)),
        ("two changes far apart: two hunks", numbered(1...30), ["one"] + numbered(2...27) + ["two"] + numbered(29...30)),
        ("two changes six lines apart: one hunk", numbered(1...20), numbered(1...4) + ["a"] + numbered(6...11) + ["b"] + numbered(13...20)),
        ("two changes eight lines apart: two hunks", numbered(1...30), numbered(1...4) + ["a"] + numbered(6...13) + ["b"] + numbered(15...30)),
        ("from nothing", [], numbered(1...3)),
        ("to nothing", numbered(1...3), []),
    ]

    @Test("Given two texts, when diffed, then the hunks are GNU diff -u's", arguments: cases)
    func givenTwoTexts_whenDiffed_thenTheHunksAreGNUDiffs(name: String, old: [String], new: [String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let oldFile = directory.appendingPathComponent("old")
        let newFile = directory.appendingPathComponent("new")
        try Data(Self.text(old).utf8).write(to: oldFile)
        try Data(Self.text(new).utf8).write(to: newFile)

        let ours = UnifiedDiff.text(from: Self.text(old), to: Self.text(new), oldName: "live", newName: "rendered")
        let gnu = try await Processes.run("/usr/bin/diff", ["-u", oldFile.path, newFile.path])

        #expect(gnu.status == 1, "\(gnu.stderr)")
        let ourLines = ours.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let gnuLines = gnu.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(ourLines.prefix(2)) == ["--- live", "+++ rendered"])
        #expect(Array(ourLines.dropFirst(2)) == Array(gnuLines.dropFirst(2)), "\(name):\n\(ours)\n\(gnu.stdout)")
    }

    @Test func givenEqualTexts_whenDiffed_thenThereIsNoDiff() {
        #expect(UnifiedDiff.text(from: "a\nb\n", to: "a\nb\n", oldName: "live", newName: "rendered") == "")
    }
}
