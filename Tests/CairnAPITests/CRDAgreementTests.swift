import CairnAPI
import Foundation
import Testing
import YAML

/// The `crds/` manifests and the Swift types describe the same API: every Swift field is in the
/// schema with the same type, every schema field is in Swift, required lists match non-optional
/// fields, and every printer column points at a real field.
@Suite struct CRDAgreementTests {
    static let kinds: [KindCase] = [
        .of("backupblueprints", shortName: "bbp") { [Samples.blueprint] },
        .of("backupconfigurations", shortName: "bc") { [Samples.configuration] },
        .of("backupsessions", shortName: "bs") { [Samples.session] },
        .of("snapshots", shortName: "snap") { [Samples.snapshot] },
        .of("backupstorages", shortName: "bst") { Samples.storages },
        .of("restoresessions", shortName: "restore") { [Samples.restore] },
    ]

    @Test(arguments: kinds)
    func givenTheSamples_whenMirrored_thenEveryOptionalIsSetAndEveryListIsNonEmpty(kind: KindCase) {
        #expect(kind.gaps().isEmpty, "fill these in Samples.swift so the agreement tests see them")
    }

    @Test(arguments: kinds)
    func givenAFullSample_whenValidatedByItsCRD_thenThereAreNoProblems(kind: KindCase) throws {
        let schema = try #require(try kind.crd().storageVersion.schema)
        for sample in try kind.encodedSamples() {
            let problems = schema.validate(sample)
            #expect(problems.isEmpty, "\(problems.map(\.description).joined(separator: "\n"))")
        }
    }

    @Test(arguments: kinds)
    func givenTheCRDSchema_whenItsPropertyPathsAreListed_thenTheSamplesHaveEveryOne(kind: KindCase) throws {
        let schema = try #require(try kind.crd().storageVersion.schema)
        let present = try kind.encodedSamples().reduce(into: Set<String>()) { Paths.collect($1, at: "", into: &$0) }
        let missing = Paths.declared(in: schema.root, at: "", isRoot: true).filter { !present.contains($0) }
        #expect(missing.isEmpty, "schema fields with no Swift counterpart (or not set in Samples.swift): \(missing)")
    }

    @Test(arguments: kinds)
    func givenAFullSample_whenEncodedAndStrictlyDecoded_thenItIsUnchanged(kind: KindCase) throws {
        #expect(try kind.roundTrips())
    }

    @Test(arguments: kinds)
    func givenTheCRDSchema_whenComparedWithTheSwiftType_thenRequiredListsAreTheNonOptionalFields(kind: KindCase) throws {
        let schema = try #require(try kind.crd().storageVersion.schema)
        let mismatches = kind.requiredMismatches(schema)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test(arguments: kinds)
    func givenThePrinterColumns_whenResolvedInTheSchema_thenEachPointsAtAField(kind: KindCase) throws {
        let version = try kind.crd().storageVersion
        let schema = try #require(version.schema)
        let metadataFields = Set(Mirror(reflecting: ObjectMeta()).children.compactMap(\.label))
        #expect(!version.printerColumns.isEmpty)
        for (column, path) in zip(version.printerColumns, version.columnPaths) {
            let keys = path.schemaKeys
            if keys.first == "metadata" {
                #expect(keys.count == 2 && metadataFields.contains(keys[1]), "column \(column.name): \(path)")
            } else {
                #expect(schema.schema(at: keys) != nil, "column \(column.name): \(path) is not in the schema")
            }
            for case .filter(let field, _) in path.steps {
                let prefix = Array(keys.prefix { $0 != "[]" }) + ["[]"]
                #expect(schema.schema(at: prefix + field) != nil, "column \(column.name): filter field \(field) is not in the schema")
            }
        }
    }

    @Test(arguments: kinds)
    func givenTheCRD_whenLoaded_thenNamesScopeVersionAndSubresourcesAreAsDesigned(kind: KindCase) throws {
        let crd = try kind.crd()
        let sample = try #require(try kind.encodedSamples().first)
        #expect(crd.group == "cairn.dev")
        #expect(crd.names.kind == sample["kind"]?.string)
        #expect(sample["apiVersion"]?.string == CairnGroup.apiVersion)
        #expect(crd.names.plural == kind.plural)
        #expect(crd.names.shortNames == [kind.shortName])
        #expect(crd.names.categories == ["cairn"])
        #expect(crd.scope == .namespaced)
        #expect(crd.versions.map(\.name) == ["v1alpha1"])
        #expect(crd.storageVersion.served)
        #expect(crd.storageVersion.hasStatusSubresource == (sample["status"] != nil))
    }

    @Test(arguments: kinds)
    func givenTheCRDSchema_whenWalked_thenEveryPropertyHasADescription(kind: KindCase) throws {
        let schema = try #require(try kind.crd().storageVersion.schema)
        let undocumented = Paths.undocumented(in: schema.root, at: "")
        #expect(undocumented.isEmpty, "\(undocumented)")
    }
}

/// One kind: its CRD file and its samples, behind closures so the table stays Sendable.
struct KindCase: Sendable, CustomStringConvertible {
    let plural: String
    let shortName: String
    let encodedSamples: @Sendable () throws -> [Node]
    let roundTrips: @Sendable () throws -> Bool
    let gaps: @Sendable () -> Set<String>
    let requiredMismatches: @Sendable (StructuralSchema) -> [String]

