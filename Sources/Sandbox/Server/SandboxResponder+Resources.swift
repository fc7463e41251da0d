import Foundation
import Hummingbird
import YAML

/// One resource request, with what every handler needs.
struct ResourceRequest: Sendable {
    var path: ResourcePath
    var type: ResourceType
    var catalog: Catalog
    var query: Query
    var request: Request

    var resource: ResourceID { path.resource }
    var isStatus: Bool { path.subresource == "status" }
    /// The table convertor when the client asked for a table.
    func table(now: Date) -> TableConverter? {
        guard TableConverter.wantsTable(request.headers[.accept]) else { return nil }
        return TableConverter(columns: catalog.columns(of: resource), now: now, includeObject: query["includeObject"] ?? "Metadata")
    }
}

extension SandboxResponder {
    func handle(_ path: ResourcePath, _ request: Request) async throws(StatusError) -> Response {
        let catalog = try await Catalog.load(from: store, cache: crdDocuments)
        let type = try catalog.type(of: path.resource)
        if let subresource = path.subresource, subresource != "status" || !type.hasStatusSubresource { throw .noSuchResource() }
        let query = Query(request.uri.query)
        if query["dryRun"] != nil { throw .badRequest("dryRun is not supported by the Cairn sandbox") }
        let call = ResourceRequest(path: path, type: type, catalog: catalog, query: query, request: request)
        switch (request.method, path.name) {
        case (.get, nil): return query.flag("watch") ? try await watch(call) : try await list(call)
        case (.get, let name?): return try await get(call, name: name)
        case (.post, nil): return try await create(call)
        case (.put, let name?): return try await update(call, name: name)
        case (.patch, let name?): return try await patch(call, name: name)
        case (.delete, let name?): return try await delete(call, name: name)
        default: throw .methodNotSupported(type.groupResource, action: Self.action(request.method, collection: path.name == nil))
        }
    }

    private func get(_ call: ResourceRequest, name: String) async throws(StatusError) -> Response {
        let object = try await store.get(call.resource, namespace: call.path.namespace, name: name)
        guard let table = call.table(now: store.configuration.clock()) else { return try Self.json(object) }
        return try Self.json(table.table([object]))
    }

    private func list(_ call: ResourceRequest) async throws(StatusError) -> Response {
        let options = ListOptions(labelSelector: call.query["labelSelector"] ?? "", fieldSelector: call.query["fieldSelector"] ?? "",
                                  limit: call.query["limit"].flatMap { Int($0) }, continueToken: call.query["continue"])
        let page = try await store.list(call.resource, namespace: call.path.namespace, options: options)
        let list = page.node(kind: call.type.kind, apiVersion: call.resource.apiVersion)
        guard let table = call.table(now: store.configuration.clock()) else { return try Self.json(list) }
        return try Self.json(table.table(page.items, metadata: list["metadata"] ?? .mapping([])))
    }

    private func create(_ call: ResourceRequest) async throws(StatusError) -> Response {
        let object = try await body(of: call.request)
        let warnings = try FieldValidation(query: call.query).check(object, of: call)
        return try Self.json(try await store.create(object, in: call.resource, namespace: call.path.namespace), status: .created).warning(warnings)
    }

    private func update(_ call: ResourceRequest, name: String) async throws(StatusError) -> Response {
        let object = try await body(of: call.request)
        let warnings = call.isStatus ? [] : try FieldValidation(query: call.query).check(object, of: call)
        if call.isStatus {
            return try Self.json(try await store.updateStatus(object, in: call.resource, namespace: call.path.namespace, name: name))
        }
        return try Self.json(try await store.update(object, in: call.resource, namespace: call.path.namespace, name: name)).warning(warnings)
    }

    private func patch(_ call: ResourceRequest, name: String) async throws(StatusError) -> Response {
        let patchType = try Self.patchType(call.request.headers[.contentType])
        let patch = try await body(of: call.request)
        let warnings = call.isStatus || patchType == .json ? [] : try FieldValidation(query: call.query).check(patch, of: call)
        return try Self.json(try await store.patch(patch, type: patchType, in: call.resource, namespace: call.path.namespace, name: name,
                                                   status: call.isStatus)).warning(warnings)
    }

    private func delete(_ call: ResourceRequest, name: String) async throws(StatusError) -> Response {
        var options = try await deleteOptions(call.request)
        if let policy = call.query["propagationPolicy"] { options.propagationPolicy = try Self.propagationPolicy(policy) }
        return try Self.json(try await store.delete(call.resource, namespace: call.path.namespace, name: name, options: options))
    }

    // MARK: - Bodies

    /// The request body as JSON.
    func body(of request: Request) async throws(StatusError) -> Node {
        let mediaType = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if mediaType == "application/vnd.kubernetes.protobuf" || mediaType == "application/cbor" {
            // kube-apiserver reads protobuf; the sandbox does not. kubectl's generators send it.
            throw .unsupportedMediaType("the Cairn sandbox reads JSON only, and this request was \(mediaType); kubectl's generators (kubectl create configmap/secret/deployment, kubectl run) send protobuf: write the object as YAML and use kubectl apply -f or kubectl create -f")
        }
        let bytes = try await rawBody(of: request)
        do {
            return try JSON.parse(bytes)
        } catch {
            throw .badRequest("the body of the request is not valid JSON: \(error)")
        }
    }

    private func rawBody(of request: Request) async throws(StatusError) -> [UInt8] {
        var request = request
        do {
            return Array(try await request.collectBody(upTo: Self.maxBodySize).readableBytesView)
        } catch {
            throw StatusError(reason: "RequestEntityTooLarge", message: "the request body could not be read: \(error)", code: 413, details: nil)
        }
    }

    /// `DeleteOptions` from the body, which kubectl sends and other clients may leave out.
    private func deleteOptions(_ request: Request) async throws(StatusError) -> DeleteOptions {
        let bytes = try await rawBody(of: request)
        guard !bytes.isEmpty else { return DeleteOptions() }
        let node: Node
        do {
            node = try JSON.parse(bytes)
        } catch {
            throw .badRequest("the DeleteOptions body is not valid JSON: \(error)")
        }
        return DeleteOptions(
            propagationPolicy: try node["propagationPolicy"]?.string.map(Self.propagationPolicy),
            preconditionUID: node[path: "preconditions", "uid"]?.string,
            preconditionResourceVersion: node[path: "preconditions", "resourceVersion"]?.string)
    }

    private static func propagationPolicy(_ text: String) throws(StatusError) -> PropagationPolicy {
        guard let policy = PropagationPolicy(rawValue: text) else {
            throw .badRequest("propagationPolicy \"\(text)\" is not one of Background, Foreground, Orphan")
        }
        return policy
    }

    /// The patch type of a Content-Type.
    static func patchType(_ contentType: String?) throws(StatusError) -> PatchType {
        let mediaType = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        switch mediaType {
        case PatchType.merge.rawValue: return .merge
        case PatchType.json.rawValue: return .json
        case PatchType.strategicMerge.rawValue: return .strategicMerge
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            throw .unsupportedMediaType("server-side apply is not supported by the Cairn sandbox; use client-side apply (kubectl apply without --server-side)")
        default:
            throw .unsupportedMediaType([PatchType.json, .merge, .strategicMerge].map(\.rawValue) + ["application/apply-patch+yaml"])
        }
    }

    private static func action(_ method: HTTPRequest.Method, collection: Bool) -> String {
        switch method {
        case .post: "create"
        case .put: "update"
        case .patch: "patch"
        case .delete: collection ? "deletecollection" : "delete"
        default: method.rawValue.lowercased()
        }
    }
}
