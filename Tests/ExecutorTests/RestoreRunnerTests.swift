import CairnAPI
import CairnTesting
import Executor
import Foundation
import Kube
import Testing
import YAML

/// The restore runner against the sandbox, the test playing the kubelet and the Job controller:
/// the snapshot it picks, the Job it makes, what it refuses, how it fails, and what a restart does.
@Suite struct RestoreRunnerTests {
    /// One way a restore's inputs can be wrong.
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var reason: String
        /// Fragments the message must contain.
        var mentions: [String]
        /// The Snapshot the restore names; the latest when nil.
        var snapshot: String? = nil
        var prepare: @Sendable (RunnerHarness) async throws -> Void
    }

    static let cases: [Case] = [
        Case(description: "no configuration", reason: "ConfigurationNotFound",
             mentions: ["RestoreSession", "spec.source.configuration", "deployment-app", "does not exist"]) { _ in },
        Case(description: "no snapshot of the configuration", reason: "SnapshotNotFound",
             mentions: ["RestoreSession", "spec.source", "finds no restic Snapshot", "PVC data", "kubectl get snapshots"]) { harness in
            try await harness.createFixtures()
        },
        Case(description: "a named snapshot that does not exist", reason: "SnapshotNotFound",
             mentions: ["spec.source.snapshot", "Snapshot gone", "does not exist"], snapshot: "gone") { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-1")
        },
        Case(description: "the encryption Secret missing", reason: "EncryptionSecretNotFound",
             mentions: ["spec.encryptionSecret", "/restic", "does not exist", "RESTIC_PASSWORD"]) { harness in
            try await harness.createStorage()
            try await harness.createClaim("data")
            try await harness.createConfiguration()
            try await harness.createSnapshot("snap-1")
        },
        Case(description: "the target PVC missing", reason: "PVCNotFound",
             mentions: ["RestoreSession", "spec.target.pvc", "PersistentVolumeClaim", "/data", "does not exist", "pvcTemplate"]) { harness in
            try await harness.createStorage()
            try await harness.createSecret("restic", ["RESTIC_PASSWORD": RunnerHarness.password])
            try await harness.createConfiguration()
            try await harness.createSnapshot("snap-1")
        },
    ]

    @Test(arguments: cases)
    func givenARestoreWithBadInputs_WhenItRuns_ThenItFailsWithTheReason_AWarningEvent_AndNoJob(_ example: Case) async throws {
        try await RunnerHarness.with { harness in
            try await example.prepare(harness)
            try await harness.restoring { restorer in
                try await harness.createRestore("r1", snapshot: example.snapshot)
                let restore = try await harness.waitForRestore("r1", "Failed")
                #expect(restore.status?.reason == example.reason, "\(restore.status?.message ?? "")")
                for fragment in example.mentions { #expect(restore.status?.message?.contains(fragment) == true, "\(fragment) in \(restore.status?.message ?? "")") }
                #expect(restore.status?.conditions?.first?.status == .false)
                let events = try await harness.events(about: "r1", restorer: restorer)
                #expect(events.contains { $0["type"]?.string == "Warning" && $0["reason"]?.string == example.reason })
                let jobs = try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items
                #expect(jobs.isEmpty)
            }
        }
    }

    @Test func givenASnapshotOfPVCData_WhenARestoreTargetsAnotherPVC_ThenItIsRefused_AndAcceptedOnlyWithAllowDifferentPVC() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createClaim("other")
            try await harness.createSnapshot("snap-1")
            try await harness.restoring { restorer in
                // When: a restore of data's snapshot into PVC other.
                try await harness.createRestore("wrong", snapshot: "snap-1", into: RestoreTarget(pvc: "other"))
                let refused = try await harness.waitForRestore("wrong", "Failed")
                #expect(refused.status?.reason == "SnapshotOfAnotherPVC")
                let message = try #require(refused.status?.message)
                for fragment in ["RestoreSession \(harness.namespace)/wrong", "spec.target.pvc", "other", "Snapshot snap-1 holds PVC data", "allowDifferentPVC: true"] {
                    #expect(message.contains(fragment), "\(fragment) in \(message)")
                }
                let events = try await harness.events(about: "wrong", restorer: restorer)
                #expect(events.contains { $0["type"]?.string == "Warning" && $0["reason"]?.string == "SnapshotOfAnotherPVC" })

                // And: with allowDifferentPVC it runs, mounting other read-write and still checking the snapshot is data's.
                var target = RestoreTarget(pvc: "other")
                target.allowDifferentPVC = true
                try await harness.createRestore("allowed", snapshot: "snap-1", into: target)
                let running = try await harness.waitForRestore("allowed", "Running")
                #expect(running.status?.snapshot == "snap-1")
                let job = try await harness.restoreJob(for: "allowed")
                let container = try #require(job[path: "spec", "template", "spec", "containers"]?.sequence?.first)
                #expect(container["args"]?.sequence?.compactMap(\.string) == [
                    "agent", "restore", "--snapshot", "4f2a9c1e77aa", "--target", "/data/other",
                    "--host", "\(harness.namespace)/\(RunnerHarness.configurationName)", "--expect-tag", "pvc=data",
                ])
                let volume = try #require(job[path: "spec", "template", "spec", "volumes"]?.sequence?.first)
                #expect(volume[path: "persistentVolumeClaim", "claimName"]?.string == "other")
                #expect(volume[path: "persistentVolumeClaim", "readOnly"] == nil)
                #expect(container["volumeMounts"]?.sequence?.first?["readOnly"] == nil)
                #expect(job[path: "metadata", "ownerReferences"]?.sequence?.first?["kind"]?.string == "RestoreSession")
                #expect(job[path: "spec", "template", "spec", "securityContext", "fsGroup"]?.int == 2000)
                #expect(job[path: "spec", "backoffLimit"]?.int == 0 && job[path: "spec", "activeDeadlineSeconds"]?.int == 7200)
            }
        }
    }

    @Test func givenARestoreIntoANewPVC_WhenTheJobReportsItsFigures_ThenItSucceeds_AndThePVCOutlivesTheRestore() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-old", id: "0000aaaa1111", time: "2026-11-20T01:00:00Z")
            try await harness.createSnapshot("snap-new", id: "4f2a9c1e77aa", time: "2026-11-21T01:00:00Z")
            try await harness.restoring { restorer in
                try await harness.createRestore("r1", into: RestoreTarget(pvcTemplate: RunnerHarness.template("data-restored")))
                let job = try await harness.restoreJob(for: "r1")
                #expect(job[path: "spec", "template", "spec", "containers"]?.sequence?.first?["args"]?.sequence?.compactMap(\.string).contains("4f2a9c1e77aa") == true)
                let claim = try await harness.client.get(ExecutorResource.claims, namespace: harness.namespace, name: "data-restored")
                #expect(claim[path: "metadata", "labels", "cairn.dev/restore-session"]?.string == "r1")
                #expect(claim[path: "metadata", "ownerReferences"] == nil)

                try await harness.end(job, message: try RunnerHarness.restoreResult(files: 151, bytes: 6_300_000))
                let restore = try await harness.waitForRestore("r1", "Succeeded")
                #expect(restore.status?.snapshot == "snap-new")
                #expect(restore.status?.files == 151 && restore.status?.bytes == 6_300_000)
                #expect(restore.status?.startTime != nil && restore.status?.completionTime != nil)
                #expect(restore.status?.conditions?.first?.type == "Restored" && restore.status?.conditions?.first?.status == .true)
                let events = try await harness.events(about: "r1", restorer: restorer)
                #expect(events.contains { $0["reason"]?.string == "Started" })
                #expect(events.contains { $0["type"]?.string == "Normal" && $0["reason"]?.string == "Succeeded" })
            }
            // And: deleting the restore leaves the PVC it made.
            _ = try await harness.client.delete(ExecutorResource.restores, namespace: harness.namespace, name: "r1", propagationPolicy: .background)
            try await eventually("the restore Job to be collected", .seconds(20)) {
                try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items.isEmpty
            }
            _ = try await harness.client.get(ExecutorResource.claims, namespace: harness.namespace, name: "data-restored")
        }
    }

    @Test func givenARestoreJob_WhenItEndsWithoutAResult_OrResticFails_ThenTheRestoreFailsWithTheReason() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-1")
            try await harness.restoring { restorer in
                try await harness.createRestore("silent")
                try await harness.end(try await harness.restoreJob(for: "silent"), message: nil, exitCode: 137, containerReason: "OOMKilled",
                                      jobFailure: ("BackoffLimitExceeded", "Job has reached the specified backoff limit"))
                let silent = try await harness.waitForRestore("silent", "Failed")
                #expect(silent.status?.reason == "OOMKilled")
                #expect(silent.status?.message?.contains("without a result from the agent") == true, "\(silent.status?.message ?? "")")

                try await harness.createRestore("wrong-password")
                try await harness.end(try await harness.restoreJob(for: "wrong-password"),
                                      message: try RunnerHarness.restoreResult(.failed, reason: "WrongPassword", message: "wrong password or no key found"),
                                      exitCode: 1, jobFailure: ("BackoffLimitExceeded", "Job has reached the specified backoff limit"))
                let failed = try await harness.waitForRestore("wrong-password", "Failed")
                #expect(failed.status?.reason == "WrongPassword")
                #expect(failed.status?.message?.contains("wrong password or no key found") == true)
                #expect(failed.status?.files == nil)
                let events = try await harness.events(about: "wrong-password", restorer: restorer)
                #expect(events.contains { $0["type"]?.string == "Warning" && $0["reason"]?.string == "WrongPassword" })

                // A backup's result where a restore's is due is not taken for one.
                try await harness.createRestore("confused")
                try await harness.end(try await harness.restoreJob(for: "confused"),
                                      message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("data", id: "4f2a9c1e77aa")]))
                let confused = try await harness.waitForRestore("confused", "Failed")
                #expect(confused.status?.reason == "InvalidResult")
            }
        }
    }

    @Test func givenARunningRestore_WhenTheRunnerRestarts_ThenItAdoptsTheJob_AndNeverMakesASecond() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-1")
            try await harness.restoring { _ in
                try await harness.createRestore("r1", into: RestoreTarget(pvcTemplate: RunnerHarness.template("fresh")))
                try await harness.waitForRestore("r1", "Running")
            }
            // A pass cut short: the status says Pending again, though the Job and the PVC exist.
            var live = try await harness.client.get(ExecutorResource.restores, namespace: harness.namespace, name: "r1")
            live["status"] = .mapping(["phase": "Pending"])
            _ = try await harness.client.updateStatus(ExecutorResource.restores, namespace: harness.namespace, live)
            try await harness.restoring { _ in
                let job = try await harness.restoreJob(for: "r1")
                try await harness.waitForRestore("r1", "Running")
                try await harness.end(job, message: try RunnerHarness.restoreResult())
                try await harness.waitForRestore("r1", "Succeeded")
            }
            let jobs = try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace,
                                                     options: ListOptions(labelSelector: "cairn.dev/restore-session=r1")).items
            #expect(jobs.count == 1)
            let claims = try await harness.client.list(ExecutorResource.claims, namespace: harness.namespace,
                                                       options: ListOptions(labelSelector: "cairn.dev/restore-session=r1")).items
            #expect(claims.map(\.name) == ["fresh"])
        }
    }

    @Test func givenARestoreOfAConfiguration_WhenABackupSessionOfItStarts_ThenItStaysQueued_AndRunsAfterTheRestore() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-1")
            try await harness.running { _ in
                try await harness.restoring { _ in
                    try await harness.createRestore("r1")
                    let job = try await harness.restoreJob(for: "r1")
                    try await harness.createSession("b1")
                    let queued = try await harness.waitFor("b1", .queued)
                    #expect(queued.status?.reason == "RestoreRunning")
                    #expect(queued.status?.message?.contains("RestoreSession(s) r1") == true, "\(queued.status?.message ?? "")")
                    try await Task.sleep(for: .seconds(2))  // two rechecks of the queue, the restore still running
                    #expect(try await harness.session("b1").status?.phase == .queued)

                    try await harness.end(job, message: try RunnerHarness.restoreResult())
                    try await harness.waitForRestore("r1", "Succeeded")
                    try await harness.waitFor("b1", .running)
                }
            }
        }
    }

    @Test func givenARunningBackupJob_WhenARestoreOfItsConfigurationIsCreated_ThenItWaitsPending_AndStartsAfterTheBackup() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-1")
            try await harness.running { _ in
                try await harness.createSession("b1")
                try await harness.waitFor("b1", .running)
                try await harness.restoring { _ in
                    try await harness.createRestore("r1")
                    let pending = try await harness.waitForRestore("r1", "Pending")
                    #expect(pending.status?.reason == "BackupRunning")
                    #expect(pending.status?.message?.contains("b1") == true, "\(pending.status?.message ?? "")")

                    try await harness.endJob(of: "b1", message: try RunnerHarness.agentResult(volumes: [RunnerHarness.volume("data", id: "feedbeef0000")]))
                    try await harness.waitFor("b1", .succeeded)
                    try await harness.waitForRestore("r1", "Running")
                }
            }
        }
    }
}

