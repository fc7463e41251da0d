import CairnAPI
import YAML

/// The workload a restore with `spec.scaleDown` scaled to zero, and the replicas it had: kept in
/// the annotation `cairn.dev/scaled-down` (`Deployment/app=3`) on the RestoreSession, written
/// before the scale-down, so a restarted controller still scales it back.
struct ScaledWorkload: Equatable, Sendable {
    /// `cairn.dev/scaled-down`.
    static let annotation = "cairn.dev/scaled-down"
    /// The kinds a restore can scale down.
    static let kinds = ["Deployment", "StatefulSet"]

    var kind: String
    var name: String
    var replicas: Int

    init(kind: String, name: String, replicas: Int) {
        (self.kind, self.name, self.replicas) = (kind, name, replicas)
    }

    /// Parses `Kind/name=replicas`.
    init?(parsing text: String) {
        guard let slash = text.firstIndex(of: "/"), let equals = text.lastIndex(of: "="), slash < equals,
              let replicas = Int(text[text.index(after: equals)...]), replicas >= 0 else { return nil }
        self.init(kind: String(text[..<slash]), name: String(text[text.index(after: slash)..<equals]), replicas: replicas)
    }

    /// `Kind/name=replicas`.
    var text: String { "\(kind)/\(name)=\(replicas)" }

    /// What a restore's annotation records, if anything.
    static func of(_ restore: RestoreSession) -> ScaledWorkload? {
        restore.metadata.annotations?[annotation].flatMap(ScaledWorkload.init(parsing:))
    }

    /// The merge patch that sets a workload's replicas.
    static func replicasPatch(_ replicas: Int) -> Node { .mapping(["spec": .mapping(["replicas": .int(replicas)])]) }
}
