import Testing

@testable import YAML

// Small types that stand in for API objects, so these tests depend on YAML alone.

private enum Method: String, Codable, CaseIterable, StringEnumeration, Equatable {
    case restic, snapshot
    case snapshotRestic = "snapshot-restic"
}

private struct Retention: Codable, Equatable {
    var keepLast: Int?
    var keepDaily: Int?
}

private struct Session: Codable, Equatable {
    var name: String
    var method: Method?
    var retention: Retention?
    var paused: Bool?
}

private struct Ref: Codable, Equatable {
    var name: String
    var namespace: String?
}

private struct Spec: Codable, Equatable {
    var storage: Ref
    var sessions: [Session]
    var labels: [String: String]?
    var template: Node?
    var ratio: Double?
}

private struct Object: Codable, Equatable {
    var spec: Spec
}

private func session(_ pairs: KeyValuePairs<String, Node>) -> Node {
    .mapping(pairs)
}

private func object(session: Node, storage: Node = .mapping(["name": "s3"])) -> Node {
    .mapping(["spec": .mapping(["storage": storage, "sessions": [session]])])
}

@Suite struct NodeDecoderTests {
    let decoder = NodeDecoder(file: "bc.yaml")

    @Test func givenAWellFormedTree_whenDecoded_thenEveryFieldIsRead() throws {
        let node: Node = .mapping([
            "spec": .mapping([
                "storage": .mapping(["name": "s3", "namespace": "cairn"]),
                "sessions": [.mapping(["name": "nightly", "method": "snapshot-restic", "retention": .mapping(["keepLast": 7]), "paused": false])],
                "labels": .mapping(["b": "2", "a": "1"]),
                "template": .mapping(["anything": [1, "two"]]),
                "ratio": 2,
            ])
        ])
        let decoded = try decoder.decode(Object.self, from: node)
        #expect(decoded.spec.storage == Ref(name: "s3", namespace: "cairn"))
        #expect(decoded.spec.sessions == [Session(name: "nightly", method: .snapshotRestic, retention: Retention(keepLast: 7), paused: false)])
        #expect(decoded.spec.labels == ["a": "1", "b": "2"])
        #expect(decoded.spec.template == .mapping(["anything": [1, "two"]]))
        #expect(decoded.spec.ratio == 2.0)
    }

