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
                "annotations": .strings([storageAnnotation: "\(run.access.storage.namespace ?? run.namespace)/\(run.access.storage.name)"]),
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
        let pod = AgentPod(arguments: arguments(run), claims: run.claims.map { ($0, readOnly: true) }, access: run.access,
                           node: run.node, securityContext: run.securityContext)
        return pod.spec(settings: settings)
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

/// The pod of a backup or restore Job: one `cairn agent` container with the PVCs mounted at
/// `/data/<pvc>`, the repository in `RESTIC_REPOSITORY`, the password from the encryption Secret
/// and the backend's credentials from the (copied) credentials Secret: pure.
struct AgentPod: Sendable {
    var arguments: [String]
    /// The PVCs, in order, and whether each is mounted read-only.
    var claims: [(name: String, readOnly: Bool)]
    var access: RepositoryAccess
    /// The node the pod must run on, if any.
    var node: String?
    var securityContext: Node?

    /// The pod spec.
    func spec(settings: BackupJob.Settings) -> Node {
        var spec: Node = .mapping([
            "restartPolicy": "Never", "automountServiceAccountToken": false,
            "containers": [container(settings: settings)], "volumes": .sequence(volumes()),
        ])
        if let node { spec["nodeSelector"] = .strings([TargetVolumes.hostnameLabel: node]) }
        if let securityContext { spec["securityContext"] = securityContext }
        return spec
    }

    private func container(settings: BackupJob.Settings) -> Node {
        var container: Node = .mapping([
            "name": .string(BackupJob.containerName), "image": .string(settings.image), "args": .sequence(arguments.map { .string($0) }),
            "env": .sequence(environment()), "volumeMounts": .sequence(mounts()), "resources": settings.resources,
            "terminationMessagePolicy": "File",
        ])
        if let secret = access.credentials.secretName { container["envFrom"] = [.mapping(["secretRef": .mapping(["name": .string(secret)])])] }
        if let policy = settings.imagePullPolicy { container["imagePullPolicy"] = .string(policy) }
        return container
    }

    private func environment() -> [Node] {
        var env: [Node] = [
            .mapping(["name": "RESTIC_REPOSITORY", "value": .string(access.repository)]),
            .mapping(["name": .string(BackupJob.passwordKey), "valueFrom": .mapping([
                "secretKeyRef": .mapping(["name": .string(access.encryptionSecret), "key": .string(BackupJob.passwordKey)]),
            ])]),
        ]
        if let region = access.region { env.append(.mapping(["name": "AWS_DEFAULT_REGION", "value": .string(region)])) }
        return env
    }

    private func volumes() -> [Node] {
        var volumes = claims.enumerated().map { index, claim -> Node in
            var source: Node = .mapping(["claimName": .string(claim.name)])
            if claim.readOnly { source["readOnly"] = true }
            return .mapping(["name": .string("data-\(index)"), "persistentVolumeClaim": source])
        }
        if let local = access.repositoryClaim, let claim = local.pvc {
            volumes.append(.mapping(["name": "repository", "persistentVolumeClaim": .mapping(["claimName": .string(claim)])]))
        }
        return volumes
    }

    private func mounts() -> [Node] {
        var mounts = claims.enumerated().map { index, claim -> Node in
            var mount: Node = .mapping(["name": .string("data-\(index)"), "mountPath": .string(BackupJob.mountPath(claim.name))])
            if claim.readOnly { mount["readOnly"] = true }
            return mount
        }
        if let local = access.repositoryClaim {
            var mount: Node = .mapping(["name": "repository", "mountPath": .string(Backend.repositoryMountPath)])
            if let subPath = local.subPath { mount["subPath"] = .string(subPath) }
            mounts.append(mount)
        }
        return mounts
    }
}
