import Blueprint
import CairnAPI
import YAML

/// The Job that forgets one batch of swept snapshots of one retention group: pure.
///
/// It runs `cairn agent forget --snapshot <id>... --host <namespace>/<configuration> --tag
/// pvc=<pvc>`, wired to the repository exactly as the backup Job is (``BackupJob``'s environment,
/// credentials and repository volume), so the agent refuses any snapshot of another host or PVC:
/// one namespace's sweep can never forget another's snapshot, even in a shared repository.
///
/// The configuration owns it, as it owns the group's Snapshots: deleting the configuration takes
/// a pending sweep with it. Its annotations name the group and the batch (`<Snapshot>=<restic ID>`
/// pairs), so a restarted keeper adopts it and deletes exactly the objects it forgot.
enum ForgetJob {
    /// `cairn.dev/retention=forget`: the label the keeper's Job informer selects on.
    static let roleLabel = "cairn.dev/retention"
    static let roleValue = "forget"
    /// `cairn.dev/forget-job`: the label on the Job's Pods, holding the Job's name.
    static let podLabel = "cairn.dev/forget-job"
    /// `cairn.dev/retention-group` (annotation): `<namespace>/<configuration>/<session>/<pvc>`.
    static let groupAnnotation = "cairn.dev/retention-group"
    /// `cairn.dev/forget-snapshots` (annotation): `<Snapshot>=<restic ID>,...`, the batch.
    static let batchAnnotation = "cairn.dev/forget-snapshots"
    /// How long the agent may run; a forget of a few snapshots takes seconds.
    static let deadlineSeconds = 3_600

    /// One Snapshot object to forget, and the restic snapshot it names.
    struct Entry: Sendable, Equatable {
        var snapshot: String
        var resticID: String
    }

    /// `cairn-forget-<configuration>-<session>-<pvc>-<first ID>`: deterministic per group and batch,
    /// shortened with a hash past 63 characters.
    static func name(_ group: RetentionGroup, batch: [Entry]) -> String {
        let first = batch.map(\.resticID).min() ?? ""
        return Naming.shortened("cairn-forget-\(group.configuration)-\(group.session)-\(group.pvc)-\(first.prefix(8))")
    }

    /// The Job manifest, owned by `configuration` (its uid).
    static func manifest(_ group: RetentionGroup, batch: [Entry], access: RepositoryAccess, settings: BackupJob.Settings,
                         configurationUID: String) -> Node {
        let name = name(group, batch: batch)
        let labels = [
            CairnLabel.managedBy: CairnLabel.managedByValue, roleLabel: roleValue,
            ExecutorLabel.configuration: Naming.labelValue(group.configuration), ExecutorLabel.session: Naming.labelValue(group.session),
            ExecutorLabel.pvc: Naming.labelValue(group.pvc),
        ]
        var podLabels = labels
        podLabels[podLabel] = Naming.labelValue(name)
        let owner: Node = .mapping([
            "apiVersion": .string(CairnGroup.apiVersion), "kind": "BackupConfiguration", "name": .string(group.configuration),
            "uid": .string(configurationUID), "controller": true, "blockOwnerDeletion": true,
        ])
        let annotations = [
            groupAnnotation: group.description, batchAnnotation: batch.map { "\($0.snapshot)=\($0.resticID)" }.joined(separator: ","),
            BackupJob.storageAnnotation: "\(access.storage.namespace ?? group.namespace)/\(access.storage.name)",
        ]
        return .mapping([
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": .mapping([
                "name": .string(name), "namespace": .string(group.namespace), "labels": .strings(labels),
                "annotations": .strings(annotations), "ownerReferences": [owner],
            ]),
            "spec": .mapping([
                "backoffLimit": 0, "activeDeadlineSeconds": .int(deadlineSeconds),
                "template": .mapping([
                    "metadata": .mapping(["labels": .strings(podLabels)]),
                    "spec": podSpec(group, batch: batch, access: access, settings: settings),
                ]),
            ]),
        ])
    }

    /// The agent's pod: the backup Job's, with no volume of the workload mounted.
    private static func podSpec(_ group: RetentionGroup, batch: [Entry], access: RepositoryAccess, settings: BackupJob.Settings) -> Node {
        AgentPod(arguments: arguments(group, batch: batch), claims: [], access: access, node: nil, securityContext: nil).spec(settings: settings)
    }

    /// `agent forget --snapshot <id> ... --host <namespace>/<configuration> --tag pvc=<pvc> --stale-lock-age 1h`.
    static func arguments(_ group: RetentionGroup, batch: [Entry]) -> [String] {
        var arguments = ["agent", "forget"]
        for entry in batch { arguments += ["--snapshot", entry.resticID] }
        arguments += ["--host", "\(group.namespace)/\(group.configuration)", "--tag", "pvc=\(group.pvc)"]
        arguments += ["--stale-lock-age", BackupJob.defaultStaleLockAge]
        return arguments
    }

    /// The batch a Job forgets, from its annotation.
    static func batch(of job: Node) -> [Entry] {
        let text = job.stringMap("annotations")[batchAnnotation] ?? ""
        return text.split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return Entry(snapshot: String(parts[0]), resticID: String(parts[1]))
        }
    }

    /// The group a Job sweeps, from its annotation, for the keeper's Job index.
    @Sendable static func groupKeys(_ job: Node) -> [String] {
        job.stringMap("annotations")[groupAnnotation].map { [$0] } ?? []
    }
}