    @Test func givenTwoUnknownKeysAtDifferentDepths_whenDecoded_thenOneErrorNamesBoth() throws {
        var node = object(session: .mapping(["name": "nightly", "retension": .mapping(["keepLast": 7])]))
        node["spec"]?["extra"] = Node(.bool(true), mark: Mark(line: 9, column: 3))
        node["spec"]?["sessions"] = [Node(.mapping([
            .init(key: Node(.string("name")), value: "nightly"),
            .init(key: Node(.string("retension"), mark: Mark(line: 5, column: 7)), value: .mapping(["keepLast": 7])),
        ]))]
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Object.self, from: node) }
        #expect(error.kind == .unknownField)
        #expect(error.problems.map(\.path) == ["spec.sessions[0].retension", "spec.extra"])
        #expect(error.description.contains(#"bc.yaml:5:7: unknown field "spec.sessions[0].retension""#))
        #expect(error.description.contains(#"bc.yaml:9:3: unknown field "spec.extra""#))
    }

    @Test func givenAStringWhereAnIntegerBelongs_whenDecoded_thenTheMessageNamesPathAndValue() throws {
        let keepLast = Node(.string("seven"), mark: Mark(line: 12, column: 21))
        let node = object(session: .mapping(["name": "nightly", "retention": .mapping(["keepLast": keepLast])]))
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Object.self, from: node) }
        #expect(error.kind == .typeMismatch)
        #expect(error.description == #"bc.yaml:12:21: spec.sessions[0].retention.keepLast: expected integer, got string "seven""#)
    }

    @Test(arguments: [
        // (node, expected message) for a `name: String` field: no coercion either way.
        (Node.int(7), "expected string, got integer 7"),
        (Node.bool(true), "expected string, got boolean true"),
        (Node.null, "expected string, got null"),
        (Node.sequence(["a"]), "expected string, got sequence"),
    ])
    func givenANonStringForAString_whenDecoded_thenItIsATypeMismatch(value: Node, message: String) throws {
        let node = object(session: .mapping(["name": value]))
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Object.self, from: node) }
        #expect(error.kind == .typeMismatch)
        #expect(error.problems == [.init(path: "spec.sessions[0].name", mark: nil, message: message)])
    }

    @Test(arguments: [
        (Node.int(7), 7),
        (Node.double(7.0), 7),
        (Node.double(-0.0), 0),
    ])
    func givenAnIntegralNumber_whenDecodedAsInt_thenItIsAccepted(value: Node, expected: Int) throws {
        let node = object(session: .mapping(["name": "n", "retention": .mapping(["keepLast": value])]))
        #expect(try decoder.decode(Object.self, from: node).spec.sessions[0].retention?.keepLast == expected)
    }

    @Test(arguments: [
        (Node.double(1.5), NodeDecodingError.Kind.typeMismatch, "expected integer, got number 1.5"),
        (Node.string("7"), .typeMismatch, #"expected integer, got string "7""#),
        (Node.double(1e300), .invalidValue, "1e+300 is out of range for Int"),
    ])
    func givenANonIntegralValue_whenDecodedAsInt_thenItIsRejected(value: Node, kind: NodeDecodingError.Kind, message: String) throws {
        let node = object(session: .mapping(["name": "n", "retention": .mapping(["keepLast": value])]))
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Object.self, from: node) }
        #expect(error.kind == kind)
        #expect(error.problems.first?.message == message)
    }

    @Test func givenAnIntegerForADouble_whenDecoded_thenItIsAccepted() throws {
        struct Ratio: Decodable { var ratio: Double }
        #expect(try decoder.decode(Ratio.self, from: .mapping(["ratio": 3])).ratio == 3.0)
    }

    @Test func givenAMissingRequiredField_whenDecoded_thenTheMessageNamesTheMappingAndTheField() throws {
        let storage = Node(.mapping([.init(key: "namespace", value: "cairn")]), mark: Mark(line: 4, column: 5))
        let node = object(session: .mapping(["name": "n"]), storage: storage)
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Object.self, from: node) }
        #expect(error.kind == .missingField)
        #expect(error.description == #"bc.yaml:4:5: spec.storage: required field "name" is missing"#)
    }

    @Test func givenAnUnsupportedEnumValue_whenDecoded_thenTheMessageListsTheSupportedValues() throws {
        let node = object(session: .mapping(["name": "n", "method": "rsync"]))
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Object.self, from: node) }
        #expect(error.kind == .invalidValue)
        #expect(error.description == #"bc.yaml: spec.sessions[0].method: unsupported value "rsync"; supported values: "restic", "snapshot", "snapshot-restic""#)
    }

    @Test(arguments: [Node.null, nil])
    func givenANullOrAbsentOptional_whenDecoded_thenItIsNil(value: Node?) throws {
        var session: Node = .mapping(["name": "n"])
        session["method"] = value
        #expect(try decoder.decode(Object.self, from: object(session: session)).spec.sessions[0].method == nil)
    }

    @Test func givenANodeField_whenDecoded_thenItKeepsOrderAndMarks() throws {
        let inner = Node(.mapping([.init(key: "z", value: 1), .init(key: "a", value: 2)]), mark: Mark(line: 3, column: 1))
        var node = object(session: .mapping(["name": "n"]))
        node["spec"]?["template"] = inner
        let template = try #require(try decoder.decode(Object.self, from: node).spec.template)
        #expect(template.mapping?.map(\.key.string) == ["z", "a"])
        #expect(template.mark == Mark(line: 3, column: 1))
    }

    @Test func givenAnErrorThrownByACustomInit_whenDecoded_thenItIsReportedWithThePath() throws {
        struct Even: Decodable {
            init(from decoder: any Decoder) throws {
                let value = try decoder.singleValueContainer().decode(Int.self)
                guard value.isMultiple(of: 2) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(value) is odd"))
                }
            }
        }
        struct Holder: Decodable { var items: [Even] }
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Holder.self, from: .mapping(["items": [2, 3]])) }
        #expect(error.kind == .invalidValue)
        #expect(error.problems.first?.description == "items[1]: 3 is odd")
    }

    @Test func givenAKeyedTypeReadingAllKeys_whenDecoded_thenNoKeyIsUnknown() throws {
        let labels = try decoder.decode([String: Int].self, from: .mapping(["a": 1, "b": 2]))
        #expect(labels == ["a": 1, "b": 2])
    }
}

