/// A line diff in the unified format of `diff -u`, for showing how a live object differs.
enum UnifiedDiff {
    /// One line of the edit script, with its index in the old and the new text.
    private struct Edit {
        enum Kind { case same, delete, insert }
        var kind: Kind
        var line: String
        var old: Int
        var new: Int
    }

    /// `--- oldName`, `+++ newName` and hunks with `context` lines around each change; "" when equal.
    static func text(from old: String, to new: String, oldName: String, newName: String, context: Int = 3) -> String {
        let edits = script(lines(old), lines(new))
        let changes = edits.indices.filter { edits[$0].kind != .same }
        guard !changes.isEmpty else { return "" }
        var output = ["--- \(oldName)", "+++ \(newName)"]
        for range in hunks(changes, count: edits.count, context: context) {
            output.append(header(Array(edits[range])))
            for edit in edits[range] {
                switch edit.kind {
                case .same: output.append(" " + edit.line)
                case .delete: output.append("-" + edit.line)
                case .insert: output.append("+" + edit.line)
                }
            }
        }
        return output.joined(separator: "\n") + "\n"
    }

    private static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The shortest edit script by longest common subsequence; objects are a few hundred lines, so
    /// the quadratic table is small. Deletions come before insertions, as `diff` prints them.
    private static func script(_ a: [String], _ b: [String]) -> [Edit] {
        let width = b.count + 1
        var common = [Int](repeating: 0, count: (a.count + 1) * width)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                common[i * width + j] = a[i] == b[j]
                    ? common[(i + 1) * width + j + 1] + 1
                    : max(common[(i + 1) * width + j], common[i * width + j + 1])
            }
        }
        var edits: [Edit] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(Edit(kind: .same, line: a[i], old: i, new: j))
                (i, j) = (i + 1, j + 1)
            } else if j == b.count || (i < a.count && common[(i + 1) * width + j] >= common[i * width + j + 1]) {
                edits.append(Edit(kind: .delete, line: a[i], old: i, new: j))
                i += 1
            } else {
                edits.append(Edit(kind: .insert, line: b[j], old: i, new: j))
                j += 1
            }
        }
        return edits
    }

    /// Ranges of the script to print: each change with `context` lines either side, merged where
    /// they touch.
    private static func hunks(_ changes: [Int], count: Int, context: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for change in changes {
            let range = max(0, change - context)..<min(count, change + context + 1)
            if let last = ranges.last, range.lowerBound <= last.upperBound {
                ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
            } else {
                ranges.append(range)
            }
        }
        return ranges
    }

    /// `@@ -start,count +start,count @@`; an empty side starts at the line before, as `diff` writes it.
    private static func header(_ edits: [Edit]) -> String {
        let oldCount = edits.filter { $0.kind != .insert }.count
        let newCount = edits.filter { $0.kind != .delete }.count
        let first = edits[0]
        let oldStart = oldCount == 0 ? first.old : first.old + 1
        let newStart = newCount == 0 ? first.new : first.new + 1
        return "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@"
    }
}
