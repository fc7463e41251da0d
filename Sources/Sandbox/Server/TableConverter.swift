import CairnAPI
import Foundation
import YAML

/// One column of a table: a CRD's printer column, or one of kube-apiserver's for a built-in kind.
struct TableColumn: Sendable {
    var name: String
    /// `integer`, `number`, `string`, `boolean` or `date`.
    var type = "string"
    var format = ""
    var description = ""
    /// 0 for the default view; higher only with `-o wide`.
    var priority = 0
    /// The cell of one object; nil prints as `<none>`.
    var value: @Sendable (Node) -> Node?

    /// A CRD's printer column: the first result of its JSONPath.
    init(_ column: CustomResourceDefinition.Column, path: ColumnPath) {
        self.init(name: column.name, type: column.type, format: column.format ?? "", description: column.description ?? "",
                  priority: column.priority ?? 0) { path.evaluate($0).first }
    }

    init(name: String, type: String = "string", format: String = "", description: String = "", priority: Int = 0,
         value: @escaping @Sendable (Node) -> Node?) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
        self.value = value
    }
}

/// Builds the `meta.k8s.io/v1 Table` that `kubectl get` asks for, as kube-apiserver's CRD table
/// convertor does: Name, then the printer columns (first JSONPath result only, dates as ages),
/// and Age when the columns do not already have one.
struct TableConverter: Sendable {
    var columns: [TableColumn]
    var now: Date
    /// `None`, `Metadata` (the default) or `Object`.
    var includeObject: String

    /// Whether an Accept header asks for a table.
    static func wantsTable(_ accept: String?) -> Bool {
        (accept ?? "").split(separator: ",").contains { $0.contains("as=Table") && $0.contains("g=meta.k8s.io") }
    }

    /// The table of `objects`; `metadata` is the list's (or an empty one for a single object).
    func table(_ objects: [Node], metadata: Node = .mapping([]), withDefinitions: Bool = true) -> Node {
        .mapping([
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": .sequence(withDefinitions ? definitions : []),
            "rows": .sequence(objects.map(row)),
        ])
    }

    private var hasAge: Bool { columns.contains { $0.name == "Age" } }

    private var definitions: [Node] {
        var result: [Node] = [definition("Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0)]
        for column in columns {
            result.append(definition(column.name, type: column.type, format: column.format, description: column.description,
                                     priority: column.priority))
        }
        if !hasAge {
            result.append(definition("Age", type: "date", format: "", description: "CreationTimestamp is a timestamp representing the server time when this object was created.", priority: 0))
        }
        return result
    }

    private func definition(_ name: String, type: String, format: String, description: String, priority: Int) -> Node {
        .mapping(["name": .string(name), "type": .string(type), "format": .string(format), "description": .string(description), "priority": .int(priority)])
    }

    private func row(_ object: Node) -> Node {
        var cells: [Node] = [.string(object.name)]
        for column in columns { cells.append(cell(column.value(object), type: column.type)) }
        if !hasAge { cells.append(cell(object[meta: "creationTimestamp"], type: "date")) }
        var row: Node = .mapping(["cells": .sequence(cells)])
        switch includeObject {
        case "None": break
        case "Object": row["object"] = object
        default:
            row["object"] = .mapping(["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? .mapping([])])
        }
        return row
    }

    private func cell(_ value: Node?, type: String) -> Node {
        guard let value, !value.isNull else { return .null }
        if type == "date", let text = value.string, let date = Self.parseTimestamp(text) {
            return .string(Self.humanDuration(now.timeIntervalSince(date)))
        }
        switch value.value {
        case .string, .int, .double, .bool: return value
        default: return .string(Self.compactJSON(value))
        }
    }

    private static func compactJSON(_ value: Node) -> String {
        do {
            return try JSON.emit(value)
        } catch {
            return "<\(error)>"
        }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// `k8s.io/apimachinery/pkg/util/duration.HumanDuration`.
    static func humanDuration(_ interval: TimeInterval) -> String {
        if interval < -1 { return "<invalid>" }
        let seconds = max(0, Int(interval))
        let minutes = seconds / 60, hours = minutes / 60, days = hours / 24
        switch true {
        case seconds < 120: return "\(seconds)s"
        case minutes < 10: return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s"
        case minutes < 180: return "\(minutes)m"
        case hours < 8: return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m"
        case hours < 48: return "\(hours)h"
        case hours < 24 * 8: return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h"
        case days < 365 * 2: return "\(days)d"
        case days < 365 * 8: return days % 365 == 0 ? "\(days / 365)y" : "\(days / 365)y\(days % 365)d"
        default: return "\(days / 365)y"
        }
    }
}