/// The decoder's fast paths (lists of strings, other integer widths, enumerations met through a
/// single-value container) must report what the general path reports.
@Suite struct NodeDecoderFastPathTests {
    let decoder = NodeDecoder(file: "bc.yaml")

    private struct Command: Decodable { var command: [String] }
    private struct Small: Decodable { var port: UInt8 }
    private struct Wrapped: Decodable {
        var method: Method
        init(from decoder: any Decoder) throws { method = try decoder.singleValueContainer().decode(Method.self) }
    }
    private struct Paths: Decodable {
        var paths: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyCodingKey.self)
            let nested = try container.superDecoder(forKey: AnyCodingKey("inner"))
            paths = [decoder, nested].map { $0.codingPath.map(\.stringValue).joined(separator: "/") }
            _ = try nested.container(keyedBy: AnyCodingKey.self).allKeys
        }
    }

    @Test(arguments: [
        (Node.sequence(["sh", 7]), NodeDecodingError.Problem(path: "command[1]", mark: nil, message: "expected string, got integer 7")),
        (Node.string("sh"), .init(path: "command", mark: nil, message: #"expected sequence, got string "sh""#)),
    ])
    func givenAListOfStringsWithAWrongItem_whenDecoded_thenTheItemIsNamed(value: Node, problem: NodeDecodingError.Problem) throws {
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Command.self, from: .mapping(["command": value])) }
        #expect(error.kind == .typeMismatch)
        #expect(error.problems == [problem])
    }

    @Test(arguments: [
        (Node.int(300), "300 is out of range for UInt8"),
        (Node.string("80"), #"expected integer, got string "80""#),
    ])
    func givenASmallIntegerField_whenTheValueDoesNotFit_thenTheMessageSaysWhy(value: Node, message: String) throws {
        #expect(try decoder.decode(Small.self, from: .mapping(["port": 80])).port == 80)
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Small.self, from: .mapping(["port": value])) }
        #expect(error.problems == [.init(path: "port", mark: nil, message: message)])
    }

    @Test func givenAnEnumerationReadThroughASingleValueContainer_whenUnsupported_thenTheSupportedValuesAreListed() throws {
        #expect(try decoder.decode(Wrapped.self, from: "snapshot").method == .snapshot)
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Wrapped.self, from: "tape") }
        #expect(error.kind == .invalidValue)
        #expect(error.problems.first?.message == #"unsupported value "tape"; supported values: "restic", "snapshot", "snapshot-restic""#)
    }

    @Test func givenNestedDecoders_whenAskedForTheirCodingPath_thenItRunsFromTheRoot() throws {
        struct Holder: Decodable { var items: [Paths] }
        let node: Node = .mapping(["items": [.mapping(["inner": .mapping(["x": 1])])]])
        let holder = try decoder.decode(Holder.self, from: node)
        #expect(holder.items[0].paths == ["items/0", "items/0/inner"])
    }

    @Test func givenAMappingWithMoreThanSixteenKeys_whenOneIsUnknown_thenOnlyThatOneIsReported() throws {
        struct Wide: Decodable {
            var values: [String: Int]
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: AnyCodingKey.self)
                values = [:]
                for i in 0..<20 { values["k\(i)"] = try container.decode(Int.self, forKey: AnyCodingKey("k\(i)")) }
            }
        }
        var pairs = (0..<20).map { Node.Pair(key: .string("k\($0)"), value: .int($0)) }
        #expect(try decoder.decode(Wide.self, from: .mapping(pairs)).values["k19"] == 19)
        pairs.insert(Node.Pair(key: .string("extra"), value: .int(0)), at: 10)
        let error = try #require(throws: NodeDecodingError.self) { try decoder.decode(Wide.self, from: .mapping(pairs)) }
        #expect(error.problems.map(\.path) == ["extra"])
    }
}

