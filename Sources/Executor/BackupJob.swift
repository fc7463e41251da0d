import Blueprint
import CairnAPI
import YAML

/// The backup Job of one BackupSession: pure.
///
/// One container runs `cairn agent backup`, with every PVC mounted read-only at `/data/<pvc>`,
/// the repository in `RESTIC_REPOSITORY`, the password from the encryption Secret and the
/// backend's credentials from the (copied) credentials Secret. The agent needs no API access, so
/// the pod gets no service account token.
enum BackupJob {
    /// The key of the encryption Secret that holds the repository password.
    static let passwordKey = "RESTIC_PASSWORD"
    /// The agent's container.
    static let containerName = "agent"
    /// Where each PVC is mounted: `/data/<pvc>`.
    static func mountPath(_ claim: String) -> String { "/data/\(claim)" }
    /// How old a lock must be before the agent removes it, when the configuration sets no timeout.
    static let defaultStaleLockAge = "1h"

    /// The annotation on a backup Job that names the storage it writes to, `namespace/name`.
    static let storageAnnotation = "cairn.dev/storage"

    /// What every backup Job gets from the controller's options.
    struct Settings: Sendable {
        var image: String
        var resources: Node
        var imagePullPolicy: String?
    }

    /// The Job manifest.
    static func manifest(_ run: BackupRun, settings: Settings) -> Node {
        let labels = jobLabels(run)
        var spec: Node = .mapping([
            "backoffLimit": .int(run.retries),
            "template": .mapping(["metadata": .mapping(["labels": .strings(labels)]), "spec": podSpec(run, settings: settings)]),
        ])
        if let seconds = run.deadlineSeconds { spec["activeDeadlineSeconds"] = .int(seconds) }
        return .mapping([
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": .mapping([
                "name": .string(SessionNaming.backupJob(session: run.backupSession)), "namespace": .string(run.namespace),
                "labels": .strings(labels), "ownerReferences": [owner(run)],
                "annotations": .strings([storageAnnotation: "\(run.storage.namespace ?? run.namespace)/\(run.storage.name)"]),
            ]),
            "spec": spec,
        ])
    }

    /// `cairn.dev/configuration`, `cairn.dev/session`, `cairn.dev/backup-session` and managed-by.
    static func jobLabels(_ run: BackupRun) -> [String: String] {
        [
            CairnLabel.managedBy: CairnLabel.managedByValue, ExecutorLabel.configuration: Naming.labelValue(run.configuration),
            ExecutorLabel.session: Naming.labelValue(run.session), ExecutorLabel.backupSession: Naming.labelValue(run.backupSession),
        ]
    }

    private static func owner(_ run: BackupRun) -> Node {
        .mapping([
            "apiVersion": .string(CairnGroup.apiVersion), "kind": "BackupSession", "name": .string(run.backupSession),
            "uid": .string(run.backupSessionUID), "controller": true, "blockOwnerDeletion": true,
        ])
    }

    private static func podSpec(_ run: BackupRun, settings: Settings) -> Node {
        var spec: Node = .mapping([
            "restartPolicy": "Never", "automountServiceAccountToken": false,
            "containers": [container(run, settings: settings)], "volumes": .sequence(volumes(run)),
        ])
        if let node = run.node { spec["nodeSelector"] = .strings([TargetVolumes.hostnameLabel: node]) }
        if let context = run.securityContext { spec["securityContext"] = context }
        return spec
    }

    private static func container(_ run: BackupRun, settings: Settings) -> Node {
        var container: Node = .mapping([
            "name": .string(containerName), "image": .string(settings.image), "args": .sequence(arguments(run).map { .string($0) }),
            "env": .sequence(environment(run.access)), "volumeMounts": .sequence(mounts(run)), "resources": settings.resources,
            "terminationMessagePolicy": "File",
        ])
        if let envFrom = envFrom(run.access) { container["envFrom"] = envFrom }
        if let policy = settings.imagePullPolicy { container["imagePullPolicy"] = .string(policy) }
        return container
    }

    /// The container's `envFrom`: the credentials Secret, if the storage has one.
    static func envFrom(_ access: RepositoryAccess) -> Node? {
        access.credentials.secretName.map { [.mapping(["secretRef": .mapping(["name": .string($0)])])] }
    }

    /// `agent backup --volume <pvc>=/data/<pvc> ... --host <ns>/<config> --tag ... [--exclude P ...] --stale-lock-age <age>`.
    static func arguments(_ run: BackupRun) -> [String] {
        var arguments = ["agent", "backup"]
        for claim in run.claims { arguments += ["--volume", "\(claim)=\(mountPath(claim))"] }
        arguments += ["--host", "\(run.namespace)/\(run.configuration)"]
        for tag in tags(run) { arguments += ["--tag", tag] }
        for pattern in run.excludes { arguments += ["--exclude", pattern] }
        arguments += ["--stale-lock-age", run.timeout ?? defaultStaleLockAge]
        return arguments
    }

    /// The restic tags that scope the snapshots to their namespace, configuration and session
    /// (the agent adds `pvc=<pvc>` per volume).
    static func tags(_ run: BackupRun) -> [String] {
        [
            "cairn.dev/namespace=\(run.namespace)", "cairn.dev/configuration=\(run.configuration)",
            "cairn.dev/session=\(run.session)", "cairn.dev/backup-session=\(run.backupSession)",
        ]
    }

    /// `RESTIC_REPOSITORY`, `RESTIC_PASSWORD` from the encryption Secret, and the S3 region.
    static func environment(_ access: RepositoryAccess) -> [Node] {
        var env: [Node] = [
            .mapping(["name": "RESTIC_REPOSITORY", "value": .string(access.repository)]),
            .mapping(["name": .string(passwordKey), "valueFrom": .mapping([
                "secretKeyRef": .mapping(["name": .string(access.encryptionSecret), "key": .string(passwordKey)]),
            ])]),
        ]
        if let region = access.region { env.append(.mapping(["name": "AWS_DEFAULT_REGION", "value": .string(region)])) }
        return env
    }

    private static func volumes(_ run: BackupRun) -> [Node] {
        var volumes = run.claims.enumerated().map { index, claim -> Node in
            .mapping(["name": .string("data-\(index)"), "persistentVolumeClaim": .mapping(["claimName": .string(claim), "readOnly": true])])
        }
        if let volume = repositoryVolume(run.access) { volumes.append(volume) }
        return volumes
    }

    /// The volume of a local PVC repository, if the storage is one.
    static func repositoryVolume(_ access: RepositoryAccess) -> Node? {
        guard let claim = access.repositoryClaim?.pvc else { return nil }
        return .mapping(["name": "repository", "persistentVolumeClaim": .mapping(["claimName": .string(claim)])])
    }

    private static func mounts(_ run: BackupRun) -> [Node] {
        var mounts = run.claims.enumerated().map { index, claim -> Node in
            .mapping(["name": .string("data-\(index)"), "mountPath": .string(mountPath(claim)), "readOnly": true])
        }
        if let mount = repositoryMount(run.access) { mounts.append(mount) }
        return mounts
    }

    /// Where a local PVC repository is mounted: `/repository`, at its subPath.
    static func repositoryMount(_ access: RepositoryAccess) -> Node? {
        guard let local = access.repositoryClaim else { return nil }
        var mount: Node = .mapping(["name": "repository", "mountPath": .string(Backend.repositoryMountPath)])
        if let subPath = local.subPath { mount["subPath"] = .string(subPath) }
        return mount
    }

    /// The PVCs a Job mounts, in order: what the agent was asked to back up.
    static func claims(of job: Node) -> [String] {
        (job[path: "spec", "template", "spec", "volumes"]?.sequence ?? []).filter { $0["name"]?.string?.hasPrefix("data-") == true }
            .compactMap { $0[path: "persistentVolumeClaim", "claimName"]?.string }
    }

    /// The node a Job is pinned to, if any.
    static func node(of job: Node) -> String? {
        job[path: "spec", "template", "spec", "nodeSelector", TargetVolumes.hostnameLabel]?.string
    }
}
