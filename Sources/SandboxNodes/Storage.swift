import Foundation
import Kube
import Logging
import YAML

/// Directory work shared by the provisioner and the snapshotter.
enum Directories {
    /// Copies `source` to `destination` through a temporary name, so a half-done copy is never
    /// taken for a finished one; an existing `destination` is kept.
    static func copy(_ source: URL, to destination: URL) throws {
        let files = FileManager.default
        guard !files.fileExists(atPath: destination.path) else { return }
        try files.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        if files.fileExists(atPath: source.path) {
            try files.copyItem(at: source, to: temporary)
        } else {
            try files.createDirectory(at: temporary, withIntermediateDirectories: true)
        }
        try files.moveItem(at: temporary, to: destination)
    }

    /// Removes a directory; one already gone is fine.
    static func remove(_ directory: URL) throws {
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        try FileManager.default.removeItem(at: directory)
    }

    /// The bytes of the regular files under `directory`.
    static func size(_ directory: URL) -> Int {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey]) else { return 0 }
        var total = 0
        for case let file as URL in walker {
            do { total += try file.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0 } catch {
                continue  // a file removed while walking has no size to add
            }
        }
        return total
    }
}

/// The simulated dynamic provisioner: binds each new PersistentVolumeClaim to a new
/// PersistentVolume (a directory under the sandbox root, copied from a VolumeSnapshot when the
/// claim's `dataSource` names one) and removes the directory when the claim is gone.
struct Provisioner: Component {
    static let name = "sandbox.cairn.dev/hostpath"
    let name = "provisioner"
    let watches = [Resources.claims, Resources.volumes, Resources.snapshots]
    let cluster: Cluster
    let layout: NodeLayout

    func reconcile() async throws -> Duration? {
        let claims = cluster.objects(Resources.claims)
        let claimUIDs = Set(claims.map(\.uid))
        var blocked = Set<String>()
        for volume in cluster.objects(Resources.volumes) where isOurs(volume) {
            let ref = volume[path: "spec", "claimRef"] ?? .null
            guard let uid = ref["uid"]?.string, !claimUIDs.contains(uid) else { continue }
            let namespace = ref["namespace"]?.string ?? ""
            let claim = ref["name"]?.string ?? ""
            guard volume[path: "spec", "persistentVolumeReclaimPolicy"]?.string == "Delete" else {
                blocked.insert("\(namespace)/\(claim)")
                continue
            }
            try Directories.remove(layout.volume(namespace: namespace, claim: claim))
            try await cluster.delete(Resources.volumes, namespace: nil, name: volume.name)
        }
        for claim in claims where !claim.isDeleting && claim[path: "status", "phase"]?.string != "Bound" {
            guard !blocked.contains("\(claim.namespace)/\(claim.name)") else { continue }
            let volumeName = claim[path: "spec", "volumeName"]?.string ?? ""
            guard volumeName.isEmpty || volumeName == "pvc-\(claim.uid)" else { continue }  // bound to a volume someone else made
            try await provision(claim)
        }
        return nil
    }

    private func isOurs(_ volume: Node) -> Bool {
        volume[path: "metadata", "annotations", "pv.kubernetes.io/provisioned-by"]?.string == Self.name
    }

