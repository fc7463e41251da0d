import CairnAPI
import YAML

/// Fully populated API objects: every optional set and every list non-empty, somewhere among the
/// samples of a kind. `CRDAgreementTests` checks that with `Mirror`.
enum Samples {
    static let time = "2026-11-21T01:30:00Z"

    static func metadata(_ name: String) -> ObjectMeta {
        var meta = ObjectMeta(
            name: name, namespace: "app",
            labels: ["app.kubernetes.io/managed-by": "cairn", "cairn.dev/blueprint": "postgres-nightly"],
            annotations: ["cairn.dev/rendered-hash": "3f2a"])
        meta.generateName = "\(name)-"
        meta.selfLink = "/apis/cairn.dev/v1alpha1/namespaces/app/x/\(name)"
        meta.uid = "0b6e1c4e-6d0a-4a35-9f7b-2f4c9c1d2e3f"
        meta.resourceVersion = "42"
        meta.generation = 3
        meta.creationTimestamp = time
        meta.deletionTimestamp = "2026-11-22T01:30:00Z"
        meta.deletionGracePeriodSeconds = 30
        meta.ownerReferences = [OwnerReference(
            apiVersion: "apps/v1", kind: "StatefulSet", name: "postgres", uid: "5d1c", controller: true, blockOwnerDeletion: true)]
        meta.finalizers = ["cairn.dev/cleanup"]
        meta.managedFields = [.mapping(["manager": "cairn", "operation": "Apply"])]
        return meta
    }

    static let conditions = [
        Condition(type: "Ready", status: .true, reason: "Rendered", message: "all good", lastTransitionTime: time, observedGeneration: 3),
        Condition(type: "RPOMet", status: .false, reason: "TooOld", message: "last backup 27h ago", lastTransitionTime: time, observedGeneration: 3),
    ]

    static let selector = LabelSelector(
        matchLabels: ["team": "db"],
        matchExpressions: [.init(key: "env", operator: .in, values: ["prod", "staging"])])

    static let usagePolicy = UsagePolicy(allowedNamespaces: .init(from: .selector, selector: selector))

    static let podTemplate: Node = .mapping([
        "spec": .mapping(["containers": [.mapping(["name": "dump", "image": "postgres:16", "command": ["pg_dumpall"]])]])
    ])

    static func hook(_ name: String) -> Hook {
        var hook = Hook(name: name, exec: ExecAction(container: "postgres", command: ["pg_dump", "-f", "/data/dump.sql"]),
                        job: JobAction(template: podTemplate))
        hook.onError = .continue
        hook.timeout = "5m"
        hook.when = .onSuccess
        return hook
    }

    static var configurationSpec: BackupConfigurationSpec {
        var session = SessionSpec(
            name: "nightly", schedule: "30 1 * * *", method: .snapshotRestic,
            retention: Retention(keepLast: 3, keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2))
        session.timeZone = "Europe/Paris"
        session.paused = false
        session.volumeSnapshotClassName = "csi-snapclass"
        var spec = BackupConfigurationSpec(
            target: TargetRef(apiVersion: "apps/v1", kind: "StatefulSet", name: "postgres"),
            storage: NamespacedRef(name: "s3", namespace: "cairn-system"), sessions: [session])
        spec.encryptionSecret = LocalRef(name: "restic-password")
        spec.hooks = Hooks(preBackup: [hook("dump")], postBackup: [hook("cleanup")])
        spec.volumes = VolumeSelection(pvcs: ["data-postgres-0"], include: ["/pgdata"], exclude: ["*.tmp"])
        spec.concurrencyPolicy = .forbid
        spec.startingDeadline = "1h"
        spec.retries = 2
        spec.timeout = "2h"
        spec.historyLimit = 5
        spec.rpo = "26h"
        return spec
    }

    static var blueprint: BackupBlueprint {
        var status = BackupBlueprintStatus()
        status.observedGeneration = 3
        status.targets = 4
        status.resolved = 3
        status.failed = 1
        status.failures = [ResolutionFailure(
            kind: "Deployment", namespace: "web", name: "api", reason: "MissingVariable",
            message: "set annotation variables.cairn.dev/schedule")]
        status.omittedFailures = 0
        status.conditions = conditions
        let spec = BackupBlueprintSpec(
            template: .mapping(["storage": .mapping(["name": "${storage:=s3}"]), "sessions": []]),
            variables: [VariableSpec(
                name: "schedule", description: "When to back up", default: "0 1 * * *", required: true,
                pattern: "^[0-9*/ ,-]+$", enum: ["0 1 * * *", "0 2 * * *"])],
            subjects: [Subject(apiGroup: "apps", kind: "StatefulSet")],
            usagePolicy: usagePolicy, deletionPolicy: .delete)
        return BackupBlueprint(metadata: metadata("postgres-nightly"), spec: spec, status: status)
    }

    static var configuration: BackupConfiguration {
        var status = BackupConfigurationStatus()
        status.phase = "Ready"
        status.observedGeneration = 3
        status.conditions = conditions
        status.lastBackup = BackupRecord(session: "nightly", backupSession: "nightly-1", phase: "Failed", time: time)
        status.lastSuccessfulBackup = BackupRecord(session: "nightly", backupSession: "nightly-0", phase: "Succeeded", time: time)
        status.nextBackup = "2026-11-22T01:30:00Z"
        status.nextSchedule = [NextRun(session: "nightly", schedule: "30 1 * * *", time: "2026-11-22T01:30:00Z")]
        status.managedBy = NamespacedRef(name: "postgres-nightly", namespace: "cairn-system")
        return BackupConfiguration(metadata: metadata("statefulset-postgres"), spec: configurationSpec, status: status)
    }

