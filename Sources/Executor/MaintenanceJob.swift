import Blueprint
import CairnAPI
import Foundation
import Kube
import YAML

/// The Job that checks and prunes one repository of a BackupStorage: pure.
///
/// It runs `cairn agent maintain`, wired to the repository exactly as a backup Job is (the
/// environment, the credentials and, for a PVC backend, the repository volume of the
/// configuration whose encryption Secret opens it), in that configuration's namespace.
///
/// It is named after the storage, the namespace and the scheduled time, so a restarted keeper
/// finds the Job it made instead of making a second. The storage owns it when the Job runs in the
/// storage's namespace; elsewhere the configuration does (an owner must share the namespace).
enum MaintenanceJob {
    /// `cairn.dev/maintenance`: the label the keeper's Job informer selects on; the storage's name.
    static let roleLabel = "cairn.dev/maintenance"
    /// `cairn.dev/maintenance-job`: the label on the Job's Pods, holding the Job's name.
    static let podLabel = "cairn.dev/maintenance-job"
    /// `cairn.dev/scheduled-time` (annotation): the run the Job is for, RFC 3339.
    static let scheduledAnnotation = "cairn.dev/scheduled-time"
    /// How long a check and prune may run; a large repository's take hours.
    static let deadlineSeconds = 6 * 3_600

    /// What one maintenance Job is for.
    struct Run: Sendable {
        var storage: NamespacedRef
        var storageUID: String
        var namespace: String
        var configuration: String
        var configurationUID: String
        var scheduledTime: Date
        var readDataSubset: String?
        /// Whether the repository is created first: the run before any backup.
        var create = false
        var access: RepositoryAccess
    }

    /// `cairn-maintain-<storage>-<namespace>-<yyyymmddhhmm>` in UTC, shortened with a hash past 63 characters.
    static func name(storage: String, namespace: String, scheduledTime: Date) -> String {
        Naming.shortened("cairn-maintain-\(storage)-\(namespace)-\(SessionNaming.minuteStamp(scheduledTime))")
    }

    /// The Job manifest.
    static func manifest(_ run: Run, settings: BackupJob.Settings) -> Node {
        let storageNamespace = run.storage.namespace ?? run.namespace
        let name = name(storage: run.storage.name, namespace: run.namespace, scheduledTime: run.scheduledTime)
        let labels = [
            CairnLabel.managedBy: CairnLabel.managedByValue, roleLabel: Naming.labelValue(run.storage.name),
            ExecutorLabel.storageNamespace: Naming.labelValue(storageNamespace),
        ]
        var podLabels = labels
        podLabels[podLabel] = Naming.labelValue(name)
        let owner: Node = storageNamespace == run.namespace
            ? .mapping([
                "apiVersion": .string(CairnGroup.apiVersion), "kind": "BackupStorage", "name": .string(run.storage.name),
                "uid": .string(run.storageUID), "controller": true, "blockOwnerDeletion": true,
            ])
            : .mapping([
                "apiVersion": .string(CairnGroup.apiVersion), "kind": "BackupConfiguration", "name": .string(run.configuration),
                "uid": .string(run.configurationUID), "controller": true, "blockOwnerDeletion": true,
            ])
        let annotations = [
            BackupJob.storageAnnotation: "\(storageNamespace)/\(run.storage.name)",
            scheduledAnnotation: KubeTime.time(run.scheduledTime),
        ]
        let pod = AgentPod(arguments: arguments(run), claims: [], access: run.access, node: nil, securityContext: nil)
        return .mapping([
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": .mapping([
                "name": .string(name), "namespace": .string(run.namespace), "labels": .strings(labels),
                "annotations": .strings(annotations), "ownerReferences": [owner],
            ]),
            "spec": .mapping([
                "backoffLimit": 0, "activeDeadlineSeconds": .int(deadlineSeconds),
                "template": .mapping([
                    "metadata": .mapping(["labels": .strings(podLabels)]),
                    "spec": pod.spec(settings: settings),
                ]),
            ]),
        ])
    }

    /// `agent maintain [--read-data-subset S] [--create] --stale-lock-age 1h`.
    static func arguments(_ run: Run) -> [String] {
        var arguments = ["agent", "maintain"]
        if let subset = run.readDataSubset { arguments += ["--read-data-subset", subset] }
        if run.create { arguments.append("--create") }
        return arguments + ["--stale-lock-age", BackupJob.defaultStaleLockAge]
    }

    /// `<storage namespace>/<storage name>` of a maintenance (or any executor) Job, for the keeper's index.
    @Sendable static func storageKeys(_ job: Node) -> [String] {
        job.stringMap("annotations")[BackupJob.storageAnnotation].map { [$0] } ?? []
    }

    /// The run a Job is for, from its annotation.
    static func scheduledTime(of job: Node) -> Date? {
        job.stringMap("annotations")[scheduledAnnotation].flatMap(KubeTime.date)
    }
}
