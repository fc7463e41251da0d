import CairnTesting
import Foundation
import Kube
@testable import SandboxNodes
import Testing
import YAML

/// Jobs run by the simulated Job controller and kubelet as local processes, against the sandbox
/// over HTTPS.
@Suite struct JobTests {
    @Test func givenAJobThatWritesItsTerminationLog_WhenItRuns_ThenItSucceedsWithTheMessage() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { _ in
                _ = try await cluster.client.create(R.jobs, cluster.job("ok", script: #"echo ok > "$CAIRN_TERMINATION_LOG"; exit 0"#))

                let job = try await cluster.finishedJob("ok")
                #expect(job.condition("Complete") == "True")
                #expect(job[path: "status", "succeeded"]?.int == 1)
                #expect(job[path: "status", "completionTime"]?.string?.isEmpty == false)
                let pods = try await cluster.pods("job-name=ok")
                let pod = try #require(pods.first)
                #expect(pods.count == 1)
                #expect(pod[path: "status", "phase"]?.string == "Succeeded")
                #expect(pod.terminated?["exitCode"]?.int == 0)
                #expect(pod.terminated?["reason"]?.string == "Completed")
                #expect(pod.terminated?["message"]?.string == "ok\n")  // verbatim, as kubelet reads the file
                #expect(pod.terminated?["startedAt"]?.string?.isEmpty == false)
                #expect(pod.terminated?["finishedAt"]?.string?.isEmpty == false)
                #expect(pod[path: "spec", "nodeName"]?.string?.hasPrefix("sandbox-node-") == true)
                #expect(pod[path: "metadata", "ownerReferences"]?.sequence?.first?["uid"] == job[path: "metadata", "uid"])
            }
        }
    }

    @Test func givenAJobThatExitsTwo_WhenItRuns_ThenItIsRetriedUpToTheBackoffLimitAndFails() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { _ in
                _ = try await cluster.client.create(R.jobs, cluster.job("bad", script: "echo boom >&2; exit 2", backoffLimit: 2))

                let job = try await cluster.finishedJob("bad")
                #expect(job.condition("Failed") == "True")
                let reason = (job[path: "status", "conditions"]?.sequence ?? []).first { $0["type"]?.string == "Failed" }?["reason"]?.string
                #expect(reason == "BackoffLimitExceeded")
                #expect(job[path: "status", "failed"]?.int == 3)
                let pods = try await cluster.pods("job-name=bad")
                #expect(pods.count == 3)  // the first try and backoffLimit (2) retries
                for pod in pods {
                    #expect(pod[path: "status", "phase"]?.string == "Failed")
                    #expect(pod.terminated?["exitCode"]?.int == 2)
                    #expect(pod.terminated?["reason"]?.string == "Error")
                }
            }
        }
    }

    @Test func givenAJobThatMountsAClaim_WhenItWritesAFile_ThenTheFileIsInTheVolumeDirectory() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { root in
                _ = try await cluster.client.create(R.claims, cluster.claim("data"))
                let script = #"dir=$(echo "$CAIRN_SANDBOX_MOUNTS" | sed 's/.*"\/data":"\([^"]*\)".*/\1/'); echo hello > "$dir/greeting.txt""#
                _ = try await cluster.client.create(R.jobs, cluster.job(
                    "writer", script: script,
                    volumes: [.mapping(["name": "data", "persistentVolumeClaim": .mapping(["claimName": "data"])])],
                    mounts: [.mapping(["name": "data", "mountPath": "/data"])]))

                let job = try await cluster.finishedJob("writer")
                #expect(job.condition("Complete") == "True")
                let file = root.appendingPathComponent("volumes/\(cluster.namespace)/data/greeting.txt")
                #expect(try String(contentsOf: file, encoding: .utf8) == "hello\n")
                let claim = try #require(try await cluster.read(R.claims, "data"))
                #expect(claim[path: "status", "phase"]?.string == "Bound")
                let volumeName = try #require(claim[path: "spec", "volumeName"]?.string)
                let volume = try #require(try await cluster.read(R.volumes, volumeName))
                #expect(volume[path: "status", "phase"]?.string == "Bound")
                #expect(volume[path: "spec", "claimRef", "name"]?.string == "data")
            }
        }
    }

    @Test func givenARunningJobPod_WhenItIsDeleted_ThenItsProcessIsKilledAtOnce() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { root in
                let marker = root.appendingPathComponent("sleeper.pid").path
                _ = try await cluster.client.create(R.jobs, cluster.job("sleeper", script: "sleep 60 & echo $! > \(marker); wait"))
                let (pod, pid) = try await cluster.eventually("the sleeper to run") { () -> (Node, Int32)? in
                    guard let pod = try await cluster.pods("job-name=sleeper").first, pod[path: "status", "phase"]?.string == "Running",
                          let text = FileManager.default.contents(atPath: marker),
                          let pid = Int32(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
                    return (pod, pid)
                }
                #expect(kill(pid, 0) == 0)

                let start = ContinuousClock.now
                try await cluster.client.delete(R.pods, namespace: cluster.namespace, name: pod[path: "metadata", "name"]?.string ?? "")
                _ = try await cluster.eventually("process \(pid) to end", timeout: .seconds(10)) { kill(pid, 0) == 0 ? nil : true }
                #expect(ContinuousClock.now - start < .seconds(5))
                #expect(try await cluster.read(R.pods, pod[path: "metadata", "name"]?.string ?? "") == nil)
            }
        }
    }

    @Test func givenAJobWhoseEnvNamesAMissingSecret_WhenScheduled_ThenThePodWaitsWithCreateContainerConfigError() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { _ in
                let env: Node = .mapping(["name": "PASSWORD", "valueFrom": .mapping(["secretKeyRef": .mapping(["name": "db-credentials", "key": "password"])])])
                _ = try await cluster.client.create(R.jobs, cluster.job("needs-secret", script: #"echo "$PASSWORD" > "$CAIRN_TERMINATION_LOG""#, env: [env]))

                let waiting = try await cluster.eventually("the pod to report why it waits") {
                    try await cluster.pods("job-name=needs-secret").first?[path: "status", "containerStatuses"]?.sequence?.first?[path: "state", "waiting"]
                }
                #expect(waiting["reason"]?.string == "CreateContainerConfigError")
                #expect(waiting["message"]?.string == #"secret "db-credentials" not found"#)

                // Once the Secret exists, the kubelet's retry starts the container with its value.
                _ = try await cluster.client.create(R.secrets, .mapping([
                    "apiVersion": "v1", "kind": "Secret", "metadata": .mapping(["name": "db-credentials", "namespace": .string(cluster.namespace)]),
                    "data": .mapping(["password": .string(Data("s3cret".utf8).base64EncodedString())]),
                ]))
                let job = try await cluster.finishedJob("needs-secret")
                #expect(job.condition("Complete") == "True")
                #expect(try await cluster.pods("job-name=needs-secret").first?.terminated?["message"]?.string == "s3cret\n")
            }
        }
    }
}
