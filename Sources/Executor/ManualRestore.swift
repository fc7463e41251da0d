import Blueprint
import CairnAPI
import Foundation
import YAML

/// A RestoreSession made by hand (`cairn restore`): pure.
public enum ManualRestore {
    /// Where the data goes.
    public enum Target: Sendable, Equatable {
        /// An existing PVC.
        case existing(String)
        /// A new ReadWriteOnce PVC of `size`, of `storageClass` (the cluster's default when nil).
        case new(name: String, size: String, storageClass: String?)
    }

    /// What the command line asked for.
    public struct Request: Sendable, Equatable {
        public var configuration: String
        /// `latest` or a Snapshot name.
        public var snapshot: String = "latest"
        /// RFC 3339, with `latest` only.
        public var before: String?
        /// The PVC whose snapshots to choose from.
        public var sourcePVC: String?
        public var target: Target
        public var allowDifferentPVC = false
        public var name: String?

        /// Creates a request.
        public init(configuration: String, target: Target) {
            self.configuration = configuration
            self.target = target
        }
    }

    /// `<config>-restore-<yyyyMMddHHmmss>` in UTC, shortened with a hash past 63 characters.
    public static func name(configuration: String, at time: Date) -> String {
        let parts = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: time)
        let stamp = String(format: "%04d%02d%02d%02d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                           parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        return Naming.shortened("\(configuration)-restore-\(stamp)")
    }

    /// The RestoreSession for `request` in `namespace`.
    public static func make(_ request: Request, namespace: String, at time: Date) -> RestoreSession {
        var source = RestoreSource(configuration: request.configuration, pvc: request.sourcePVC, snapshot: request.snapshot)
        source.before = request.before
        var target: RestoreTarget
        switch request.target {
        case .existing(let pvc):
            target = RestoreTarget(pvc: pvc)
        case .new(let name, let size, let storageClass):
            var spec: Node = .mapping([
                "accessModes": ["ReadWriteOnce"], "resources": .mapping(["requests": .mapping(["storage": .string(size)])]),
            ])
            if let storageClass { spec["storageClassName"] = .string(storageClass) }
            target = RestoreTarget(pvcTemplate: PVCTemplate(name: name, spec: spec))
        }
        if request.allowDifferentPVC { target.allowDifferentPVC = true }
        let metadata = ObjectMeta(name: request.name ?? name(configuration: request.configuration, at: time), namespace: namespace,
                                  labels: [CairnLabel.managedBy: CairnLabel.managedByValue, ExecutorLabel.configuration: Naming.labelValue(request.configuration)])
        return RestoreSession(metadata: metadata, spec: RestoreSessionSpec(source: source, target: target))
    }
}
