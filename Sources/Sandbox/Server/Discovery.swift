import CairnAPI
import YAML

/// The discovery documents (`/version`, `/api`, `/apis`, `APIResourceList`), built from the
/// catalog so that a CRD is discoverable as soon as it is stored.
enum Discovery {
    /// The verbs every sandbox resource supports.
    static let verbs: [String] = ["create", "delete", "get", "list", "patch", "update", "watch"]

    /// `/version`.
    static let version: Node = .mapping([
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-cairn-sandbox", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z", "goVersion": "swift", "compiler": "swift", "platform": "linux/amd64",
    ])

    /// `/api`, with the address the client reached the server at, as kube-apiserver answers it.
    static func coreVersions(serverAddress: String) -> Node {
        .mapping(["kind": "APIVersions", "versions": ["v1"],
                  "serverAddressByClientCIDRs": [.mapping(["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)])]])
    }

    /// `/apis`: every group except the core one, each with its versions.
    static func groups(_ catalog: Catalog) -> Node {
        var versionsByGroup: [String: [String]] = [:]
        for type in catalog.types where !type.group.isEmpty {
            for version in type.versions where !(versionsByGroup[type.group] ?? []).contains(version) {
                versionsByGroup[type.group, default: []].append(version)
            }
        }
        let groups: [Node] = versionsByGroup.keys.sorted().map { group in
            let versions = versionsByGroup[group]!.map { Node.mapping(["groupVersion": .string("\(group)/\($0)"), "version": .string($0)]) }
            return .mapping(["name": .string(group), "versions": .sequence(versions), "preferredVersion": versions[0]])
        }
        return .mapping(["kind": "APIGroupList", "apiVersion": "v1", "groups": .sequence(groups)])
    }

    /// `/api/v1` or `/apis/<group>/<version>`, or 404 when nothing is served there.
    static func resourceList(_ catalog: Catalog, group: String, version: String) throws(StatusError) -> Node {
        let types = catalog.types.filter { $0.group == group && $0.versions.contains(version) }
        guard !types.isEmpty else { throw .noSuchResource() }
        let resources = types.flatMap { entries(for: $0, names: names(of: $0, in: catalog)) }
        // kube-apiserver leaves apiVersion out of the core group's list only.
        guard !group.isEmpty else {
            return .mapping(["kind": "APIResourceList", "groupVersion": .string(version), "resources": .sequence(resources)])
        }
        return .mapping(["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string("\(group)/\(version)"),
                         "resources": .sequence(resources)])
    }

    private static func entries(for type: ResourceType, names: Names) -> [Node] {
        var main: Node = .mapping([
            "name": .string(type.plural), "singularName": .string(names.singular), "namespaced": .bool(type.namespaced),
            "kind": .string(type.kind), "verbs": .sequence(verbs.map { .string($0) }),
        ])
        if !names.shortNames.isEmpty { main["shortNames"] = .sequence(names.shortNames.map { .string($0) }) }
        if !names.categories.isEmpty { main["categories"] = .sequence(names.categories.map { .string($0) }) }
        guard type.hasStatusSubresource else { return [main] }
        let status: Node = .mapping([
            "name": .string("\(type.plural)/status"), "singularName": "", "namespaced": .bool(type.namespaced),
            "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
        ])
        return [main, status]
    }

    /// The names discovery reports beyond the registry's own.
    struct Names {
        var singular: String
        var shortNames: [String]
        var categories: [String]
    }

    static func names(of type: ResourceType, in catalog: Catalog) -> Names {
        if let crd = catalog.crds[type.groupResource] {
            return Names(singular: crd.singular, shortNames: crd.names.shortNames ?? [], categories: crd.names.categories ?? [])
        }
        let builtIn = builtInNames[type.plural] ?? ([], [])
        return Names(singular: type.kind.lowercased(), shortNames: builtIn.0, categories: builtIn.1)
    }

    /// kube-apiserver's short names and categories for the built-in kinds the sandbox serves.
    private static let builtInNames: [String: ([String], [String])] = [
        "namespaces": (["ns"], []), "nodes": (["no"], []), "pods": (["po"], ["all"]), "persistentvolumeclaims": (["pvc"], []),
        "persistentvolumes": (["pv"], []), "configmaps": (["cm"], []), "services": (["svc"], ["all"]),
        "serviceaccounts": (["sa"], []), "events": (["ev"], []), "deployments": (["deploy"], ["all"]),
        "statefulsets": (["sts"], ["all"]), "daemonsets": (["ds"], ["all"]), "replicasets": (["rs"], ["all"]),
        "jobs": ([], ["all"]), "cronjobs": (["cj"], ["all"]), "volumesnapshots": (["vs"], []),
        "volumesnapshotcontents": (["vsc", "vscs"], []), "volumesnapshotclasses": (["vsclass", "vsclasses"], []),
        "customresourcedefinitions": (["crd", "crds"], []),
    ]
}
