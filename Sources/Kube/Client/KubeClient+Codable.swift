import YAML

extension KubeClient {
    /// Reads one object as `T`; `NodeDecoder` is strict, so `T` must declare every field the
    /// server sends.
    public func get<T: Decodable>(_ type: T.Type, _ resource: Resource, namespace: String? = nil, name: String) async throws -> T {
        try NodeDecoder().decode(T.self, from: try await get(resource, namespace: namespace, name: name))
    }

    /// Creates an object from any `Codable` value and returns the server's version of it.
    public func create<T: Codable>(_ resource: Resource, namespace: String? = nil, _ object: T) async throws -> T {
        let created = try await create(resource, namespace: namespace, try NodeEncoder().encode(object))
        return try NodeDecoder().decode(T.self, from: created)
    }

    /// Replaces an object from any `Codable` value and returns the server's version of it.
    public func update<T: Codable>(_ resource: Resource, namespace: String? = nil, _ object: T) async throws -> T {
        let updated = try await update(resource, namespace: namespace, try NodeEncoder().encode(object))
        return try NodeDecoder().decode(T.self, from: updated)
    }

    /// Lists objects as `T`, decoding each item.
    public func list<T: Decodable>(_ type: T.Type, _ resource: Resource, namespace: String? = nil,
                                   options: ListOptions = ListOptions()) async throws -> (items: [T], resourceVersion: String, continueToken: String?) {
        let page = try await list(resource, namespace: namespace, options: options)
        let decoder = NodeDecoder()
        return (try page.items.map { try decoder.decode(T.self, from: $0) }, page.resourceVersion, page.continueToken)
    }
}
