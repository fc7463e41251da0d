import CairnAPI
import YAML

/// A problem in the rendered spec, at a path relative to the spec (`sessions[0].retention.keepLast`).
struct RenderedProblem: Sendable, Equatable {
    var path: String
    var message: String
    /// The decoder's mark, which is the template's, since rendered nodes keep template marks.
    var mark: Mark?
}

/// Strictly decodes a rendered spec and checks what the types alone cannot.
enum SpecValidation {
    /// The decoded spec, or every problem found in it.
    static func validate(_ spec: Node) -> Result<BackupConfigurationSpec, SpecProblems> {
        let problems = durationProblems(spec)
        do {
            let decoded = try NodeDecoder().decode(BackupConfigurationSpec.self, from: spec)
            return problems.isEmpty ? .success(decoded) : .failure(SpecProblems(problems: problems))
        } catch let error as NodeDecodingError {
            let decoding = error.problems.map { RenderedProblem(path: $0.path, message: $0.message, mark: $0.mark) }
            return .failure(SpecProblems(problems: decoding + problems))
        } catch {
            // A type's own init(from:) may throw something else; report it at the spec's root.
            let other = RenderedProblem(path: "", message: "\(error)", mark: spec.mark)
            return .failure(SpecProblems(problems: [other] + problems))
        }
    }

    /// Duration fields that hold a string that is not a Go duration (`90s`, `1h30m`).
    static func durationProblems(_ spec: Node) -> [RenderedProblem] {
        var problems: [RenderedProblem] = []
        for field in ["startingDeadline", "timeout", "rpo"] {
            problems += durationProblem(spec[field], path: field)
        }
        for phase in ["preBackup", "postBackup"] {
            for (index, hook) in (spec["hooks"]?[phase]?.sequence ?? []).enumerated() {
                problems += durationProblem(hook["timeout"], path: "hooks.\(phase)[\(index)].timeout")
            }
        }
        return problems
    }

    private static func durationProblem(_ node: Node?, path: String) -> [RenderedProblem] {
        guard let text = node?.string else { return [] }
        do {
            _ = try KubeDuration(parsing: text)
            return []
        } catch {
            return [RenderedProblem(path: path, message: "\(error)", mark: node?.mark)]
        }
    }
}

/// Every problem found in a rendered spec.
struct SpecProblems: Error {
    var problems: [RenderedProblem]
}
