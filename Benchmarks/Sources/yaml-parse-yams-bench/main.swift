// Yams over the same bytes. `compose_all` builds Yams' representation tree (scalars stay text);
// `load_all` also resolves every scalar to a typed Swift value, which is what Cairn's `Node` tree
// holds, so `load_all` is the fairer comparison. Yams parses with its own vendored libyaml.
import BenchSupport
import Yams

let arguments = BenchArguments(modes: ["yams-compose", "yams-load"])

runBenchmark {
    // Yams takes a String; building it is input preparation, like reading the file, so it is not timed.
    let text = String(decoding: try readWholeFile(arguments.path), as: UTF8.self)
    let bytes = text.utf8.count
    let before = peakRSSKiB()
    switch arguments.mode {
    case "yams-compose":
        let (documents, seconds) = try timed { try collect(try Yams.compose_all(yaml: text)) }
        let nodes = documents.reduce(0) { $0 + count($1) }
        return BenchResult(
            name: "yams-compose", bytes: bytes, seconds: seconds, documents: documents.count, nodes: nodes,
            rssBeforeKiB: before, rssPeakKiB: peakRSSKiB())
    default:
        let (documents, seconds) = try timed { try collect(try Yams.load_all(yaml: text)) }
        let nodes = documents.reduce(0) { $0 + count($1) }
        return BenchResult(
            name: "yams-load", bytes: bytes, seconds: seconds, documents: documents.count, nodes: nodes,
            rssBeforeKiB: before, rssPeakKiB: peakRSSKiB())
    }
}

/// Drains a `YamlSequence`, which parks its error instead of throwing it.
func collect<T>(_ sequence: YamlSequence<T>) throws -> [T] {
    var sequence = sequence
    var documents: [T] = []
    while let document = sequence.next() { documents.append(document) }
    if let error = sequence.error { throw error }
    return documents
}

/// Nodes of a composed tree, keys included, as Cairn's `nodeCount` counts them.
func count(_ node: Yams.Node) -> Int {
    switch node {
    case .scalar, .alias: 1
    case .sequence(let items): items.reduce(1) { $0 + count($1) }
    case .mapping(let pairs): pairs.reduce(1) { $0 + count($1.key) + count($1.value) }
    }
}

/// Values of a loaded document, keys included.
func count(_ value: Any) -> Int {
    if let mapping = value as? [AnyHashable: Any] {
        return mapping.reduce(1) { $0 + 1 + count($1.value) }
    }
    if let items = value as? [Any] {
        return items.reduce(1) { $0 + count($1) }
    }
    return 1
}
