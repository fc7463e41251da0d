import Foundation
import YAML

/// One Kubernetes object read from a file, with where it came from.
struct LoadedObject {
    /// The object.
    var node: Node
    /// The file it was read from (`-` for standard input).
    var file: String

    /// `apps/v1`.
    var apiVersion: String { node["apiVersion"]?.string ?? "" }
    /// `Deployment`.
    var kind: String { node["kind"]?.string ?? "" }
    /// `metadata.name`.
    var name: String { node[path: "metadata", "name"]?.string ?? "" }
    /// `file:line:column` of the object, for messages.
    var location: String { node.mark.map { "\(file):\($0.line):\($0.column)" } ?? file }
}

/// A problem with one input file; loading goes on with the others.
struct InputError: Error, CustomStringConvertible {
    /// `file:line:column: message`, or `file: message`.
    let description: String

    init(file: String, mark: Mark? = nil, _ message: String) {
        description = (mark.map { "\(file):\($0.line):\($0.column)" } ?? file) + ": " + message
    }

    init(_ error: YAMLError) { description = error.description }
}

/// Reads Kubernetes manifests from files, directories (recursively) and standard input.
///
/// It reads what a GitOps repository holds: multi-document YAML, JSON, `kind: List` wrappers and
/// kustomize-style directories, whose `kustomization.yaml` it skips (it does not run kustomize).
struct ManifestLoader {
    /// The files a directory walk picks up.
    static let manifestExtensions: Set<String> = ["yaml", "yml", "json"]
    /// kustomize's own files, which hold no objects.
    static let kustomizationNames: Set<String> = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    /// The objects read, in a stable order (paths as given, directory entries sorted).
    private(set) var objects: [LoadedObject] = []
    /// Every problem met, so that one bad file never hides the rest.
    private(set) var errors: [InputError] = []
    /// How many files were read.
    private(set) var filesRead = 0

    /// Reads every path; `-` is standard input.
    mutating func load(_ paths: [String]) {
        for path in paths {
            if path == "-" {
                read(FileHandle.standardInput.readDataToEndOfFile(), file: "-")
            } else {
                loadPath(path)
            }
        }
    }

    /// The files a path stands for: itself, or the manifests below it, sorted.
    static func files(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, "no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw InputError(file: path, "cannot read directory")
        }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            let full = (path as NSString).appendingPathComponent(relative)
            guard manifestExtensions.contains((name as NSString).pathExtension.lowercased()),
                !kustomizationNames.contains(name), !isDirectoryPath(full)
            else { continue }
            found.append(full)
        }
        return found.sorted()
    }

    private static func isDirectoryPath(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private mutating func loadPath(_ path: String) {
        do {
            for file in try Self.files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    errors.append(InputError(file: file, "cannot read file (permission denied?)"))
                    continue
                }
                read(data, file: file)
            }
        } catch let error as InputError {
            errors.append(error)
        } catch {
            errors.append(InputError(file: path, "\(error)"))
        }
    }

    /// Parses one file's bytes and collects its objects.
    private mutating func read(_ data: Data, file: String) {
        filesRead += 1
        let bytes = [UInt8](data)
        do {
            let documents: [Node]
            if file.lowercased().hasSuffix(".json") {
                documents = [try JSON.parse(bytes, file: file)]
            } else {
                documents = try YAML.parseStream(bytes, file: file)
            }
            for document in documents where !document.isNull { collect(document, file: file) }
        } catch let error as YAMLError {
            errors.append(InputError(error))
        } catch {
            errors.append(InputError(file: file, "\(error)"))
        }
    }

    /// Adds an object, unwrapping `kind: List` (what `kubectl get -o yaml` writes).
    private mutating func collect(_ node: Node, file: String) {
        guard node.mapping != nil else {
            errors.append(InputError(file: file, mark: node.mark, "expected a Kubernetes object (a mapping), found a \(node.typeName)"))
            return
        }
        let kind = node["kind"]?.string ?? ""
        if kind.hasSuffix("List"), let items = node["items"]?.sequence {
            for item in items { collect(item, file: file) }
            return
        }
        guard !kind.isEmpty, node["apiVersion"]?.string != nil else {
            errors.append(InputError(file: file, mark: node.mark, "object has no kind or apiVersion; is this a Kubernetes manifest?"))
            return
        }
        objects.append(LoadedObject(node: node, file: file))
    }
}
