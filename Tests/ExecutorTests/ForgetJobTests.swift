import CairnAPI
@testable import Executor
import Testing
import YAML

/// The forget Job's shape: pure, no server.
@Suite struct ForgetJobTests {
    static let group = RetentionGroup(namespace: "shop", configuration: "deployment-db", session: "nightly", pvc: "data")
    static let batch = [
        ForgetJob.Entry(snapshot: "deployment-db-nightly-1-data", resticID: "bbbbbbbb" + String(repeating: "1", count: 56)),
        ForgetJob.Entry(snapshot: "deployment-db-nightly-2-data", resticID: "aaaaaaaa" + String(repeating: "2", count: 56)),
    ]

    static func access(credentials: CredentialsPlan = .direct(secret: "s3-credentials")) -> RepositoryAccess {
        RepositoryAccess(storage: NamespacedRef(name: "store", namespace: "cairn-system"), repository: "s3:http://127.0.0.1:9000/bucket/cairn",
                         repositoryClaim: nil, region: "eu-west-1", encryptionSecret: "restic", credentials: credentials)
    }

    static let settings = BackupJob.Settings(image: "ghcr.io/cairn-dev/cairn:test", resources: .mapping([]), imagePullPolicy: "IfNotPresent")

    @Test func givenABatch_whenTheManifestIsBuilt_thenTheAgentForgetsOnlyThoseIDsUnderTheGroupsHostAndPVC() throws {
        let job = ForgetJob.manifest(Self.group, batch: Self.batch, access: Self.access(), settings: Self.settings, configurationUID: "uid-1")
        let container = try #require(job[path: "spec", "template", "spec", "containers"]?.sequence?.first)
        let arguments = (container["args"]?.sequence ?? []).compactMap(\.string)
        #expect(arguments == ["agent", "forget", "--snapshot", Self.batch[0].resticID, "--snapshot", Self.batch[1].resticID,
                              "--host", "shop/deployment-db", "--tag", "pvc=data", "--stale-lock-age", "1h"])
        // The name is the group's and the batch's: the smallest ID's first 8 characters.
        #expect(job.name == "cairn-forget-deployment-db-nightly-data-aaaaaaaa")
        #expect(ForgetJob.batch(of: job) == Self.batch)
        #expect(ForgetJob.groupKeys(job) == ["shop/deployment-db/nightly/data"])
        let owner = try #require(job[path: "metadata", "ownerReferences"]?.sequence?.first)
        #expect(owner["kind"]?.string == "BackupConfiguration" && owner["uid"]?.string == "uid-1" && owner["name"]?.string == "deployment-db")
        #expect(job[path: "spec", "backoffLimit"]?.int == 0)
        #expect(job[path: "spec", "template", "spec", "automountServiceAccountToken"]?.bool == false)
        #expect(job[path: "spec", "template", "metadata", "labels", ForgetJob.podLabel]?.string == job.name)
    }

    @Test func givenTheSameAccess_whenBackupAndForgetJobsAreBuilt_thenTheyReachTheRepositoryTheSameWay() throws {
        let access = Self.access(credentials: .copy(desired: .mapping(["metadata": .mapping(["name": "cairn-storage-cairn-system-store"])]), existing: nil))
        let job = ForgetJob.manifest(Self.group, batch: Self.batch, access: access, settings: Self.settings, configurationUID: "uid-1")
        let container = try #require(job[path: "spec", "template", "spec", "containers"]?.sequence?.first)
        let env = container["env"]?.sequence ?? []
        #expect(env.first { $0["name"]?.string == "RESTIC_REPOSITORY" }?["value"]?.string == access.repository)
        #expect(env.first { $0["name"]?.string == "RESTIC_PASSWORD" }?[path: "valueFrom", "secretKeyRef", "name"]?.string == access.encryptionSecret)
        #expect(container["envFrom"]?.sequence?.first?[path: "secretRef", "name"]?.string == "cairn-storage-cairn-system-store")
        #expect(container["image"]?.string == "ghcr.io/cairn-dev/cairn:test" && container["imagePullPolicy"]?.string == "IfNotPresent")

        var local = access
        local.repositoryClaim = LocalBackend(pvc: "backups", subPath: "cairn")
        let onClaim = ForgetJob.manifest(Self.group, batch: Self.batch, access: local, settings: Self.settings, configurationUID: "uid-1")
        let pod = try #require(onClaim[path: "spec", "template", "spec"])
        #expect(pod["volumes"]?.sequence?.first?[path: "persistentVolumeClaim", "claimName"]?.string == "backups")
        #expect(pod["containers"]?.sequence?.first?["volumeMounts"]?.sequence?.first?["subPath"]?.string == "cairn")
    }
}
