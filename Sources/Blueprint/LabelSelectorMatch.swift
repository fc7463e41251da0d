import CairnAPI

/// Evaluates a `metav1.LabelSelector` against a label set, as the API server does.
enum LabelSelectorMatch {
    /// Whether every `matchLabels` entry and every `matchExpressions` requirement holds.
    static func matches(_ selector: LabelSelector, labels: [String: String]) -> Bool {
        for (key, value) in selector.matchLabels ?? [:] where labels[key] != value { return false }
        return (selector.matchExpressions ?? []).allSatisfy { matches($0, labels: labels) }
    }

    private static func matches(_ requirement: LabelSelector.Requirement, labels: [String: String]) -> Bool {
        let value = labels[requirement.key]
        let values = requirement.values ?? []
        switch requirement.operator {
        case .in: return value.map(values.contains) ?? false
        case .notIn: return value.map { !values.contains($0) } ?? true
        case .exists: return value != nil
        case .doesNotExist: return value == nil
        }
    }

    /// The selector as kubectl writes it: `team=db,tier in (a,b),!legacy`.
    static func describe(_ selector: LabelSelector) -> String {
        let labels = (selector.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let expressions = (selector.matchExpressions ?? []).map { requirement -> String in
            let values = (requirement.values ?? []).joined(separator: ",")
            switch requirement.operator {
            case .in: return "\(requirement.key) in (\(values))"
            case .notIn: return "\(requirement.key) notin (\(values))"
            case .exists: return requirement.key
            case .doesNotExist: return "!\(requirement.key)"
            }
        }
        let all = labels + expressions
        return all.isEmpty ? "(empty)" : all.joined(separator: ",")
    }
}
