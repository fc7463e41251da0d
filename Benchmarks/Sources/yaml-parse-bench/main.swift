// Cairn's parser against the ceiling it cannot beat: libyaml's own event loop, over the same
// system libyaml that Cairn links, in the same kind of process, over the same bytes.
import BenchSupport
import CYAML
import YAML

let arguments = BenchArguments(modes: ["cairn", "libyaml-raw"])

runBenchmark {
    let bytes = try readWholeFile(arguments.path)
    let before = peakRSSKiB()
    switch arguments.mode {
    case "cairn":
        let (documents, seconds) = try timed { try YAML.parseStream(bytes, file: arguments.path) }
        let nodes = documents.reduce(0) { $0 + $1.nodeCount }
        return BenchResult(
            name: "cairn", bytes: bytes.count, seconds: seconds, documents: documents.count, nodes: nodes,
            rssBeforeKiB: before, rssPeakKiB: peakRSSKiB())
    default:
        let ((documents, nodes), seconds) = try timed { try rawEventLoop(bytes) }
        return BenchResult(
            name: "libyaml-raw", bytes: bytes.count, seconds: seconds, documents: documents, nodes: nodes,
            rssBeforeKiB: before, rssPeakKiB: peakRSSKiB())
    }
}

/// Every event libyaml produces, counted and freed: what any libyaml-based parser must at least do.
func rawEventLoop(_ bytes: [UInt8]) throws -> (documents: Int, nodes: Int) {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { throw BenchError("yaml_parser_initialize failed") }
    defer { yaml_parser_delete(&parser) }
    return try bytes.withUnsafeBufferPointer { buffer in
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        var event = yaml_event_t()
        var documents = 0
        var nodes = 0
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
                throw BenchError("libyaml: \(problem) at line \(parser.problem_mark.line + 1)")
            }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_END_EVENT: return (documents, nodes)
            case YAML_DOCUMENT_END_EVENT: documents += 1
            case YAML_SCALAR_EVENT, YAML_ALIAS_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT: nodes += 1
            default: break
            }
        }
    }
}