    var description: String { plural }

    static func of<T: Codable & Equatable & SendableMetatype>(
        _ plural: String, shortName: String, _ samples: @escaping @Sendable () -> [T]
    ) -> KindCase {
        KindCase(
            plural: plural, shortName: shortName,
            encodedSamples: { try samples().map { try NodeEncoder().encode($0) } },
            roundTrips: {
                try samples().allSatisfy { try NodeDecoder().decode(T.self, from: try NodeEncoder().encode($0)) == $0 }
            },
            gaps: { samples().map { Set(Fullness.gaps(in: $0, at: "")) }.reduce(nil as Set<String>?) { $0?.intersection($1) ?? $1 } ?? [] },
            requiredMismatches: { schema in
                samples().flatMap { Fullness.requiredMismatches($0, schema.root, at: "", isRoot: true) }
            })
    }

    func crd() throws -> CRDDocument {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../crds/cairn.dev_\(plural).yaml")
        let text = try String(contentsOf: url.standardizedFileURL, encoding: .utf8)
        return try CRDDocument(yaml: text, file: "crds/cairn.dev_\(plural).yaml")
    }
}

/// Walks Swift values with `Mirror`.
enum Fullness {
    /// Paths of nil optionals and empty collections; list items appear as `[]`.
    static func gaps(in value: Any, at path: String) -> [String] {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first?.value else { return [path] }
            return gaps(in: wrapped, at: path)
        case .collection:
            if mirror.children.isEmpty { return [path] }
            return mirror.children.flatMap { gaps(in: $0.value, at: path + "[]") }
        case .dictionary:
            return mirror.children.isEmpty ? [path] : []
        case .struct where !(value is Node):
            return mirror.children.flatMap { child in gaps(in: child.value, at: join(path, child.label ?? "?")) }
        default:
            return []
        }
    }

    /// Where a schema's `required` list differs from the non-optional stored properties.
    static func requiredMismatches(_ value: Any, _ schema: JSONSchemaProps, at path: String, isRoot: Bool = false) -> [String] {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { requiredMismatches($0.value, schema, at: path) } ?? []
        case .collection:
            guard let items = schema.items else { return ["\(path): list has no items schema"] }
            return mirror.children.flatMap { requiredMismatches($0.value, items, at: path + "[]") }
        case .struct where !(value is Node):
            return structMismatches(mirror, schema, at: path, isRoot: isRoot)
        default:
            return []
        }
    }

    private static func structMismatches(_ mirror: Mirror, _ schema: JSONSchemaProps, at path: String, isRoot: Bool) -> [String] {
        // The API server guarantees a resource's apiVersion, kind and metadata; schemas leave them out of `required`.
        let implied: Set<String> = isRoot ? ["apiVersion", "kind", "metadata"] : []
        let nonOptional = Set(mirror.children.filter { Mirror(reflecting: $0.value).displayStyle != .optional }.compactMap(\.label))
        var problems: [String] = []
        let required = Set(schema.required ?? [])
        if nonOptional.subtracting(implied) != required {
            problems.append("\(path.isEmpty ? "<root>" : path): required \(required.sorted()) but non-optional Swift fields \(nonOptional.subtracting(implied).sorted())")
        }
        for child in mirror.children {
            guard let label = child.label, let property = schema.properties?[label] else { continue }
            problems += requiredMismatches(child.value, property, at: join(path, label))
        }
        return problems
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// Field paths of schemas and encoded objects, with `[]` for list items.
enum Paths {
    /// Every path the schema declares, outside `metadata` and free-form subtrees.
    static func declared(in schema: JSONSchemaProps, at path: String, isRoot: Bool = false) -> [String] {
        var paths: [String] = []
        for (key, property) in schema.properties ?? [:] where !(isRoot && key == "metadata") {
            let child = Fullness.join(path, key)
            paths.append(child)
            paths += declared(in: property, at: child)
        }
        if let items = schema.items { paths += declared(in: items, at: path + "[]") }
        return paths
    }

    /// Every path present in an encoded object.
    static func collect(_ node: Node, at path: String, into paths: inout Set<String>) {
        switch node.value {
        case .mapping(let pairs):
            for pair in pairs {
                let child = Fullness.join(path, pair.key.scalarText)
                paths.insert(child)
                collect(pair.value, at: child, into: &paths)
            }
        case .sequence(let items):
            for item in items { collect(item, at: path + "[]", into: &paths) }
        default:
            break
        }
    }

    /// Declared properties without a description.
    static func undocumented(in schema: JSONSchemaProps, at path: String) -> [String] {
        var paths: [String] = []
        for (key, property) in schema.properties ?? [:] where !(path.isEmpty && key == "metadata") {
            let child = Fullness.join(path, key)
            if (property.description ?? "").isEmpty { paths.append(child) }
            paths += undocumented(in: property, at: child)
        }
        if let items = schema.items { paths += undocumented(in: items, at: path + "[]") }
        return paths.sorted()
    }
}