    static var session: BackupSession {
        var volume = VolumeResult(pvc: "data-postgres-0", phase: "PartiallySucceeded")
        volume.snapshot = "data-postgres-0-20261121-0130"
        volume.resticSnapshotID = "4f2a9c1e"
        volume.volumeSnapshot = "data-postgres-0-20261121-0130"
        volume.size = 1_048_576
        volume.files = 120
        volume.bytesAdded = 4096
        volume.unreadable = ["/pgdata/locked"]
        volume.error = "1 file unreadable"
        var hook = HookResult(name: "dump", phase: "Succeeded")
        hook.exitCode = 0
        hook.message = "dumped 3 databases"
        hook.duration = "12s"
        var status = BackupSessionStatus(phase: .succeeded)
        status.reason = "Completed"
        status.message = "1 volume backed up"
        status.startTime = time
        status.completionTime = "2026-11-21T01:31:30Z"
        status.duration = "1m30s"
        status.attempts = 1
        status.job = "nightly-1-backup"
        status.volumes = [volume]
        status.hooks = [hook]
        status.retention = RetentionResult(kept: 7, marked: 1, swept: 0)
        status.conditions = conditions
        let spec = BackupSessionSpec(configuration: "statefulset-postgres", session: "nightly", trigger: .scheduled, scheduledTime: time)
        return BackupSession(metadata: metadata("nightly-1"), spec: spec, status: status)
    }

    static var snapshot: Snapshot {
        var spec = SnapshotSpec(
            configuration: "statefulset-postgres", session: "nightly", backupSession: "nightly-1",
            pvc: "data-postgres-0", method: .restic, time: time)
        spec.storage = NamespacedRef(name: "s3", namespace: "cairn-system")
        spec.resticSnapshotID = "4f2a9c1e"
        spec.volumeSnapshotName = "data-postgres-0-20261121-0130"
        spec.size = 1_048_576
        spec.files = 120
        spec.bytesAdded = 4096
        spec.hostname = "app/statefulset-postgres"
        spec.tags = ["nightly"]
        return Snapshot(metadata: metadata("data-postgres-0-20261121-0130"), spec: spec)
    }

    /// One storage per backend, since a backend holds exactly one member.
    static var storages: [BackupStorage] {
        var backends: [Backend] = []
        func add(_ set: (inout Backend) -> Void) {
            var backend = Backend()
            set(&backend)
            backends.append(backend)
        }
        add { $0.s3 = S3Backend(bucket: "backups", endpoint: "http://127.0.0.1:5000", prefix: "cairn", region: "eu-west-1") }
        add { $0.gcs = BucketBackend(bucket: "backups", prefix: "cairn") }
        add { $0.azure = AzureBackend(container: "backups", prefix: "cairn") }
        add { $0.b2 = BucketBackend(bucket: "backups", prefix: "cairn") }
        add { $0.rest = RestBackend(url: "http://rest-server:8000/cairn") }
        add { $0.sftp = SFTPBackend(host: "backup.example.com", user: "cairn", path: "/srv/restic", port: 2222) }
        add { $0.local = LocalBackend(path: "/var/backups", pvc: "backups", subPath: "cairn") }
        return backends.map { backend in
            var spec = BackupStorageSpec(backend: backend, credentialsSecret: LocalRef(name: "s3-credentials"), usagePolicy: usagePolicy)
            spec.default = true
            spec.maintenance = RepositoryMaintenance(schedule: "@weekly-random", timeZone: "Europe/Berlin", paused: false, readDataSubset: "5%")
            var status = BackupStorageStatus()
            status.phase = "Ready"
            status.repository = "s3:http://127.0.0.1:5000/backups/cairn"
            status.observedGeneration = 1
            status.conditions = conditions
            status.maintenanceSchedule = "17 3 * * 2"
            status.lastMaintenance = time
            status.nextMaintenance = time
            var repository = RepositoryMaintenanceStatus(namespace: "shop")
            repository.configuration = "statefulset-postgres"
            repository.lastScheduledTime = time
            repository.job = "cairn-maintain-s3-20261121-0130"
            repository.phase = "Succeeded"
            repository.reason = "Maintained"
            repository.message = "restic check found no errors; restic prune removed 7 blobs / 2.862 MiB"
            repository.startTime = time
            repository.completionTime = time
            repository.lastSuccessfulTime = time
            repository.initialized = true
            status.repositories = [repository]
            return BackupStorage(metadata: metadata("s3"), spec: spec, status: status)
        }
    }

    static var restore: RestoreSession {
        var source = RestoreSource(configuration: "statefulset-postgres", pvc: "data-postgres-0", snapshot: "latest")
        source.before = time
        source.volumeSnapshot = "data-postgres-0-20261121-0130"
        var target = RestoreTarget(
            pvc: "data-postgres-0",
            pvcTemplate: PVCTemplate(name: "restored", spec: .mapping(["accessModes": ["ReadWriteOnce"]])))
        target.allowDifferentPVC = true
        var spec = RestoreSessionSpec(source: source, target: target)
        spec.scaleDown = true
        spec.hooks = RestoreHooks(postRestore: [hook("load")])
        spec.timeout = "1h"
        var status = RestoreSessionStatus()
        status.phase = "Succeeded"
        status.reason = "Restored"
        status.message = "120 files restored"
        status.snapshot = "data-postgres-0-20261121-0130"
        status.pvc = "data-postgres-0"
        status.files = 120
        status.bytes = 1_048_576
        status.startTime = time
        status.completionTime = "2026-11-21T01:35:00Z"
        status.conditions = conditions
        return RestoreSession(metadata: metadata("restore-1"), spec: spec, status: status)
    }
}
