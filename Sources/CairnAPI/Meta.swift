import YAML

/// The API group and version of every Cairn resource.
public enum CairnGroup {
    /// `cairn.dev`.
    public static let group = "cairn.dev"
    /// `v1alpha1`.
    public static let version = "v1alpha1"
    /// `cairn.dev/v1alpha1`.
    public static let apiVersion = "\(group)/\(version)"
}

/// Standard object metadata (`metav1.ObjectMeta`), with every field the API server may send.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var selfLink: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    public var managedFields: Node?

    /// Creates metadata with a name and, optionally, a namespace, labels and annotations.
    public init(
        name: String? = nil, namespace: String? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// A reference from a dependent object to its owner, for garbage collection.
public struct OwnerReference: Codable, Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    /// Creates an owner reference.
    public init(
        apiVersion: String, kind: String, name: String, uid: String,
        controller: Bool? = nil, blockOwnerDeletion: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// A status condition (`metav1.Condition`).
public struct Condition: Codable, Sendable, Equatable {
    /// `True`, `False` or `Unknown`.
    public enum Status: String, Codable, Sendable, CaseIterable, StringEnumeration {
        case `true` = "True"
        case `false` = "False"
        case unknown = "Unknown"
    }

    public var type: String
    public var status: Status
    public var observedGeneration: Int?
    public var lastTransitionTime: String
    public var reason: String
    public var message: String

    /// Creates a condition.
    public init(
        type: String, status: Status, reason: String, message: String,
        lastTransitionTime: String, observedGeneration: Int? = nil
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }
}

/// Setting conditions the way `meta.SetStatusCondition` does.
public enum Conditions {
    /// `conditions` with `new` in place of the condition of its type; the old lastTransitionTime
    /// is kept unless the status changed.
    public static func setting(_ new: Condition, in conditions: [Condition]?) -> [Condition] {
        var result = conditions ?? []
        guard let index = result.firstIndex(where: { $0.type == new.type }) else { return result + [new] }
        var updated = new
        if result[index].status == new.status { updated.lastTransitionTime = result[index].lastTransitionTime }
        result[index] = updated
        return result
    }
}

/// A label selector (`metav1.LabelSelector`).
public struct LabelSelector: Codable, Sendable, Equatable {
    /// One `matchExpressions` entry.
    public struct Requirement: Codable, Sendable, Equatable {
        /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
        public enum Operator: String, Codable, Sendable, CaseIterable, StringEnumeration {
            case `in` = "In"
            case notIn = "NotIn"
            case exists = "Exists"
            case doesNotExist = "DoesNotExist"
        }
        public var key: String
        public var `operator`: Operator
        public var values: [String]?

        /// Creates a requirement.
        public init(key: String, operator: Operator, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    public var matchLabels: [String: String]?
    public var matchExpressions: [Requirement]?

    /// Creates a selector.
    public init(matchLabels: [String: String]? = nil, matchExpressions: [Requirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}

/// A reference to an object by name, optionally in another namespace.
public struct NamespacedRef: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var namespace: String?

    /// Creates a reference.
    public init(name: String, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace
    }
}

/// A reference to an object in the same namespace.
public struct LocalRef: Codable, Sendable, Equatable, Hashable {
    public var name: String

    /// Creates a reference.
    public init(name: String) { self.name = name }
}

/// Which namespaces may use a shared object (a blueprint or a storage).
public struct UsagePolicy: Codable, Sendable, Equatable {
    /// The namespaces allowed.
    public struct AllowedNamespaces: Codable, Sendable, Equatable {
        /// `Same`, `All` or `Selector`.
        public enum From: String, Codable, Sendable, CaseIterable, StringEnumeration {
            case same = "Same"
            case all = "All"
            case selector = "Selector"
        }
        public var from: From
        /// The namespace label selector, with `from: Selector`.
        public var selector: LabelSelector?

        /// Creates the allowed-namespaces rule.
        public init(from: From, selector: LabelSelector? = nil) {
            self.from = from
            self.selector = selector
        }
    }

    public var allowedNamespaces: AllowedNamespaces

    /// Creates a usage policy.
    public init(allowedNamespaces: AllowedNamespaces) { self.allowedNamespaces = allowedNamespaces }
}
