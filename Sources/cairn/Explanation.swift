import Blueprint
import Foundation

/// The `--explain` view: which blueprint each target used and where every value came from.
enum Explanation {
    /// One block per rendered target, with a table of its variables.
    static func text(for results: [OfflineRenderer.Result]) -> String {
        results.map(block).joined(separator: "\n")
    }

    private static func block(_ result: OfflineRenderer.Result) -> String {
        let namespace = result.rendering.configuration.metadata.namespace ?? ""
        return block(title: "\(result.object.kind) \(namespace)/\(result.object.name) (\(result.object.location))", rendering: result.rendering)
    }

    /// A title line, the configuration and blueprint, and a table of the variables: value, source, use.
    static func block(title: String, rendering: Rendering) -> String {
        let config = rendering.configuration.metadata
        let blueprint = "\(rendering.blueprint.namespace ?? "")/\(rendering.blueprint.name)"
        var text = title + "\n"
        text += "  renders BackupConfiguration \(config.namespace ?? "")/\(config.name ?? "") from BackupBlueprint \(blueprint)\n"
        let rows = rendering.provenance.sorted { $0.name < $1.name }.map { variable in
            // Sorted: a blueprint read back from the API server has its keys sorted, and must explain alike.
            [variable.name, display(variable.value), "\(variable.source)", variable.paths.sorted().joined(separator: ", ")]
        }
        return text + table(header: ["VARIABLE", "VALUE", "SOURCE", "USED AT"], rows: rows)
    }

    /// Values as they would be read back: empty strings and newlines made visible.
    private static func display(_ value: String) -> String {
        if value.isEmpty { return "\"\"" }
        return value.replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A kubectl-style table: columns padded to their widest cell, three spaces apart.
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "   ")
        }.map { "  " + $0 }.joined(separator: "\n") + "\n"
    }
}
