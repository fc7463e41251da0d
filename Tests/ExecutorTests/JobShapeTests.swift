import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Testing
import YAML

/// The backup Job a session creates: what it mounts, where it runs, as whom, for how long, and
/// with which credentials.
@Suite struct JobShapeTests {
    @Test func givenADeploymentWithAPVC_whenASessionStarts_thenTheJobMountsItReadOnlyAndRunsTheAgentAsTheApp() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures { $0.spec.retries = 2; $0.spec.volumes = VolumeSelection(exclude: ["*.tmp"]) }
            try await harness.running { _ in
                try await harness.createSession("s1")
                let session = try await harness.waitFor("s1", .running)
                let job = try await harness.job(for: "s1")
                #expect(session.status?.job == job.name)
                #expect(session.status?.startTime != nil)

                #expect(job[path: "metadata", "labels", "cairn.dev/configuration"]?.string == RunnerHarness.configurationName)
                #expect(job[path: "metadata", "labels", "cairn.dev/session"]?.string == "nightly")
                #expect(job[path: "metadata", "labels", "cairn.dev/backup-session"]?.string == "s1")
                let owner = try #require(job[path: "metadata", "ownerReferences"]?.sequence?.first)
                #expect(owner["kind"]?.string == "BackupSession" && owner["name"]?.string == "s1" && owner["controller"]?.bool == true)
                #expect(owner["uid"]?.string == session.metadata.uid)

                let spec = try #require(job["spec"])
                #expect(spec["activeDeadlineSeconds"]?.int == 7200)
                #expect(spec["backoffLimit"]?.int == 2)
                let pod = try #require(spec[path: "template", "spec"])
                #expect(pod["restartPolicy"]?.string == "Never")
                #expect(pod["automountServiceAccountToken"]?.bool == false)
                #expect(pod[path: "securityContext", "runAsUser"]?.int == 1001)
                #expect(pod[path: "securityContext", "runAsGroup"]?.int == 1002)
                #expect(pod[path: "securityContext", "fsGroup"]?.int == 2000)
                #expect(pod[path: "securityContext", "runAsNonRoot"] == nil)
                #expect(pod["nodeSelector"] == nil, "no pod runs and no PV pins the PVC")
                let volume = try #require(pod["volumes"]?.sequence?.first)
                #expect(volume[path: "persistentVolumeClaim", "claimName"]?.string == "data")
                #expect(volume[path: "persistentVolumeClaim", "readOnly"]?.bool == true)

                let container = try #require(pod["containers"]?.sequence?.first)
                #expect(container["image"]?.string?.contains("cairn") == true)
                #expect(container["terminationMessagePolicy"]?.string == "File")
                #expect(container[path: "resources", "limits", "memory"]?.string == "1Gi")
                let mount = try #require(container["volumeMounts"]?.sequence?.first)
                #expect(mount["mountPath"]?.string == "/data/data" && mount["readOnly"]?.bool == true)
                let ns = harness.namespace
                #expect(container["args"]?.sequence?.compactMap(\.string) == [
                    "agent", "backup", "--volume", "data=/data/data", "--host", "\(ns)/deployment-app",
                    "--tag", "cairn.dev/namespace=\(ns)", "--tag", "cairn.dev/configuration=deployment-app",
                    "--tag", "cairn.dev/session=nightly", "--tag", "cairn.dev/backup-session=s1",
                    "--exclude", "*.tmp", "--stale-lock-age", "2h",
                ])
                let env = container["env"]?.sequence ?? []
                #expect(env.first { $0["name"]?.string == "RESTIC_REPOSITORY" }?["value"]?.string == "/var/backups/cairn")
                let password = try #require(env.first { $0["name"]?.string == "RESTIC_PASSWORD" })
                #expect(password[path: "valueFrom", "secretKeyRef", "name"]?.string == "restic")
                #expect(password[path: "valueFrom", "secretKeyRef", "key"]?.string == "RESTIC_PASSWORD")
                #expect(password["value"] == nil)
                #expect(container["envFrom"] == nil, "the storage names no credentials")
            }
        }
    }

    @Test func givenAPodRunningOnANodeWithTheRWOClaim_whenASessionStarts_thenTheJobIsPinnedToThatNode() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createRunningPod("app-1", node: "node-b", claims: ["data"])
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                let job = try await harness.job(for: "s1")
                #expect(job[path: "spec", "template", "spec", "nodeSelector", "kubernetes.io/hostname"]?.string == "node-b")
            }
        }
    }

    @Test func givenNoPodButAPVWithNodeAffinity_whenASessionStarts_thenTheJobIsPinnedToThePVsNode() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createStorage()
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            try await harness.createVolume("pv-\(harness.namespace)", node: "node-c")
            try await harness.createClaim("data", volume: "pv-\(harness.namespace)")
            try await harness.createDeployment("app", claims: ["data"])
            try await harness.createConfiguration()
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                let job = try await harness.job(for: "s1")
                #expect(job[path: "spec", "template", "spec", "nodeSelector", "kubernetes.io/hostname"]?.string == "node-c")
            }
        }
    }

    @Test func givenTwoRWOClaimsOnDifferentNodes_whenASessionStarts_thenItFailsNamingBoth() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createStorage()
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            try await harness.createClaim("a")
            try await harness.createClaim("b")
            try await harness.createDeployment("app", claims: ["a", "b"])
            try await harness.createRunningPod("pod-a", node: "node-a", claims: ["a"])
            try await harness.createRunningPod("pod-b", node: "node-b", claims: ["b"])
            try await harness.createConfiguration()
            try await harness.running { _ in
                try await harness.createSession("s1")
                let session = try await harness.waitFor("s1", .failed)
                #expect(session.status?.reason == "VolumesOnDifferentNodes")
                let message = session.status?.message ?? ""
                #expect(message.contains("PVC a on node node-a (pod pod-a runs there)"))
                #expect(message.contains("PVC b on node node-b (pod pod-b runs there)"))
            }
        }
    }

    @Test func givenAStorageInASharedNamespaceThatAllowsAll_whenASessionStarts_thenItsCredentialsAreCopiedAndKeptInStep() async throws {
        try await RunnerHarness.with { harness in
            let shared = try await harness.createNamespace("shared")
            try await harness.createStorage(namespace: shared) { storage in
                var backend = Backend()
                backend.s3 = S3Backend(bucket: "backups", endpoint: "http://127.0.0.1:9000", prefix: "team-a", region: "eu-west-1")
                storage.spec.backend = backend
                storage.spec.credentialsSecret = LocalRef(name: "s3")
                storage.spec.usagePolicy = UsagePolicy(allowedNamespaces: .init(from: .all))
            }
            let source = try await harness.createSecret("s3", ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"], namespace: shared)
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": "x"])
            try await harness.createClaim("data")
            try await harness.createDeployment("app", claims: ["data"])
            try await harness.createConfiguration { $0.spec.storage.namespace = shared }
            try await harness.running { _ in
                try await harness.createSession("s1")
                try await harness.waitFor("s1", .running)
                let copyName = "cairn-storage-\(shared)-store"
                let copy = try await harness.client.get(ExecutorResource.secrets, namespace: harness.namespace, name: copyName)
                #expect(copy["data"] == source["data"])
                #expect(copy[path: "metadata", "labels", "app.kubernetes.io/managed-by"]?.string == "cairn")
                let container = try #require(try await harness.job(for: "s1")[path: "spec", "template", "spec", "containers"]?.sequence?.first)
                #expect(container["envFrom"]?.sequence?.first?[path: "secretRef", "name"]?.string == copyName)
                let env = container["env"]?.sequence ?? []
                #expect(env.first { $0["name"]?.string == "RESTIC_REPOSITORY" }?["value"]?.string == "s3:http://127.0.0.1:9000/backups/team-a")
                #expect(env.first { $0["name"]?.string == "AWS_DEFAULT_REGION" }?["value"]?.string == "eu-west-1")
                #expect(!env.contains { $0["name"]?.string == "AWS_SECRET_ACCESS_KEY" }, "credentials come from the Secret, never inline")

                // The source changes: the next session's start brings the copy in step.
                var changed = try await harness.client.get(ExecutorResource.secrets, namespace: shared, name: "s3")
                changed["data"] = strings(["AWS_ACCESS_KEY_ID": Data("id2".utf8).base64EncodedString()])
                changed = try await harness.client.update(ExecutorResource.secrets, namespace: shared, changed)
                try await harness.createSession("s2")
                try await harness.waitFor("s2", .running)
                let updated = try await harness.client.get(ExecutorResource.secrets, namespace: harness.namespace, name: copyName)
                #expect(updated["data"] == changed["data"])
            }
        }
    }
}
