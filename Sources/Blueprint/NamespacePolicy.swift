import CairnAPI

/// Whether a namespace may use a shared object (a blueprint or a storage) under its
/// `usagePolicy.allowedNamespaces`; one rule for both, so they cannot drift apart.
public enum NamespaceAdmission: Sendable, Equatable {
    /// The namespace may use it.
    case allowed
    /// It may not; the text says why, as the second half of a sentence
    /// (`only namespace shared may use it (allowedNamespaces.from: Same)`).
    case denied(String)
    /// The policy selects namespaces by label and the namespace's labels are unknown.
    case labelsUnknown
}

extension UsagePolicy.AllowedNamespaces {
    /// Whether `namespace` may use an object in `ownerNamespace` under this rule; `namespaceLabels`
    /// is nil when the namespace's labels are unknown.
    public func admission(of namespace: String, ownerNamespace: String, namespaceLabels: [String: String]?) -> NamespaceAdmission {
        switch from {
        case .all:
            return .allowed
        case .same:
            guard namespace != ownerNamespace else { return .allowed }
            return .denied("only namespace \(ownerNamespace) may use it (allowedNamespaces.from: Same)")
        case .selector:
            guard let selector else { return .denied("allowedNamespaces.from is Selector but no selector is set") }
            guard let namespaceLabels else { return .labelsUnknown }
            guard !LabelSelectorMatch.matches(selector, labels: namespaceLabels) else { return .allowed }
            return .denied("namespace \(namespace) does not match the selector \(LabelSelectorMatch.describe(selector))")
        }
    }
}
