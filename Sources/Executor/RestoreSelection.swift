import CairnAPI
import Foundation
import Kube

/// Which Snapshot a RestoreSession restores, and into which PVC: pure, so every refusal is tested
/// without a server.
///
/// It refuses what K8up lets through: a `latest` that silently picks another PVC's snapshot, and a
/// restore over a PVC the snapshot was not taken of, unless the session says so explicitly.
public enum RestoreSelection {
    /// What the restore will do.
    public struct Choice: Sendable, Equatable {
        /// The Snapshot object restored.
        public var snapshot: String
        /// The restic snapshot behind it.
        public var resticSnapshotID: String
        /// The PVC the snapshot was taken of.
        public var sourcePVC: String
        /// The PVC restored into.
        public var targetPVC: String
        /// Whether that PVC is created from `spec.target.pvcTemplate`.
        public var createsPVC: Bool
    }

    /// Chooses the snapshot for the restore `restore` among `snapshots` (those of its namespace).
    public static func choose(_ restore: RestoreSession, among snapshots: [Snapshot]) -> Result<Choice, RestoreSelectionError> {
        let name = "RestoreSession \(restore.metadata.namespace ?? "")/\(restore.metadata.name ?? "")"
        let spec = restore.spec
        let target: (pvc: String, creates: Bool)
        switch (spec.target.pvc, spec.target.pvcTemplate) {
        case (let pvc?, nil): target = (pvc, false)
        case (nil, let template?): target = (template.name, true)
        case (.some, .some):
            return .failure(.init(name, "spec.target", "names both pvc and pvcTemplate; keep one: an existing PVC, or a new one from the template"))
        case (nil, nil):
            return .failure(.init(name, "spec.target", "names no PVC; set spec.target.pvc to an existing PVC, or spec.target.pvcTemplate for a new one"))
        }
        if spec.source.volumeSnapshot != nil {
            return .failure(.init(name, "spec.source.volumeSnapshot", "is not supported by restic restores yet; name a Snapshot in spec.source.snapshot"))
        }
        let chosen: Snapshot
        switch pick(spec.source, target: target, snapshots: snapshots, name: name) {
        case .success(let snapshot): chosen = snapshot
        case .failure(let error): return .failure(error)
        }
        guard let resticID = chosen.spec.resticSnapshotID else {
            return .failure(.init(name, "spec.source.snapshot", "names Snapshot \(chosen.metadata.name ?? ""), which has no restic snapshot (method \(chosen.spec.method.rawValue)); choose a restic one"))
        }
        if !target.creates, chosen.spec.pvc != target.pvc, spec.target.allowDifferentPVC != true {
            return .failure(.init(name, "spec.target.pvc", "is \(target.pvc), but Snapshot \(chosen.metadata.name ?? "") holds PVC \(chosen.spec.pvc); restore into \(chosen.spec.pvc), or set spec.target.allowDifferentPVC: true to overwrite \(target.pvc) with it"))
        }
        return .success(Choice(snapshot: chosen.metadata.name ?? "", resticSnapshotID: resticID, sourcePVC: chosen.spec.pvc,
                               targetPVC: target.pvc, createsPVC: target.creates))
    }

    private static func pick(_ source: RestoreSource, target: (pvc: String, creates: Bool), snapshots: [Snapshot], name: String) -> Result<Snapshot, RestoreSelectionError> {
        if let named = source.snapshot, named != "latest" {
            guard let snapshot = snapshots.first(where: { $0.metadata.name == named }) else {
                return .failure(.init(name, "spec.source.snapshot", "names Snapshot \(named), which does not exist; list them with kubectl get snapshots"))
            }
            if let configuration = source.configuration, snapshot.spec.configuration != configuration {
                return .failure(.init(name, "spec.source.snapshot", "names Snapshot \(named) of configuration \(snapshot.spec.configuration), not of spec.source.configuration \(configuration)"))
            }
            if let pvc = source.pvc, snapshot.spec.pvc != pvc {
                return .failure(.init(name, "spec.source.snapshot", "names Snapshot \(named) of PVC \(snapshot.spec.pvc), not of spec.source.pvc \(pvc)"))
            }
            return .success(snapshot)
        }
        guard let configuration = source.configuration else {
            return .failure(.init(name, "spec.source.configuration", "is required with snapshot latest; name the BackupConfiguration whose snapshots to choose from"))
        }
        var before: Date?
        if let text = source.before {
            guard let date = KubeTime.date(text) else {
                return .failure(.init(name, "spec.source.before", "is \"\(text)\", not an RFC 3339 time; write it like 2026-11-21T01:30:00Z"))
            }
            before = date
        }
        let ofConfiguration = snapshots.filter { $0.spec.configuration == configuration && $0.spec.resticSnapshotID != nil }
        let pvc: String
        if let named = source.pvc {
            pvc = named
        } else if !target.creates {
            pvc = target.pvc
        } else {
            let pvcs = Set(ofConfiguration.map(\.spec.pvc)).sorted()
            guard pvcs.count <= 1 else {
                return .failure(.init(name, "spec.source.pvc", "is required: configuration \(configuration) has snapshots of \(pvcs.count) PVCs (\(pvcs.joined(separator: ", "))); name the one to restore"))
            }
            pvc = pvcs.first ?? ""
        }
        let candidates = ofConfiguration.filter { snapshot in
            guard snapshot.spec.pvc == pvc, let time = KubeTime.date(snapshot.spec.time) else { return false }
            return before.map { time < $0 } ?? true
        }
        guard let newest = candidates.max(by: { (KubeTime.date($0.spec.time) ?? .distantPast) < (KubeTime.date($1.spec.time) ?? .distantPast) }) else {
            let when = source.before.map { " taken before \($0)" } ?? ""
            return .failure(.init(name, "spec.source", "finds no restic Snapshot of configuration \(configuration), PVC \(pvc)\(when); list them with kubectl get snapshots -l cairn.dev/configuration=\(configuration)"))
        }
        return .success(newest)
    }
}

/// Why a RestoreSession cannot go ahead, naming the session, the field and the fix.
public struct RestoreSelectionError: Error, Equatable, CustomStringConvertible {
    /// The field at fault, such as `spec.target.pvc`.
    public let field: String
    /// The whole message.
    public let description: String

    init(_ session: String, _ field: String, _ problem: String) {
        self.field = field
        description = "\(session): \(field) \(problem)"
    }
}