@Suite struct NodeEncoderTests {
    @Test func givenAStruct_whenEncoded_thenKeysFollowDeclarationOrderAndNilsAreOmitted() throws {
        let value = Session(name: "nightly", method: .restic, retention: Retention(keepDaily: 7))
        let node = try NodeEncoder().encode(value)
        #expect(node.mapping?.map(\.key.string) == ["name", "method", "retention"])
        #expect(node == .mapping(["name": "nightly", "method": "restic", "retention": .mapping(["keepDaily": 7])]))
    }

    @Test func givenADictionary_whenEncoded_thenKeysAreSorted() throws {
        let labels = Dictionary(uniqueKeysWithValues: (0..<50).map { ("key\($0)", "\($0)") })
        let node = try NodeEncoder().encode(labels)
        let keys = try #require(node.mapping).compactMap(\.key.string)
        #expect(keys == keys.sorted())
        #expect(keys.count == 50)
    }

    @Test func givenANodeField_whenEncoded_thenItIsEmbeddedAsIs() throws {
        let template = Node(.mapping([.init(key: "z", value: 1), .init(key: "a", value: [true, .null])]))
        let spec = Spec(storage: Ref(name: "s3"), sessions: [], template: template)
        let node = try NodeEncoder().encode(spec)
        #expect(node["template"]?.mapping?.map(\.key.string) == ["z", "a"])
        #expect(node["template"] == template)
        #expect(node["sessions"] == [])
    }

    @Test(arguments: [
        (-3 as any Encodable & Sendable, Node.int(-3)), (2.5, .double(2.5)), (false, .bool(false)),
        ("x", .string("x")), (UInt8(7), .int(7)), (Float(0.5), .double(0.5)),
    ])
    func givenAScalar_whenEncoded_thenItKeepsItsType(value: any Encodable & Sendable, expected: Node) throws {
        #expect(try NodeEncoder().encode(value) == expected)
    }

    @Test func givenAValue_whenEncodedAndStrictlyDecoded_thenItRoundTrips() throws {
        let value = Object(spec: Spec(
            storage: Ref(name: "s3", namespace: "cairn"),
            sessions: [Session(name: "a", method: .snapshot, retention: Retention(keepLast: 3, keepDaily: 2), paused: true)],
            labels: ["x": "1"], template: .mapping(["k": [1, 2.5, "s", nil]]), ratio: 0.5))
        let node = try NodeEncoder().encode(value)
        #expect(try NodeDecoder().decode(Object.self, from: node) == value)
    }
}

@Suite struct FieldPathTests {
    @Test(arguments: [
        (FieldPath([.key("spec"), .key("sessions"), .index(0), .key("name")]), "spec.sessions[0].name"),
        (FieldPath([.key("metadata"), .key("labels"), .key("app.kubernetes.io/name")]), "metadata.labels[app.kubernetes.io/name]"),
        (FieldPath([.index(2)]), "[2]"),
        (FieldPath(), ""),
    ])
    func givenAPath_whenPrinted_thenItReadsLikeKubernetes(path: FieldPath, expected: String) {
        #expect(path.description == expected)
    }
}

