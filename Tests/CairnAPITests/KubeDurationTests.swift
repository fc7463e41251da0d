import CairnAPI
import Testing
import YAML

@Suite struct KubeDurationTests {
    // Expected values come from Go's time.ParseDuration and Duration.String.
    @Test(arguments: [
        ("300ms", Int64(300_000_000), "300ms"),
        ("1.5h", 5_400_000_000_000, "1h30m0s"),
        ("1h30m", 5_400_000_000_000, "1h30m0s"),
        ("26h", 93_600_000_000_000, "26h0m0s"),
        ("90s", 90_000_000_000, "1m30s"),
        ("0", 0, "0s"),
        ("-1.5h", -5_400_000_000_000, "-1h30m0s"),
        ("+5m", 300_000_000_000, "5m0s"),
        ("1us", 1_000, "1µs"),
        ("1µs", 1_000, "1µs"),
        ("1.5µs", 1_500, "1.5µs"),
        ("100ns", 100, "100ns"),
        (".5s", 500_000_000, "500ms"),
        ("1.s", 1_000_000_000, "1s"),
        ("1.000000001s", 1_000_000_001, "1.000000001s"),
        ("2h45m10.5s", 9_910_500_000_000, "2h45m10.5s"),
        ("9223372036854775807ns", Int64.max, "2562047h47m16.854775807s"),
    ])
    func givenAGoDuration_whenParsed_thenNanosecondsAndGoFormMatch(text: String, nanoseconds: Int64, formatted: String) throws {
        let duration = try KubeDuration(parsing: text)
        #expect(duration.nanoseconds == nanoseconds)
        #expect(duration.description == formatted)
        #expect(try KubeDuration(parsing: duration.description) == duration)
    }

    @Test(arguments: [
        ("", KubeDurationError.Kind.invalid, #"invalid duration """#),
        ("-", .invalid, #"invalid duration "-""#),
        ("h", .invalid, #"invalid duration "h""#),
        (".", .invalid, #"invalid duration ".""#),
        ("5", .missingUnit, #"invalid duration "5": missing unit"#),
        ("1d", .unknownUnit, #"invalid duration "1d": unknown unit "d""#),
        ("5 minutes", .unknownUnit, #"invalid duration "5 minutes": unknown unit " minutes""#),
        ("9223372036854775808ns", .overflow, #"invalid duration "9223372036854775808ns": out of range"#),
        ("3000000h", .overflow, #"invalid duration "3000000h": out of range"#),
    ])
    func givenABadDuration_whenParsed_thenTheErrorSaysWhatIsWrongAndWhatToWrite(text: String, kind: KubeDurationError.Kind, message: String) throws {
        let error = try #require(throws: KubeDurationError.self) { try KubeDuration(parsing: text) }
        #expect(error.kind == kind)
        #expect(error.description.hasPrefix(message))
        #expect(error.description.contains("1h30m") || kind == .overflow)
    }

    @Test func givenADurationField_whenDecodedStrictly_thenABadValueNamesThePath() throws {
        struct Spec: Codable, Equatable { var timeout: KubeDuration }
        let ok = try NodeDecoder().decode(Spec.self, from: .mapping(["timeout": "90s"]))
        #expect(ok.timeout == .seconds(90))
        #expect(try NodeEncoder().encode(ok) == .mapping(["timeout": "1m30s"]))
        let error = try #require(throws: NodeDecodingError.self) {
            try NodeDecoder().decode(Spec.self, from: .mapping(["timeout": "1d"]))
        }
        #expect(error.kind == .invalidValue)
        #expect(error.problems.first?.description.hasPrefix(#"timeout: invalid duration "1d": unknown unit "d""#) == true)
    }
}
