import CairnTesting
import Foundation
import Kube
@testable import SandboxNodes
import Testing
import YAML

/// The hostpath-style CSI snapshotter and restores from its snapshots.
@Suite struct SnapshotTests {
    static func snapshot(_ name: String, of claim: String, in namespace: String, className: String? = nil) -> Node {
        var spec: Node = .mapping(["source": .mapping(["persistentVolumeClaimName": .string(claim)])])
        if let className { spec["volumeSnapshotClassName"] = .string(className) }
        return .mapping(["apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                         "metadata": .mapping(["name": .string(name), "namespace": .string(namespace)]), "spec": spec])
    }

    @Test func givenAClaimWithFiles_WhenSnapshottedAndRestored_ThenTheNewClaimHasTheFiles() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { root in
                _ = try await cluster.client.create(R.claims, cluster.claim("data"))
                _ = try await cluster.eventually("data bound") { try await cluster.read(R.claims, "data")?[path: "status", "phase"]?.string == "Bound" ? true : nil }
                let source = root.appendingPathComponent("volumes/\(cluster.namespace)/data")
                try Data("rows".utf8).write(to: source.appendingPathComponent("table.csv"))

                _ = try await cluster.client.create(R.snapshots, Self.snapshot("nightly", of: "data", in: cluster.namespace))
                let status = try await cluster.eventually("the snapshot to be ready") {
                    let status = try await cluster.read(R.snapshots, "nightly")?["status"]
                    return status?["readyToUse"]?.bool == true ? status : nil
                }
                #expect(status["restoreSize"]?.string == "1Gi")
                #expect(status["creationTime"]?.string?.isEmpty == false)
                let contentName = try #require(status["boundVolumeSnapshotContentName"]?.string)
                let content = try #require(try await cluster.read(R.snapshotContents, contentName))
                #expect(content[path: "status", "readyToUse"]?.bool == true)
                #expect(content[path: "spec", "volumeSnapshotRef", "name"]?.string == "nightly")
                let copy = root.appendingPathComponent("snapshots/\(contentName)/table.csv")
                #expect(try String(contentsOf: copy, encoding: .utf8) == "rows")

                try Data("changed".utf8).write(to: source.appendingPathComponent("table.csv"))  // the snapshot must not follow
                _ = try await cluster.client.create(R.claims, cluster.claim("restored", fromSnapshot: "nightly"))
                _ = try await cluster.eventually("restored bound") { try await cluster.read(R.claims, "restored")?[path: "status", "phase"]?.string == "Bound" ? true : nil }
                let restored = root.appendingPathComponent("volumes/\(cluster.namespace)/restored/table.csv")
                #expect(try String(contentsOf: restored, encoding: .utf8) == "rows")

                try await cluster.client.delete(R.snapshots, namespace: cluster.namespace, name: "nightly")
                _ = try await cluster.eventually("the content and its copy to go") {
                    try await cluster.read(R.snapshotContents, contentName) == nil && !FileManager.default.fileExists(atPath: copy.path) ? true : nil
                }
            }
        }
    }

    @Test func givenASnapshotOfAMissingClaim_WhenProcessed_ThenItsStatusNamesTheClaim() async throws {
        try await TestCluster.with { cluster in
            try await cluster.withNodes { _ in
                _ = try await cluster.client.create(R.snapshots, Self.snapshot("orphan", of: "nowhere", in: cluster.namespace))

                let status = try await cluster.eventually("an error on the snapshot") {
                    let status = try await cluster.read(R.snapshots, "orphan")?["status"]
                    return status?["error"]?["message"] != nil ? status : nil
                }
                #expect(status["readyToUse"]?.bool == false)
                let message = try #require(status[path: "error", "message"]?.string)
                #expect(message.contains(#"persistentvolumeclaim "nowhere" not found"#))
                #expect(status["boundVolumeSnapshotContentName"] == nil)
            }
        }
    }
}
