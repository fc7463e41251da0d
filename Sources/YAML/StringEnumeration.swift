/// A closed set of string values, so decoders and schemas can list what is supported.
///
/// `NodeDecoder` checks values of conforming types itself and names every supported value in its
/// error, as kube-apiserver does: `unsupported value "rsync"; supported values: "restic", ...`.
public protocol StringEnumeration {
    /// Every value the type accepts, in declaration order.
    static var allRawValues: [String] { get }
}

extension StringEnumeration where Self: RawRepresentable<String> & CaseIterable {
    /// The raw values of all cases.
    public static var allRawValues: [String] {
        // A closure, not `\.rawValue`: a key path is instantiated on every call in generic code.
        allCases.map { $0.rawValue }
    }
}
