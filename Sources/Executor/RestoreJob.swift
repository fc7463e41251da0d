import Blueprint
import CairnAPI
import YAML

/// The restore Job of one RestoreSession, and the PVC it may create: pure.
///
/// The Job is the backup Job's pod (image, resources, credentials, node placement, security
/// context) with the target PVC mounted read-write at `/data/<pvc>` and `cairn agent restore`,
/// which refuses a snapshot whose host or `pvc` tag is not the one chosen.
enum RestoreJob {
    /// The Job manifest, owned by the RestoreSession.
    static func manifest(_ run: RestoreRun, settings: BackupJob.Settings) -> Node {
        let labels = jobLabels(run)
        let pod = AgentPod(arguments: arguments(run), claims: [(run.choice.targetPVC, readOnly: false)], access: run.access,
                           node: run.node, securityContext: run.securityContext)
        var spec: Node = .mapping([
            // A restore is not retried blindly: a half-written volume needs a person's look.
            "backoffLimit": 0,
            "template": .mapping(["metadata": .mapping(["labels": .strings(labels)]), "spec": pod.spec(settings: settings)]),
        ])
        if let seconds = run.deadlineSeconds { spec["activeDeadlineSeconds"] = .int(seconds) }
        let owner: Node = .mapping([
            "apiVersion": .string(CairnGroup.apiVersion), "kind": "RestoreSession", "name": .string(run.restoreSession),
            "uid": .string(run.restoreSessionUID), "controller": true, "blockOwnerDeletion": true,
        ])
        return .mapping([
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": .mapping([
                "name": .string(SessionNaming.restoreJob(restore: run.restoreSession)), "namespace": .string(run.namespace),
                "labels": .strings(labels), "ownerReferences": [owner],
                "annotations": .strings([
                    snapshotAnnotation: run.choice.snapshot,
                    BackupJob.storageAnnotation: "\(run.access.storage.namespace ?? run.namespace)/\(run.access.storage.name)",
                ]),
            ]),
            "spec": spec,
        ])
    }

    /// The annotation on a restore Job that names the Snapshot it restores.
    static let snapshotAnnotation = "cairn.dev/snapshot"

    static func jobLabels(_ run: RestoreRun) -> [String: String] {
        [
            CairnLabel.managedBy: CairnLabel.managedByValue, ExecutorLabel.configuration: Naming.labelValue(run.configuration),
            ExecutorLabel.restoreSession: Naming.labelValue(run.restoreSession),
        ]
    }

    /// `agent restore --snapshot <id> --target /data/<pvc> --host <ns>/<config> --expect-tag pvc=<source pvc>`.
    static func arguments(_ run: RestoreRun) -> [String] {
        [
            "agent", "restore", "--snapshot", run.choice.resticSnapshotID, "--target", BackupJob.mountPath(run.choice.targetPVC),
            "--host", "\(run.namespace)/\(run.configuration)", "--expect-tag", "pvc=\(run.choice.sourcePVC)",
        ]
    }

    /// The PVC from `spec.target.pvcTemplate`, labelled with the restore's name and owned by
    /// nothing, so it outlives the RestoreSession.
    static func claim(_ restore: RestoreSession) -> Node? {
        guard let template = restore.spec.target.pvcTemplate else { return nil }
        let labels = [CairnLabel.managedBy: CairnLabel.managedByValue, ExecutorLabel.restoreSession: Naming.labelValue(restore.metadata.name ?? "")]
        return .mapping([
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": .mapping(["name": .string(template.name), "namespace": .string(restore.metadata.namespace ?? ""), "labels": .strings(labels)]),
            "spec": template.spec,
        ])
    }
}