    private func provision(_ claim: Node) async throws {
        let directory = layout.volume(namespace: claim.namespace, claim: claim.name)
        if let source = dataSource(of: claim) {
            guard let content = readyContent(namespace: claim.namespace, snapshot: source) else { return }  // a snapshot's change wakes us
            try Directories.copy(layout.snapshot(content: content), to: directory)
        } else {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        let volumeName = "pvc-\(claim.uid)"
        let storage = claim[path: "spec", "resources", "requests", "storage"] ?? "1Gi"
        let accessModes = claim[path: "spec", "accessModes"] ?? ["ReadWriteOnce"]
        var spec: Node = .mapping([
            "capacity": .mapping(["storage": storage]), "accessModes": accessModes, "persistentVolumeReclaimPolicy": "Delete",
            "volumeMode": "Filesystem", "hostPath": .mapping(["path": .string(directory.path), "type": "DirectoryOrCreate"]),
            "claimRef": .mapping(["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": .string(claim.namespace),
                                  "name": .string(claim.name), "uid": .string(claim.uid)]),
        ])
        if let storageClass = claim[path: "spec", "storageClassName"], storageClass.string != nil { spec["storageClassName"] = storageClass }
        try await cluster.create(Resources.volumes, .mapping([
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": .mapping(["name": .string(volumeName), "annotations": .strings(["pv.kubernetes.io/provisioned-by": Self.name])]),
            "spec": spec,
        ]))
        try await cluster.patchStatus(Resources.volumes, namespace: nil, name: volumeName, .mapping(["phase": "Bound"]))
        _ = try await cluster.client.patch(Resources.claims, namespace: claim.namespace, name: claim.name, .mapping([
            "metadata": .mapping(["annotations": .strings(["pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                                                          "volume.kubernetes.io/storage-provisioner": Self.name])]),
            "spec": .mapping(["volumeName": .string(volumeName)]),
        ]))
        try await cluster.patchStatus(Resources.claims, namespace: claim.namespace, name: claim.name,
                                      .mapping(["phase": "Bound", "accessModes": accessModes, "capacity": .mapping(["storage": storage])]))
    }

    /// The VolumeSnapshot a claim is to be restored from, if any.
    private func dataSource(of claim: Node) -> String? {
        for key in ["dataSourceRef", "dataSource"] {
            if let source = claim[path: "spec", key], source["kind"]?.string == "VolumeSnapshot" { return source["name"]?.string }
        }
        return nil
    }

    private func readyContent(namespace: String, snapshot: String) -> String? {
        guard let object = cluster.object(Resources.snapshots, namespace: namespace, name: snapshot),
              object[path: "status", "readyToUse"]?.bool == true else { return nil }
        return object[path: "status", "boundVolumeSnapshotContentName"]?.string
    }
}

/// The hostpath-style CSI snapshotter: a VolumeSnapshot of a claim copies the claim's directory
/// and becomes ready with a bound VolumeSnapshotContent; deleting it removes the copy when the
/// deletionPolicy is Delete.
struct Snapshotter: Component {
    static let driver = "hostpath.sandbox.cairn.dev"
    let name = "snapshotter"
    let watches = [Resources.snapshots, Resources.snapshotContents, Resources.snapshotClasses, Resources.claims]
    let cluster: Cluster
    let layout: NodeLayout

    func reconcile() async throws -> Duration? {
        let snapshots = cluster.objects(Resources.snapshots)
        let uids = Set(snapshots.map(\.uid))
        for content in cluster.objects(Resources.snapshotContents) where content[path: "spec", "driver"]?.string == Self.driver {
            guard let uid = content[path: "spec", "volumeSnapshotRef", "uid"]?.string, !uids.contains(uid),
                  content[path: "spec", "deletionPolicy"]?.string == "Delete" else { continue }
            try Directories.remove(layout.snapshot(content: content.name))
            try await cluster.delete(Resources.snapshotContents, namespace: nil, name: content.name)
        }
        for snapshot in snapshots where !snapshot.isDeleting && snapshot[path: "status", "readyToUse"]?.bool != true {
            try await take(snapshot)
        }
        return nil
    }

    private func take(_ snapshot: Node) async throws {
        guard let claimName = snapshot[path: "spec", "source", "persistentVolumeClaimName"]?.string else { return }  // pre-provisioned content: not simulated
        let deletionPolicy: String
        switch deletionPolicyOfClass(snapshot) {
        case .success(let policy): deletionPolicy = policy
        case .failure(let error): return try await report(error.description, on: snapshot)
        }
        guard let claim = try await cluster.read(Resources.claims, namespace: snapshot.namespace, name: claimName) else {
            return try await report("Failed to create snapshot content with error failed to get input parameters to create snapshot \(snapshot.name): persistentvolumeclaim \"\(claimName)\" not found in namespace \(snapshot.namespace)", on: snapshot)
        }
        guard claim[path: "status", "phase"]?.string == "Bound" else {
            return try await report("the source PVC \(claimName) is not yet bound to a volume", on: snapshot)
        }
        let contentName = "snapcontent-\(snapshot.uid)"
        let directory = layout.snapshot(content: contentName)
        try Directories.copy(layout.volume(namespace: snapshot.namespace, claim: claimName), to: directory)
        let bytes = Directories.size(directory)
        let created = Date()
        var spec: Node = .mapping([
            "deletionPolicy": .string(deletionPolicy), "driver": .string(Self.driver),
            "source": .mapping(["volumeHandle": .string(claim[path: "spec", "volumeName"]?.string ?? claimName)]),
            "volumeSnapshotRef": .mapping(["apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "namespace": .string(snapshot.namespace),
                                           "name": .string(snapshot.name), "uid": .string(snapshot.uid)]),
        ])
        if let className = snapshot[path: "spec", "volumeSnapshotClassName"] { spec["volumeSnapshotClassName"] = className }
        try await cluster.create(Resources.snapshotContents, .mapping([
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent", "metadata": .mapping(["name": .string(contentName)]), "spec": spec,
        ]))
        try await cluster.patchStatus(Resources.snapshotContents, namespace: nil, name: contentName, .mapping([
            "readyToUse": true, "restoreSize": .int(bytes), "snapshotHandle": .string(contentName),
            "creationTime": .int(Int(created.timeIntervalSince1970 * 1_000_000_000)),
        ]))
        let restoreSize = claim[path: "status", "capacity", "storage"] ?? claim[path: "spec", "resources", "requests", "storage"] ?? .string(String(bytes))
        try await cluster.patchStatus(Resources.snapshots, namespace: snapshot.namespace, name: snapshot.name, .mapping([
            "boundVolumeSnapshotContentName": .string(contentName), "readyToUse": true, "restoreSize": restoreSize,
            "creationTime": timestamp(created), "error": .null,
        ]))
    }

    /// The class's deletionPolicy: the named class, else the default class, else Delete.
    private func deletionPolicyOfClass(_ snapshot: Node) -> Result<String, NodesError> {
        let classes = cluster.objects(Resources.snapshotClasses)
        if let name = snapshot[path: "spec", "volumeSnapshotClassName"]?.string {
            guard let found = classes.first(where: { $0.name == name }) else {
                return .failure(NodesError("Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io \"\(name)\" not found"))
            }
            return .success(found["deletionPolicy"]?.string ?? "Delete")
        }
        let fallback = classes.first { $0[path: "metadata", "annotations", "snapshot.storage.kubernetes.io/is-default-class"]?.string == "true" }
        return .success(fallback?["deletionPolicy"]?.string ?? "Delete")
    }

    /// Writes `status.error` (and `readyToUse: false`) unless it already says this.
    private func report(_ message: String, on snapshot: Node) async throws {
        guard snapshot[path: "status", "error", "message"]?.string != message else { return }
        try await cluster.patchStatus(Resources.snapshots, namespace: snapshot.namespace, name: snapshot.name, .mapping([
            "readyToUse": false, "error": .mapping(["message": .string(message), "time": timestamp(Date())]),
        ]))
    }
}
