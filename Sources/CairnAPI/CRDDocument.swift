import YAML

/// A loaded CRD: its names and, per version, the compiled schema, printer columns and
/// subresources. The sandbox API server serves custom resources from these.
public struct CRDDocument: Sendable {
    /// One version, ready to validate and print objects.
    public struct Version: Sendable {
        /// `v1alpha1`.
        public let name: String
        /// Whether the API serves it.
        public let served: Bool
        /// Whether objects are stored in it.
        public let storage: Bool
        /// The schema, when the version declares one.
        public let schema: StructuralSchema?
        /// The `kubectl get` columns as declared.
        public let printerColumns: [CustomResourceDefinition.Column]
        /// The parsed JSONPath of each printer column, in the same order.
        public let columnPaths: [ColumnPath]
        /// Whether `/status` is a separate subresource.
        public let hasStatusSubresource: Bool
        /// The scale subresource, when declared.
        public let scale: CustomResourceDefinition.Scale?
    }

    /// The definition as written.
    public let definition: CustomResourceDefinition
    /// The versions, in declaration order.
    public let versions: [Version]

    /// `cairn.dev`.
    public var group: String { definition.spec.group }
    /// Kind, plural, singular, short names and categories.
    public var names: CustomResourceDefinition.Names { definition.spec.names }
    /// Namespaced or cluster-wide.
    public var scope: CustomResourceDefinition.Scope { definition.spec.scope }
    /// The singular name, or the lowercased kind when the CRD leaves it out.
    public var singular: String { names.singular ?? names.kind.lowercased() }
    /// The version objects are stored in.
    public var storageVersion: Version { versions.first { $0.storage }! }

    /// The version called `name`.
    public func version(_ name: String) -> Version? { versions.first { $0.name == name } }

    /// Reads a CRD strictly and compiles its schemas and column paths.
    public init(_ node: Node, file: String? = nil) throws {
        let definition = try NodeDecoder(file: file).decode(CustomResourceDefinition.self, from: node)
        try Self.check(definition, node, file: file)
        self.definition = definition
        versions = try definition.spec.versions.enumerated().map { index, version in
            try Self.load(version, node: node["spec"]?["versions"]?.sequence?[index], file: file)
        }
    }

    /// Parses a CRD from YAML text.
    public init(yaml: String, file: String? = nil) throws {
        try self.init(try YAML.parse(yaml, file: file), file: file)
    }

    private static func load(_ version: CustomResourceDefinition.Version, node: Node?, file: String?) throws -> Version {
        let schema = try version.schema?.openAPIV3Schema.map { try StructuralSchema($0, file: file) }
        let columns = version.additionalPrinterColumns ?? []
        let paths = try columns.enumerated().map { index, column in
            do {
                return try ColumnPath(parsing: column.jsonPath)
            } catch let error as ColumnPathError {
                let columnNode = node?["additionalPrinterColumns"]?.sequence?[index]
                throw NodeDecodingError(.invalidValue, problems: [
                    .init(path: "spec.versions[\(version.name)].additionalPrinterColumns[\(index)].jsonPath",
                          mark: columnNode?["jsonPath"]?.mark, message: error.description)
                ], file: file)
            }
        }
        return Version(
            name: version.name, served: version.served, storage: version.storage, schema: schema,
            printerColumns: columns, columnPaths: paths,
            hasStatusSubresource: version.subresources?.status != nil, scale: version.subresources?.scale)
    }

    private static func check(_ definition: CustomResourceDefinition, _ node: Node, file: String?) throws {
        var problems: [NodeDecodingError.Problem] = []
        func expect(_ ok: Bool, _ path: String, _ message: String) {
            let target = path.split(separator: ".").reduce(Optional(node)) { $0?[String($1)] }
            if !ok { problems.append(.init(path: path, mark: target?.mark, message: message)) }
        }
        expect(definition.apiVersion == "apiextensions.k8s.io/v1", "apiVersion", "must be \"apiextensions.k8s.io/v1\"")
        expect(definition.kind == "CustomResourceDefinition", "kind", "must be \"CustomResourceDefinition\"")
        let expectedName = "\(definition.spec.names.plural).\(definition.spec.group)"
        expect(definition.metadata.name == expectedName, "metadata.name", "must be \"\(expectedName)\" (<plural>.<group>)")
        let storage = definition.spec.versions.filter(\.storage).count
        expect(storage == 1, "spec.versions", "exactly one version must have storage: true; \(storage) do")
        if !problems.isEmpty { throw NodeDecodingError(.invalidValue, problems: problems, file: file) }
    }
}
