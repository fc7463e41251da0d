import YAML

extension KubeConfig {
    /// Reads one kubeconfig file's text, leniently: unknown fields are ignored, wrong types and
    /// missing required fields throw with `file:line:column` and the field path.
    public static func parse(_ text: String, file: String) throws -> KubeConfig {
        let node: Node
        do {
            node = try YAML.parse(text, file: file)
        } catch let error as YAMLError {
            throw KubeConfigError(.syntax, error.message, file: file, mark: error.mark)
        }
        return try decode(FieldReader(node, file: file))
    }

    static func decode(_ root: FieldReader) throws -> KubeConfig {
        try checkHeader(root)
        var config = KubeConfig()
        config.files = [root.file]
        config.currentContext = try root.string("current-context").flatMap { $0.isEmpty ? nil : $0 }
        config.preferences = root.value("preferences")
        config.clusters = try named(root, "clusters", "cluster", Cluster.init)
        config.users = try named(root, "users", "user", AuthInfo.init)
        config.contexts = try named(root, "contexts", "context", Context.init)
        config.extensions = try named(root, "extensions", "extension") { reader, _ in reader.node }
        return config
    }

    private static func checkHeader(_ root: FieldReader) throws {
        if let apiVersion = try root.string("apiVersion"), apiVersion != "v1" {
            throw root.error(.invalidValue, at: root.value("apiVersion"), key: "apiVersion", "unsupported apiVersion \"\(apiVersion)\"; kubeconfig files use \"v1\"")
        }
        if let kind = try root.string("kind"), kind != "Config" {
            throw root.error(.invalidValue, at: root.value("kind"), key: "kind", "unsupported kind \"\(kind)\"; kubeconfig files use \"Config\"")
        }
    }

    /// A list of `{name: ..., <field>: {...}}`; a name repeated within one file is an error, as in client-go.
    private static func named<T>(
        _ root: FieldReader, _ key: String, _ field: String, _ make: (FieldReader, Origin) throws -> T
    ) throws -> [String: T] {
        var result: [String: T] = [:]
        for entry in try root.list(key) {
            let name = try entry.requiredString("name")
            let origin = Origin(file: root.file, mark: entry.node.mark, path: "\(entry.path)")
            guard result[name] == nil else {
                throw entry.error(.invalidValue, at: entry.value("name"), key: "name", "duplicate \(field) name \"\(name)\" in \(key); rename or remove one")
            }
            result[name] = try make(entry.requiredObject(field), origin)
        }
        return result
    }
}

extension Cluster {
    init(_ reader: FieldReader, origin: Origin) throws {
        server = try reader.string("server")
        certificateAuthority = try reader.filePath("certificate-authority")
        certificateAuthorityData = try reader.base64("certificate-authority-data")
        insecureSkipTLSVerify = try reader.bool("insecure-skip-tls-verify")
        tlsServerName = try reader.string("tls-server-name")
        proxyURL = try reader.string("proxy-url")
        disableCompression = try reader.bool("disable-compression")
        self.origin = origin
    }
}

extension AuthInfo {
    init(_ reader: FieldReader, origin: Origin) throws {
        clientCertificate = try reader.filePath("client-certificate")
        clientCertificateData = try reader.base64("client-certificate-data")
        clientKey = try reader.filePath("client-key")
        clientKeyData = try reader.base64("client-key-data")
        token = try reader.string("token")
        tokenFile = try reader.filePath("tokenFile")
        username = try reader.string("username")
        password = try reader.string("password")
        impersonation = try Impersonation(reader)
        exec = try reader.object("exec").map(ExecConfig.init)
        self.origin = origin
    }
}

extension Impersonation {
    /// The impersonation fields of a user, or `nil` when it sets none.
    init?(_ reader: FieldReader) throws {
        user = try reader.string("as")
        uid = try reader.string("as-uid")
        groups = try reader.strings("as-groups")
        if let extra = try reader.object("as-user-extra") {
            for pair in extra.node.mapping ?? [] {
                self.extra[pair.key.scalarText] = try extra.strings(pair.key.scalarText)
            }
        }
        if user == nil, uid == nil, groups.isEmpty, extra.isEmpty { return nil }
    }
}

extension ExecConfig {
    static let supportedVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    init(_ reader: FieldReader) throws {
        let command = try reader.requiredString("command")
        self.command = command.contains("/") ? FieldReader.resolve(command, against: reader.file) : command
        args = try reader.strings("args")
        env = try reader.list("env").map { try EnvVar(name: $0.requiredString("name"), value: $0.requiredString("value")) }
        apiVersion = try reader.requiredString("apiVersion")
        installHint = try reader.string("installHint")
        provideClusterInfo = try reader.bool("provideClusterInfo")
        interactiveMode = try Self.interactiveMode(reader, apiVersion: apiVersion)
        guard Self.supportedVersions.contains(apiVersion) else {
            let list = Self.supportedVersions.joined(separator: ", ")
            throw reader.error(.invalidValue, at: reader.value("apiVersion"), key: "apiVersion", "unsupported exec plugin apiVersion \"\(apiVersion)\"; use one of \(list)")
        }
    }

    /// client-go requires `interactiveMode` for v1 and defaults it to `IfAvailable` for v1beta1.
    private static func interactiveMode(_ reader: FieldReader, apiVersion: String) throws -> InteractiveMode {
        guard let text = try reader.string("interactiveMode") else {
            if apiVersion.hasSuffix("/v1") { throw reader.missing("interactiveMode") }
            return .ifAvailable
        }
        guard let mode = InteractiveMode(rawValue: text) else {
            throw reader.error(.invalidValue, at: reader.value("interactiveMode"), key: "interactiveMode", "unsupported value \"\(text)\"; use Never, IfAvailable or Always")
        }
        return mode
    }
}

extension Context {
    init(_ reader: FieldReader, origin: Origin) throws {
        cluster = try reader.string("cluster")
        user = try reader.string("user")
        namespace = try reader.string("namespace")
        self.origin = origin
    }
}
