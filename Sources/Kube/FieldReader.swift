import Foundation
import YAML

/// A lenient view of one mapping in a kubeconfig: unknown keys are ignored, as client-go does,
/// while wrong types and missing required fields throw with file, position and field path.
struct FieldReader {
    let node: Node
    let path: FieldPath
    let file: String

    /// Wraps `node`, which must be a mapping; `null` reads as an empty mapping.
    init(_ node: Node, path: FieldPath = FieldPath(), file: String) throws {
        guard node.isNull || node.mapping != nil else {
            throw Self.mismatch(node, expected: "mapping", path: path, file: file)
        }
        self.node = node
        self.path = path
        self.file = file
    }

    /// The value of `key`, treating `null` as absent.
    func value(_ key: String) -> Node? {
        guard let value = node.mapping?.first(where: { $0.key.scalarText == key })?.value, !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value.string else { throw mismatch(value, expected: "string", key: key) }
        return string
    }

    func requiredString(_ key: String) throws -> String {
        guard let string = try string(key) else { throw missing(key) }
        return string
    }

    func bool(_ key: String) throws -> Bool {
        guard let value = value(key) else { return false }
        guard let bool = value.bool else { throw mismatch(value, expected: "boolean", key: key) }
        return bool
    }

    func strings(_ key: String) throws -> [String] {
        guard let value = value(key) else { return [] }
        guard let items = value.sequence else { throw mismatch(value, expected: "list of strings", key: key) }
        return try items.enumerated().map { index, item in
            guard let string = item.string else {
                throw Self.mismatch(item, expected: "string", path: path.appending(key).appending(index: index), file: file)
            }
            return string
        }
    }

    func object(_ key: String) throws -> FieldReader? {
        guard let value = value(key) else { return nil }
        return try FieldReader(value, path: path.appending(key), file: file)
    }

    func requiredObject(_ key: String) throws -> FieldReader {
        guard let object = try object(key) else { throw missing(key) }
        return object
    }

    /// A list of mappings, each wrapped.
    func list(_ key: String) throws -> [FieldReader] {
        guard let value = value(key) else { return [] }
        guard let items = value.sequence else { throw mismatch(value, expected: "list", key: key) }
        return try items.enumerated().map { index, item in
            try FieldReader(item, path: path.appending(key).appending(index: index), file: file)
        }
    }

    /// Decoded base64 (`certificate-authority-data`, ...).
    func base64(_ key: String) throws -> [UInt8]? {
        guard let text = try string(key) else { return nil }
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw error(.invalidValue, at: value(key), key: key, "is not valid base64; encode the PEM file with `base64 -w0`")
        }
        return [UInt8](data)
    }

    /// A file path, made absolute against the directory of the kubeconfig that holds it.
    func filePath(_ key: String) throws -> String? {
        try string(key).map { Self.resolve($0, against: file) }
    }

    static func resolve(_ path: String, against file: String) -> String {
        guard !path.isEmpty, !path.hasPrefix("/") else { return path }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        return directory.appendingPathComponent(path).standardizedFileURL.path
    }

    func missing(_ key: String) -> KubeConfigError {
        KubeConfigError(.missingField, "required field \"\(key)\" is missing", file: file, mark: node.mark, path: "\(path)")
    }

    func error(_ kind: KubeConfigError.Kind, at value: Node?, key: String, _ message: String) -> KubeConfigError {
        KubeConfigError(kind, message, file: file, mark: value?.mark ?? node.mark, path: "\(path.appending(key))")
    }

    private func mismatch(_ value: Node, expected: String, key: String) -> KubeConfigError {
        Self.mismatch(value, expected: expected, path: path.appending(key), file: file)
    }

    static func mismatch(_ value: Node, expected: String, path: FieldPath, file: String) -> KubeConfigError {
        KubeConfigError(.typeMismatch, "expected \(expected), got \(value.valueSummary)", file: file, mark: value.mark, path: "\(path)")
    }
}
