import CairnAPI
import Testing

@Suite struct LabelSelectorExpressionTests {
    struct MatchCase: Sendable, CustomStringConvertible {
        var selector: String
        var labels: [String: String]
        var matches: Bool
        var description: String { "\(selector) on \(labels)" }
    }

    static let matchCases: [MatchCase] = [
        .init(selector: "", labels: [:], matches: true),
        .init(selector: "app=db", labels: ["app": "db"], matches: true),
        .init(selector: "app==db", labels: ["app": "db"], matches: true),
        .init(selector: "app=db", labels: ["app": "web"], matches: false),
        .init(selector: "app!=db", labels: [:], matches: true),
        .init(selector: "app!=db", labels: ["app": "db"], matches: false),
        .init(selector: "env in (prod, staging)", labels: ["env": "staging"], matches: true),
        .init(selector: "env in (prod)", labels: [:], matches: false),
        .init(selector: "env notin (prod)", labels: [:], matches: true),
        .init(selector: "env notin (prod)", labels: ["env": "prod"], matches: false),
        .init(selector: "legacy", labels: ["legacy": ""], matches: true),
        .init(selector: "!legacy", labels: ["legacy": "yes"], matches: false),
        .init(selector: "cairn.dev/role=backup,tier", labels: ["cairn.dev/role": "backup", "tier": "x"], matches: true),
        .init(selector: "cairn.dev/role=backup,tier", labels: ["cairn.dev/role": "backup"], matches: false),
        .init(selector: "replicas>2", labels: ["replicas": "3"], matches: true),
        .init(selector: "replicas<2", labels: ["replicas": "3"], matches: false),
        .init(selector: "empty=", labels: ["empty": ""], matches: true),
    ]

    @Test(arguments: matchCases)
    func givenAValidSelector_whenMatchedAgainstLabels_thenItAnswersAsTheAPIServer(_ c: MatchCase) throws {
        let selector = try LabelSelectorExpression(parsing: c.selector)
        #expect(selector.matches(c.labels) == c.matches)
    }

    struct ErrorCase: Sendable, CustomStringConvertible {
        var selector: String
        var position: Int
        var fragment: String
        var description: String { selector }
    }

    static let errorCases: [ErrorCase] = [
        .init(selector: "a=b,", position: 5, fragment: "expected a requirement after ','"),
        .init(selector: "=b", position: 1, fragment: "expected a label key, found '='"),
        .init(selector: "a in x", position: 6, fragment: "expected '('"),
        .init(selector: "a in (x", position: 8, fragment: "expected ')'"),
        .init(selector: "a in ()", position: 7, fragment: "values set can't be empty"),
        .init(selector: "a foo b", position: 3, fragment: "expected an operator"),
        .init(selector: "-a=b", position: 1, fragment: "invalid label key \"-a\""),
        .init(selector: "Bad_Prefix/a=b", position: 1, fragment: "prefix part must be a lowercase RFC 1123 subdomain"),
        .init(selector: "a=-b", position: 3, fragment: "invalid label value \"-b\""),
        .init(selector: "a>x", position: 3, fragment: "expected an integer"),
        .init(selector: "a=b c", position: 5, fragment: "expected ',' or the end"),
        .init(selector: "!", position: 2, fragment: "expected a label key after '!', found the end"),
    ]

    @Test(arguments: errorCases)
    func givenInvalidSyntax_whenParsed_thenTheErrorNamesThePosition(_ c: ErrorCase) {
        #expect {
            _ = try LabelSelectorExpression(parsing: c.selector)
        } throws: { error in
            guard let error = error as? LabelSelectorSyntaxError else { return false }
            return error.position == c.position && error.description.contains(c.fragment)
                && error.description.hasPrefix("unable to parse requirement at column \(c.position): ")
        }
    }

    @Test func givenAMetaV1Selector_whenConverted_thenItMatchesLikeTheQueryString() throws {
        let selector = LabelSelector(
            matchLabels: ["app": "db"],
            matchExpressions: [.init(key: "env", operator: .notIn, values: ["dev"]), .init(key: "legacy", operator: .doesNotExist)])
        let expression = try LabelSelectorExpression(selector)
        #expect(expression.description == "app=db,env notin (dev),!legacy")
        #expect(expression == (try LabelSelectorExpression(parsing: "app=db,env notin (dev),!legacy")))
        #expect(expression.matches(["app": "db", "env": "prod"]))
        #expect(!expression.matches(["app": "db", "legacy": "1"]))
    }

    @Test func givenAMetaV1SelectorWithAnEmptyInSet_whenConverted_thenItIsRejected() {
        #expect(throws: LabelSelectorSyntaxError.self) {
            _ = try LabelSelectorExpression(LabelSelector(matchExpressions: [.init(key: "env", operator: .in, values: [])]))
        }
    }
}
