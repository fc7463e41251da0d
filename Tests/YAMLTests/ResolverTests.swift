import Testing
import YAML

/// Plain scalars resolve as kubectl and the API server resolve them (go-yaml v2, YAML 1.1).
@Suite struct ResolverTests {
    static let cases: [(String, Node.Value)] = [
        ("", .null), ("~", .null), ("null", .null), ("Null", .null), ("NULL", .null),
        ("nULL", .string("nULL")),
        ("true", .bool(true)), ("True", .bool(true)), ("TRUE", .bool(true)), ("tRUE", .string("tRUE")),
        ("yes", .bool(true)), ("Yes", .bool(true)), ("YES", .bool(true)), ("y", .bool(true)), ("Y", .bool(true)),
        ("on", .bool(true)), ("On", .bool(true)), ("ON", .bool(true)),
        ("false", .bool(false)), ("no", .bool(false)), ("n", .bool(false)), ("N", .bool(false)),
        ("off", .bool(false)), ("Off", .bool(false)), ("OFF", .bool(false)),
        ("0", .int(0)), ("7", .int(7)), ("-7", .int(-7)), ("+7", .int(7)), ("1_000", .int(1000)),
        ("0777", .int(511)), ("0o17", .int(15)), ("0x1F", .int(31)), ("0X1f", .int(31)), ("0b101", .int(5)),
        ("-0x10", .int(-16)), ("9223372036854775807", .int(Int.max)), ("-9223372036854775808", .int(Int.min)),
        ("9223372036854775808", .double(9223372036854775808)),
        ("08", .double(8)), ("1.5", .double(1.5)), ("1.", .double(1)), (".5", .double(0.5)),
        ("-.5", .double(-0.5)), ("1e3", .double(1000)), ("1.5E-2", .double(0.015)), ("+1.5", .double(1.5)),
        (".inf", .double(.infinity)), ("-.Inf", .double(-.infinity)), ("+.INF", .double(.infinity)),
        (".nan", .double(.nan)), (".NaN", .double(.nan)),
        ("1e", .string("1e")), ("0x", .string("0x")), ("0xZZ", .string("0xZZ")), ("+", .string("+")),
        ("-", .string("-")), ("1.2.3", .string("1.2.3")), ("1:30", .string("1:30")),
        ("2026-11-21", .string("2026-11-21")), ("2026-11-21T01:30:00Z", .string("2026-11-21T01:30:00Z")),
        ("30 1 * * *", .string("30 1 * * *")), ("yess", .string("yess")), ("nope", .string("nope")),
        ("<<", .string("<<")), ("inf", .string("inf")), ("nan", .string("nan")), ("0.0.0.0", .string("0.0.0.0")),
    ]

    @Test("Given a plain scalar, when resolved, then it has the type Kubernetes gives it", arguments: cases)
    func givenPlainScalar_whenResolved_thenKubernetesType(text: String, expected: Node.Value) {
        #expect(YAML.resolveScalar(text) == expected, "\"\(text)\"")
    }

    @Test("Given the same scalar in a document, when parsed plain and quoted, then only plain resolves", arguments: cases)
    func givenScalarInDocument_whenParsed_thenPlainResolvesAndQuotedStaysString(text: String, expected: Node.Value) throws {
        guard !text.isEmpty, !text.hasPrefix("-"), text != "~", !text.hasPrefix("<") else { return }
        let doc = try YAML.parse("plain: \(text)\nquoted: \"\(text)\"\nsingle: '\(text)'\n")
        #expect(doc["plain"]?.value == expected, "\(text)")
        #expect(doc["quoted"]?.value == .string(text))
        #expect(doc["single"]?.value == .string(text))
        #expect(doc["quoted"]?.style == .quoted)
    }
}
