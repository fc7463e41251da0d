import YAML

/// A CustomResourceDefinition (`apiextensions.k8s.io/v1`), as `crds/` holds them and the API
/// server serves them.
public struct CustomResourceDefinition: Codable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Node?

    /// What a CRD defines.
    public struct Spec: Codable, Sendable {
        public var group: String
        public var names: Names
        public var scope: Scope
        public var versions: [Version]
        public var conversion: Node?
        public var preserveUnknownFields: Bool?
    }

    /// Whether objects live in namespaces.
    public enum Scope: String, Codable, Sendable, CaseIterable, StringEnumeration {
        case namespaced = "Namespaced"
        case cluster = "Cluster"
    }

    /// The names a resource is known by.
    public struct Names: Codable, Sendable, Equatable {
        public var plural: String
        public var singular: String?
        public var shortNames: [String]?
        public var kind: String
        public var listKind: String?
        public var categories: [String]?
    }

    /// One served version of the resource.
    public struct Version: Codable, Sendable {
        public var name: String
        public var served: Bool
        public var storage: Bool
        public var deprecated: Bool?
        public var deprecationWarning: String?
        public var schema: Validation?
        public var subresources: Subresources?
        public var additionalPrinterColumns: [Column]?
        public var selectableFields: Node?
    }

    /// The schema of one version.
    public struct Validation: Codable, Sendable {
        public var openAPIV3Schema: JSONSchemaProps?
    }

    /// The `status` and `scale` subresources.
    public struct Subresources: Codable, Sendable, Equatable {
        /// Present (as `{}`) when the version has a status subresource.
        public var status: Node?
        public var scale: Scale?
    }

    /// Where the scale subresource reads and writes replicas.
    public struct Scale: Codable, Sendable, Equatable {
        public var specReplicasPath: String
        public var statusReplicasPath: String
        public var labelSelectorPath: String?
    }

    /// One `kubectl get` column.
    public struct Column: Codable, Sendable, Equatable {
        public var name: String
        /// `integer`, `number`, `string`, `boolean` or `date`.
        public var type: String
        public var format: String?
        public var description: String?
        /// 0 for the default view; higher only with `-o wide`.
        public var priority: Int?
        /// A simple JSONPath into the object (`.status.phase`).
        public var jsonPath: String
    }
}

/// Either `true`/`false` or a schema, as `additionalProperties` allows.
public enum SchemaOrBool: Codable, Sendable {
    case allows(Bool)
    case schema(JSONSchemaProps)

    /// Decodes a boolean or a schema mapping.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if case .bool(let allowed) = try container.decode(Node.self).value {
            self = .allows(allowed)
        } else {
            self = .schema(try container.decode(JSONSchemaProps.self))
        }
    }

    /// Encodes the boolean or the schema.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .allows(let allowed): try container.encode(allowed)
        case .schema(let schema): try container.encode(schema)
        }
    }
}

/// An OpenAPI v3 schema as CRDs write it (`JSONSchemaProps` in apiextensions), with every
/// keyword the API server accepts, so that strict decoding catches misspelt keywords.
public final class JSONSchemaProps: Codable, Sendable {
    public let id: String?
    public let schema: String?
    public let ref: String?
    public let description: String?
    public let type: String?
    public let format: String?
    public let title: String?
    public let `default`: Node?
    public let maximum: Double?
    public let exclusiveMaximum: Bool?
    public let minimum: Double?
    public let exclusiveMinimum: Bool?
    public let maxLength: Int?
    public let minLength: Int?
    public let pattern: String?
    public let maxItems: Int?
    public let minItems: Int?
    public let uniqueItems: Bool?
    public let multipleOf: Double?
    public let `enum`: [Node]?
    public let maxProperties: Int?
    public let minProperties: Int?
    public let required: [String]?
    public let items: JSONSchemaProps?
    public let allOf: [JSONSchemaProps]?
    public let oneOf: [JSONSchemaProps]?
    public let anyOf: [JSONSchemaProps]?
    public let not: JSONSchemaProps?
    public let properties: [String: JSONSchemaProps]?
    public let additionalProperties: SchemaOrBool?
    public let patternProperties: [String: JSONSchemaProps]?
    public let dependencies: Node?
    public let additionalItems: Node?
    public let definitions: [String: JSONSchemaProps]?
    public let externalDocs: Node?
    public let example: Node?
    public let nullable: Bool?
    public let preserveUnknownFields: Bool?
    public let embeddedResource: Bool?
    public let intOrString: Bool?
    public let listMapKeys: [String]?
    public let listType: String?
    public let mapType: String?
    public let validations: Node?

    private enum CodingKeys: String, CodingKey {
        case id, description, type, format, title, `default`, maximum, exclusiveMaximum, minimum
        case exclusiveMinimum, maxLength, minLength, pattern, maxItems, minItems, uniqueItems, multipleOf
        case `enum`, maxProperties, minProperties, required, items, allOf, oneOf, anyOf, not, properties
        case additionalProperties, patternProperties, dependencies, additionalItems, definitions
        case externalDocs, example, nullable
        case schema = "$schema"
        case ref = "$ref"
        case preserveUnknownFields = "x-kubernetes-preserve-unknown-fields"
        case embeddedResource = "x-kubernetes-embedded-resource"
        case intOrString = "x-kubernetes-int-or-string"
        case listMapKeys = "x-kubernetes-list-map-keys"
        case listType = "x-kubernetes-list-type"
        case mapType = "x-kubernetes-map-type"
        case validations = "x-kubernetes-validations"
    }
}
