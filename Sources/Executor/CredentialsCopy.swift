import Blueprint
import CairnAPI
import YAML

/// The copy of a BackupStorage's credentials Secret in a session's namespace: pure.
///
/// The storage usually lives in an admin's namespace, and a pod can only read Secrets of its own
/// namespace, so the executor copies the credentials next to the backup Job, and only into
/// namespaces the storage's usagePolicy allows. The copy is brought in step with its source each
/// time a session starts there.
enum CredentialsCopy {
    /// `cairn-storage-<storage namespace>-<storage>`, shortened past 63 characters.
    static func name(storage: SessionFailure.Ref) -> String {
        Naming.shortened("cairn-storage-\(storage.namespace)-\(storage.name)")
    }

    /// The copy of `source` in `namespace`: its `type` and `data`, labelled as Cairn's.
    static func desired(source: Node, storage: SessionFailure.Ref, namespace: String) -> Node {
        let labels = [
            CairnLabel.managedBy: CairnLabel.managedByValue, ExecutorLabel.storage: Naming.labelValue(storage.name),
            ExecutorLabel.storageNamespace: Naming.labelValue(storage.namespace),
        ]
        var secret: Node = .mapping([
            "apiVersion": "v1", "kind": "Secret",
            "metadata": .mapping(["name": .string(name(storage: storage)), "namespace": .string(namespace), "labels": .strings(labels)]),
            "type": source["type"] ?? "Opaque",
        ])
        secret["data"] = source["data"] ?? .mapping([])
        if let stringData = source["stringData"] { secret["stringData"] = stringData }
        return secret
    }

    /// Whether a Secret carries Cairn's managed-by label, so Cairn may overwrite it.
    static func isManaged(_ secret: Node) -> Bool {
        secret.stringMap("labels")[CairnLabel.managedBy] == CairnLabel.managedByValue
    }

    /// The update that brings `existing` in step with `desired`, or nil when it is in step.
    static func update(_ existing: Node, to desired: Node) -> Node? {
        guard existing["data"] ?? .mapping([]) != desired["data"] ?? .mapping([]) || existing["type"] != desired["type"]
            || existing.stringMap("labels") != desired.stringMap("labels") else { return nil }
        var updated = existing
        updated["type"] = desired["type"]
        updated["data"] = desired["data"]
        var metadata = existing["metadata"] ?? .mapping([])
        metadata["labels"] = desired[path: "metadata", "labels"]
        updated["metadata"] = metadata
        return updated
    }
}