/// `spec.scaleDown`: the workload goes to zero before the restore and back afterwards, whatever the outcome.
@Suite struct RestoreScaleDownTests {
    func replicas(_ harness: RunnerHarness) async throws -> Int? {
        try await harness.client.get(deployments, namespace: harness.namespace, name: "app")[path: "spec", "replicas"]?.int
    }

    @Test func givenARestoreWithScaleDown_WhenItRuns_ThenTheDeploymentIsAtZeroUntilItsPodsStop_AndBackAfterSuccessOrFailure() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-1")
            _ = try await harness.client.patch(deployments, namespace: harness.namespace, name: "app", .mapping(["spec": .mapping(["replicas": 3])]))
            try await harness.createRunningPod("app-1", node: "node-a", claims: ["data"])
            try await harness.restoring { restorer in
                try await harness.createRestore("r1") { $0.spec.scaleDown = true }

                // Then: the replicas are recorded, the Deployment is at 0, and the restore waits for the pod.
                let pending = try await harness.waitForRestore("r1", "Pending")
                #expect(pending.status?.reason == "ScalingDown")
                #expect(pending.status?.message?.contains("app-1") == true, "\(pending.status?.message ?? "")")
                #expect(pending.metadata.annotations?["cairn.dev/scaled-down"] == "Deployment/app=3")
                #expect(try await replicas(harness) == 0)
                let jobs = try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items
                #expect(jobs.isEmpty)

                // When: the pod stops, the restore runs; when it succeeds, the Deployment is back at 3.
                _ = try await harness.client.delete(ExecutorResource.pods, namespace: harness.namespace, name: "app-1")
                try await harness.end(try await harness.restoreJob(for: "r1"), message: try RunnerHarness.restoreResult())
                try await harness.waitForRestore("r1", "Succeeded")
                try await eventually("Deployment app to be back at 3", .seconds(20)) { try await replicas(harness) == 3 }
                try await eventually("the annotation to go", .seconds(20)) { try await harness.restore("r1").metadata.annotations?["cairn.dev/scaled-down"] == nil }
                let events = try await harness.events(about: "r1", restorer: restorer)
                #expect(events.contains { $0["reason"]?.string == "ScaledDown" } && events.contains { $0["reason"]?.string == "ScaledBack" })

                // And: a restore that fails scales it back too.
                try await harness.createRestore("r2") { $0.spec.scaleDown = true }
                let job = try await harness.restoreJob(for: "r2")
                #expect(try await replicas(harness) == 0)
                try await harness.end(job, message: try RunnerHarness.restoreResult(.failed, reason: "ResticFailed", message: "restic restore failed"),
                                      exitCode: 1, jobFailure: ("BackoffLimitExceeded", "Job has reached the specified backoff limit"))
                try await harness.waitForRestore("r2", "Failed")
                try await eventually("Deployment app to be back at 3 after the failure", .seconds(20)) { try await replicas(harness) == 3 }
            }
        }
    }

    @Test func givenARunningRestoreWithScaleDown_WhenItIsDeleted_ThenItsJobStopsTheDeploymentIsBackAndTheRestoreGoes() async throws {
        try await RunnerHarness.with { harness in
            try await harness.createFixtures()
            try await harness.createSnapshot("snap-1")
            _ = try await harness.client.patch(deployments, namespace: harness.namespace, name: "app", .mapping(["spec": .mapping(["replicas": 2])]))
            try await harness.restoring { restorer in
                // Given: a restore that scaled the Deployment to 0 and whose Job runs.
                try await harness.createRestore("r1") { $0.spec.scaleDown = true }
                let job = try await harness.restoreJob(for: "r1")
                #expect(try await replicas(harness) == 0)
                #expect(try await harness.restore("r1").metadata.finalizers == ["cairn.dev/scale-back"])

                // When: it is deleted before it finishes.
                _ = try await harness.client.delete(ExecutorResource.restores, namespace: harness.namespace, name: "r1")

                // Then: the Job is stopped, the Deployment is back at 2, the RestoreSession goes, and a Warning says the PVC may be partial.
                try await eventually("Deployment app to be back at 2", .seconds(20)) { try await replicas(harness) == 2 }
                try await eventually("the RestoreSession to be gone", .seconds(20)) {
                    try await harness.client.list(ExecutorResource.restores, namespace: harness.namespace).items.isEmpty
                }
                try await eventually("the restore Job to be gone", .seconds(20)) {
                    try await harness.client.list(ExecutorResource.jobs, namespace: harness.namespace).items.allSatisfy { $0.name != job.name }
                }
                await restorer.flushEvents()
                let events = try await harness.client.list(eventResource, namespace: harness.namespace).items
                let aborted = try #require(events.first { $0["reason"]?.string == "RestoreAborted" })
                #expect(aborted["type"]?.string == "Warning")
                #expect(aborted["message"]?.string?.contains("may hold a partial restore") == true)
            }
        }
    }
}
