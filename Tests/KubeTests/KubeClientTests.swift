import Testing
import YAML
@testable import Kube

@Suite struct KubeClientTests {
    @Test func givenAPod_whenGettingIt_thenTheRequestHasMethodPathAndHeaders() async throws {
        let server = try ScriptedServer(replies: [.json(200, #"{"kind":"Pod","metadata":{"name":"web"}}"#)])
        defer { server.stop() }

        let pod = try await makeClient(server).get(pods, namespace: "app", name: "web")

        #expect(pod[path: "metadata", "name"] == "web")
        let received = try #require(server.received.first)
        #expect(received.method == "GET")
        #expect(received.target == "/api/v1/namespaces/app/pods/web")
        #expect(received.headers["authorization"] == "Bearer secret-token")
        #expect(received.headers["accept"] == "application/json")
        #expect(received.headers["user-agent"] == "cairn/\(KubeClient.version)")
        #expect(received.headers["accept-encoding"]?.contains("gzip") == true)
    }

    @Test func givenSelectorsAndAPageLimit_whenListing_thenTheQueryIsEncodedAndThePageRead() async throws {
        let server = try ScriptedServer(replies: [.json(200, #"{"kind":"DeploymentList","metadata":{"resourceVersion":"42","continue":"next-page"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#)])
        defer { server.stop() }

        let page = try await makeClient(server).list(
            deployments, namespace: "app",
            options: ListOptions(labelSelector: "app=db,tier!=cache", fieldSelector: "metadata.name=a", limit: 2, continueToken: "tok/1"))

        #expect(page.items.map { $0[path: "metadata", "name"]?.string } == ["a", "b"])
        #expect(page.resourceVersion == "42")
        #expect(page.continueToken == "next-page")
        let received = try #require(server.received.first)
        #expect(received.path == "/apis/apps/v1/namespaces/app/deployments")
        #expect(received.query == ["labelSelector": "app=db,tier!=cache", "fieldSelector": "metadata.name=a", "limit": "2", "continue": "tok/1"])
        #expect(received.target.contains("labelSelector=app%3Ddb%2Ctier%21%3Dcache"))
    }

    @Test func givenAnObject_whenCreating_thenItIsPostedAsJSONToItsNamespace() async throws {
        let server = try ScriptedServer { request, _ in .json(201, request.bodyText) }
        defer { server.stop() }
        let object = try parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"app"}}"#)

        let created = try await makeClient(server).create(pods, object)

        #expect(created == object)
        let received = try #require(server.received.first)
        #expect(received.method == "POST")
        #expect(received.target == "/api/v1/namespaces/app/pods")
        #expect(received.headers["content-type"] == "application/json")
        #expect(try parse(received.bodyText) == object)
    }

    @Test func givenAnObject_whenUpdatingItAndItsStatus_thenPutGoesToTheNameAndTheSubresource() async throws {
        let server = try ScriptedServer { request, _ in .json(200, request.bodyText) }
        defer { server.stop() }
        let client = makeClient(server)
        let object = try parse(#"{"metadata":{"name":"web","namespace":"app","resourceVersion":"7"}}"#)

        _ = try await client.update(pods, object)
        _ = try await client.updateStatus(pods, object)

        #expect(server.received.map { "\($0.method) \($0.target)" } == [
            "PUT /api/v1/namespaces/app/pods/web", "PUT /api/v1/namespaces/app/pods/web/status",
        ])
    }

    @Test(arguments: [
        (PatchType.merge, "application/merge-patch+json"),
        (.json, "application/json-patch+json"),
        (.strategicMerge, "application/strategic-merge-patch+json"),
    ])
    func givenAPatchType_whenPatching_thenTheContentTypeSaysWhichPatch(type: PatchType, contentType: String) async throws {
        let server = try ScriptedServer(replies: [.json(200, "{}")])
        defer { server.stop() }

        _ = try await makeClient(server).patch(pods, namespace: "app", name: "web", try parse(#"{"metadata":{"labels":{"a":"b"}}}"#), type: type)

        let received = try #require(server.received.first)
        #expect(received.method == "PATCH")
        #expect(received.headers["content-type"] == contentType)
        #expect(received.bodyText == #"{"metadata":{"labels":{"a":"b"}}}"#)
    }

    @Test func givenAPropagationPolicy_whenDeleting_thenItIsSentAsAQueryParameter() async throws {
        let server = try ScriptedServer(replies: [.json(200, #"{"kind":"Status","status":"Success"}"#)])
        defer { server.stop() }

        try await makeClient(server).delete(deployments, namespace: "app", name: "web", propagationPolicy: .foreground)

        let received = try #require(server.received.first)
        #expect(received.method == "DELETE")
        #expect(received.target == "/apis/apps/v1/namespaces/app/deployments/web?propagationPolicy=Foreground")
        #expect(received.body.isEmpty)
    }

    @Test(arguments: [
        (status(404, "NotFound", #"pods \"web\" not found"#), KubeError.Kind.notFound, 404),
        (status(409, "AlreadyExists", #"pods \"web\" already exists"#), .alreadyExists, 409),
        (status(409, "Conflict", "the object has been modified"), .conflict, 409),
        (status(410, "Expired", "too old resource version: 1 (5)"), .gone, 410),
        (status(410, "Gone", "gone"), .gone, 410),
        (status(403, "Forbidden", "forbidden"), .forbidden, 403),
        (status(401, "Unauthorized", "Unauthorized"), .unauthorized, 401),
    ])
    func givenAStatusBody_whenTheServerRefuses_thenTheKubeErrorHasTheRightKind(reply: Reply, kind: KubeError.Kind, code: Int) async throws {
        let server = try ScriptedServer(replies: [reply])
        defer { server.stop() }

        let error = await #expect(throws: KubeError.self) { try await makeClient(server).get(pods, namespace: "app", name: "web") }

        #expect(error?.kind == kind)
        #expect(error?.httpCode == code)
        #expect(error?.verb == "GET")
        #expect(error?.url == server.url + "/api/v1/namespaces/app/pods/web")
        #expect(error?.status?.name == "web")
        #expect(error?.message == error?.status?.message)
    }

    @Test func givenAnInvalidObject_whenCreating_thenTheCausesNameTheFields() async throws {
        let causes = #","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers"}]"#
        let server = try ScriptedServer(replies: [status(422, "Invalid", #"Pod \"web\" is invalid"#, causes: causes)])
        defer { server.stop() }

        let error = await #expect(throws: KubeError.self) {
            try await makeClient(server).create(pods, namespace: "app", try parse(#"{"metadata":{"name":"web"}}"#))
        }

        #expect(error?.kind == .invalid)
        #expect(error?.verb == "POST")
        #expect(error?.status?.causes.map(\.field) == ["spec.containers"])
        #expect(error?.description.contains("spec.containers: Required value") == true)
    }

    @Test func givenANonStatusErrorBody_whenTheServerRefuses_thenItsFirstBytesAreReported() async throws {
        let server = try ScriptedServer(replies: [Reply(status: 400, headers: ["Content-Type": "text/html"], body: .full(Array("<html>bad gateway config</html>".utf8)))])
        defer { server.stop() }

        let error = await #expect(throws: KubeError.self) { try await makeClient(server).get(pods, namespace: "app", name: "web") }

        #expect(error?.kind == .badRequest)
        #expect(error?.status == nil)
        #expect(error?.message == "<html>bad gateway config</html>")
    }
}
