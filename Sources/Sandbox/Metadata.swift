import YAML

/// Reading and writing `metadata` fields of JSON-shaped objects.
extension Node {
    /// `metadata.<key>`, read or written; writing `nil` removes the key.
    subscript(meta key: String) -> Node? {
        get { self["metadata"]?[key] }
        set {
            var metadata = self["metadata"] ?? .mapping([])
            metadata[key] = newValue
            self["metadata"] = metadata
        }
    }

    var name: String { self[meta: "name"]?.string ?? "" }
    var namespace: String { self[meta: "namespace"]?.string ?? "" }
    var uid: String { self[meta: "uid"]?.string ?? "" }
    var isDeleting: Bool { self[meta: "deletionTimestamp"].map { !$0.isNull } ?? false }

    /// `metadata.labels` as a dictionary; non-string values are ignored.
    var labels: [String: String] {
        var labels: [String: String] = [:]
        for pair in self[meta: "labels"]?.mapping ?? [] {
            if let key = pair.key.string, let value = pair.value.string { labels[key] = value }
        }
        return labels
    }

    /// `metadata.finalizers`; writing an empty list removes the key.
    var finalizers: [String] {
        get { (self[meta: "finalizers"]?.sequence ?? []).compactMap(\.string) }
        set { self[meta: "finalizers"] = newValue.isEmpty ? nil : .sequence(newValue.map { .string($0) }) }
    }

    /// `metadata.ownerReferences` as written.
    var ownerReferences: [Node] {
        get { self[meta: "ownerReferences"]?.sequence ?? [] }
        set { self[meta: "ownerReferences"] = newValue.isEmpty ? nil : .sequence(newValue) }
    }

    /// The object without `metadata` and, when asked, without `status`: what `generation` tracks.
    func content(excludingStatus: Bool) -> Node {
        var copy = self
        copy["metadata"] = nil
        if excludingStatus { copy["status"] = nil }
        return copy
    }
}
