// Writes a deterministic multi-document stream of realistic Kubernetes manifests: the input of the
// YAML parse benchmarks. Same seed and size, same bytes, on any machine (SplitMix64, no Foundation).
//
//   yaml-bench-gen --bytes 50000000 --seed 1 OUTPUT
import BenchSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SplitMix64: tiny, fast, and the same sequence everywhere, unlike the system generator.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` (modulo bias is irrelevant here).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[int(0...15)] })
    }
}

/// Accumulates YAML text line by line; two spaces per indent level, as kubectl writes it.
struct Writer {
    var text: String = ""

    mutating func line(_ indent: Int, _ content: String) {
        text += String(repeating: "  ", count: indent)
        text += content
        text += "\n"
    }

    /// A block scalar's body, each line indented under its key.
    mutating func block(_ indent: Int, _ lines: [String]) {
        for content in lines {
            if content.isEmpty { text += "\n" } else { line(indent, content) }
        }
    }
}

let teams = ["payments", "search", "identity", "ledger", "catalog", "checkout", "ingest", "reporting", "notify", "gateway"]
let components = ["api", "worker", "web", "scheduler", "consumer", "cache", "db", "proxy", "exporter", "sync"]
let environments = ["prod", "staging", "dev", "qa"]
let regions = ["eu-west-1", "us-east-1", "ap-south-1", "eu-central-1"]
let words = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
    "metric", "buffer", "timeout", "retry", "window", "batch", "queue", "shard", "replica", "backup", "snapshot",
]

/// One manifest generator: a name and its relative weight in the stream.
struct Generator {
    var rng: SplitMix64
    var out = Writer()
    var serial = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func name() -> (team: String, component: String, name: String) {
        serial += 1
        let team = rng.pick(teams)
        let component = rng.pick(components)
        return (team, component, "\(team)-\(component)-\(serial)")
    }

    mutating func document() {
        out.text += "---\n"
        if rng.chance(10) { out.line(0, "# Source: \(rng.pick(teams))/templates/\(rng.pick(components)).yaml") }
        switch rng.int(0...99) {
        case 0..<26: deployment(anchored: false)
        case 26..<30: deployment(anchored: true)
        case 30..<40: statefulSet()
        case 40..<55: service()
        case 55..<70: configMap()
        case 70..<78: persistentVolumeClaim()
        case 78..<83: secret()
        case 83..<90: backupConfiguration()
        case 90..<95: certificate()
        default: serviceMonitor()
        }
    }

    // MARK: - Metadata

    mutating func metadata(_ indent: Int, _ id: (team: String, component: String, name: String), annotations: Int) {
        out.line(indent, "metadata:")
        out.line(indent + 1, "name: \(id.name)")
        out.line(indent + 1, "namespace: \(id.team)-\(rng.pick(environments))")
        labels(indent + 1, id)
        if annotations > 0 { self.annotations(indent + 1, count: annotations, id: id) }
    }

    mutating func labels(_ indent: Int, _ id: (team: String, component: String, name: String), key: String = "labels") {
        out.line(indent, "\(key):")
        out.line(indent + 1, "app.kubernetes.io/name: \(id.component)")
        out.line(indent + 1, "app.kubernetes.io/instance: \(id.name)")
        if rng.chance(70) { out.line(indent + 1, "app.kubernetes.io/version: \"\(rng.int(1...4)).\(rng.int(0...30)).\(rng.int(0...9))\"") }
        if rng.chance(60) { out.line(indent + 1, "app.kubernetes.io/part-of: \(id.team)") }
        if rng.chance(50) { out.line(indent + 1, "app.kubernetes.io/managed-by: \(rng.pick(["Helm", "kustomize", "cairn"]))") }
        if rng.chance(30) { out.line(indent + 1, "helm.sh/chart: \(id.component)-\(rng.int(0...9)).\(rng.int(0...20)).\(rng.int(0...9))") }
    }

    mutating func annotations(_ indent: Int, count: Int, id: (team: String, component: String, name: String)) {
        out.line(indent, "annotations:")
        var pool = Array(0..<8)
        for index in 0..<count {
            // Our own Fisher-Yates step: the standard library's shuffle may change between releases.
            pool.swapAt(index, rng.int(index...7))
            let kind = pool[index]
            switch kind {
            case 0: out.line(indent + 1, "checksum/config: \(rng.hex(64))")
            case 1: out.line(indent + 1, "deployment.kubernetes.io/revision: \"\(rng.int(1...40))\"")
            case 2: out.line(indent + 1, "prometheus.io/scrape: \"true\"")
            case 3: out.line(indent + 1, "description: '\(rng.pick(words)) service for the ''\(id.team)'' team, owned by \(rng.pick(words))'")
            case 4:
                out.line(indent + 1, "kubectl.kubernetes.io/last-applied-configuration: |")
                out.line(
                    indent + 2,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{},\"name\":\"\(id.name)\","
                        + "\"namespace\":\"\(id.team)\"},\"spec\":{\"ports\":[{\"port\":\(rng.int(80...9000)),"
                        + "\"targetPort\":\"http\"}],\"selector\":{\"app\":\"\(id.component)\"}}}")
            case 5: out.line(indent + 1, "cairn.dev/owner: \"\(id.team)@example.com\"")
            case 6: out.line(indent + 1, "cairn.dev/note: \"rotated on \(2020 + rng.int(0...6))-0\(rng.int(1...9))-1\(rng.int(0...9)), see \\\"runbook\\\"\\n\"")
            default: out.line(indent + 1, "argocd.argoproj.io/sync-wave: \"\(rng.int(-5...5))\"")
            }
        }
    }

    // MARK: - Workloads

    mutating func deployment(anchored: Bool) {
        let id = name()
        out.line(0, "apiVersion: apps/v1")
        out.line(0, "kind: Deployment")
        metadata(0, id, annotations: rng.int(0...4))
        out.line(0, "spec:")
        out.line(1, "replicas: \(rng.int(1...12))")
        out.line(1, "revisionHistoryLimit: \(rng.int(2...10))")
        if anchored {
            out.line(1, "selector:")
            out.line(2, "matchLabels: &selector")
            out.line(3, "app.kubernetes.io/name: \(id.component)")
            out.line(3, "app.kubernetes.io/instance: \(id.name)")
        } else {
            out.line(1, "selector:")
            out.line(2, "matchLabels:")
            out.line(3, "app.kubernetes.io/name: \(id.component)")
            out.line(3, "app.kubernetes.io/instance: \(id.name)")
        }
        out.line(1, "strategy:")
        out.line(2, "type: RollingUpdate")
        out.line(2, "rollingUpdate:")
        out.line(3, "maxSurge: \(rng.pick(["25%", "1", "2"]))")
        out.line(3, "maxUnavailable: \(rng.pick(["0", "25%", "1"]))")
        podTemplate(1, id, anchored: anchored)
    }

    mutating func statefulSet() {
        let id = name()
        out.line(0, "apiVersion: apps/v1")
        out.line(0, "kind: StatefulSet")
        metadata(0, id, annotations: rng.int(0...3))
        out.line(0, "spec:")
        out.line(1, "serviceName: \(id.name)-headless")
        out.line(1, "replicas: \(rng.pick([1, 3, 5]))")
        out.line(1, "podManagementPolicy: \(rng.pick(["OrderedReady", "Parallel"]))")
        out.line(1, "selector:")
        out.line(2, "matchLabels:")
        out.line(3, "app.kubernetes.io/name: \(id.component)")
        out.line(3, "app.kubernetes.io/instance: \(id.name)")
        podTemplate(1, id, anchored: false)
        out.line(1, "volumeClaimTemplates:")
        for index in 0..<rng.int(1...2) {
            out.line(1, "- metadata:")
            out.line(3, "name: data-\(index)")
            out.line(2, "spec:")
            out.line(3, "accessModes: [\"ReadWriteOnce\"]")
            out.line(3, "storageClassName: \(rng.pick(["standard", "fast-ssd", "gp3"]))")
            out.line(3, "resources:")
            out.line(4, "requests:")
            out.line(5, "storage: \(rng.pick([1, 5, 10, 50, 100, 500]))Gi")
        }
    }

    mutating func podTemplate(_ indent: Int, _ id: (team: String, component: String, name: String), anchored: Bool) {
        out.line(indent, "template:")
        out.line(indent + 1, "metadata:")
        if anchored {
            out.line(indent + 2, "labels:")
            out.line(indent + 3, "<<: *selector")
            out.line(indent + 3, "tier: \(rng.pick(["frontend", "backend"]))")
        } else {
            labels(indent + 2, id)
        }
        if rng.chance(60) {
            out.line(indent + 2, "annotations:")
            out.line(indent + 3, "prometheus.io/scrape: \"true\"")
            out.line(indent + 3, "prometheus.io/port: \"\(rng.int(8000...9999))\"")
            if rng.chance(40) { out.line(indent + 3, "checksum/secret: \(rng.hex(64))") }
        }
        out.line(indent + 1, "spec:")
        let spec = indent + 2
        out.line(spec, "serviceAccountName: \(id.name)")
        if rng.chance(50) { out.line(spec, "terminationGracePeriodSeconds: \(rng.pick([10, 30, 60, 120]))") }
        out.line(spec, "securityContext:")
        out.line(spec + 1, "runAsNonRoot: true")
        out.line(spec + 1, "runAsUser: \(rng.pick([1000, 65532, 10001]))")
        out.line(spec + 1, "fsGroup: \(rng.pick([1000, 2000, 65532]))")
        if rng.chance(30) {
            out.line(spec, "nodeSelector:")
            out.line(spec + 1, "topology.kubernetes.io/region: \(rng.pick(regions))")
            out.line(spec + 1, "kubernetes.io/os: linux")
        }
        if rng.chance(25) {
            out.line(spec, "tolerations:")
            out.line(spec, "- key: dedicated")
            out.line(spec, "  operator: Equal")
            out.line(spec, "  value: \(id.team)")
            out.line(spec, "  effect: NoSchedule")
        }
        if rng.chance(35) { affinity(spec, id) }
        if rng.chance(30) {
            out.line(spec, "initContainers:")
            out.line(spec, "- name: migrate")
            out.line(spec, "  image: registry.example.com/\(id.team)/\(id.component)-migrations:\(rng.int(1...9)).\(rng.int(0...40)).\(rng.int(0...9))")
            out.line(spec, "  command: [\"/bin/sh\", \"-c\", \"migrate up --timeout=\(rng.int(30...300))s\"]")
        }
        out.line(spec, "containers:")
        let containers = rng.int(1...3)
        let volumes = rng.int(0...4)
        for index in 0..<containers {
            container(spec, id, index: index, volumes: index == 0 ? volumes : 0, anchored: anchored)
        }
        if volumes > 0 {
            out.line(spec, "volumes:")
            for index in 0..<volumes {
                out.line(spec, "- name: vol-\(index)")
                switch rng.int(0...3) {
                case 0:
                    out.line(spec + 1, "configMap:")
                    out.line(spec + 2, "name: \(id.name)-config")
                    if rng.chance(40) { out.line(spec + 2, "defaultMode: 0644") }
                case 1:
                    out.line(spec + 1, "secret:")
                    out.line(spec + 2, "secretName: \(id.name)-tls")
                case 2: out.line(spec + 1, "emptyDir: {}")
                default:
                    out.line(spec + 1, "persistentVolumeClaim:")
                    out.line(spec + 2, "claimName: \(id.name)-data")
                }
            }
        }
    }

    mutating func affinity(_ indent: Int, _ id: (team: String, component: String, name: String)) {
        out.line(indent, "affinity:")
        out.line(indent + 1, "podAntiAffinity:")
        out.line(indent + 2, "preferredDuringSchedulingIgnoredDuringExecution:")
        out.line(indent + 2, "- weight: \(rng.int(1...100))")
        out.line(indent + 3, "podAffinityTerm:")
        out.line(indent + 4, "topologyKey: kubernetes.io/hostname")
        out.line(indent + 4, "labelSelector:")
        out.line(indent + 5, "matchExpressions:")
        out.line(indent + 5, "- key: app.kubernetes.io/name")
        out.line(indent + 6, "operator: In")
        out.line(indent + 6, "values:")
        out.line(indent + 6, "- \(id.component)")
    }

    mutating func container(
        _ indent: Int, _ id: (team: String, component: String, name: String), index: Int, volumes: Int, anchored: Bool
    ) {
        let name = index == 0 ? id.component : rng.pick(["sidecar", "proxy", "log-shipper"])
        out.line(indent, "- name: \(name)\(index == 0 ? "" : "-\(index)")")
        let image = "registry.example.com/\(id.team)/\(name):\(rng.int(1...9)).\(rng.int(0...40)).\(rng.int(0...9))"
        if anchored && index == 0 {
            out.line(indent + 1, "image: &image \(image)")
        } else if anchored {
            out.line(indent + 1, "image: *image")
        } else {
            out.line(indent + 1, "image: \(rng.chance(30) ? "\"\(image)\"" : image)")
        }
        out.line(indent + 1, "imagePullPolicy: \(rng.pick(["IfNotPresent", "Always"]))")
        if rng.chance(50) {
            out.line(indent + 1, "args:")
            for _ in 0..<rng.int(1...6) {
                out.line(indent + 1, "- --\(rng.pick(words))-\(rng.pick(words))=\(rng.pick(["true", "\(rng.int(1...500))", "'\(rng.pick(words))'"]))")
            }
        } else if rng.chance(30) {
            out.line(indent + 1, "args: [\"--port=\(rng.int(8000...9000))\", \"--log-level=\(rng.pick(["info", "debug"]))\", --metrics]")
        }
        out.line(indent + 1, "ports:")
        for port in 0..<rng.int(1...3) {
            out.line(indent + 1, "- name: \(["http", "metrics", "grpc"][port])")
            out.line(indent + 2, "containerPort: \(rng.int(1024...9999))")
            out.line(indent + 2, "protocol: TCP")
        }
        env(indent + 1, id)
        if anchored && index == 0 {
            out.line(indent + 1, "resources: &resources")
            resources(indent + 2)
        } else if anchored {
            out.line(indent + 1, "resources: *resources")
        } else {
            out.line(indent + 1, "resources:")
            resources(indent + 2)
        }
        if rng.chance(70) { probe(indent + 1, "livenessProbe") }
        if rng.chance(70) { probe(indent + 1, "readinessProbe") }
        if volumes > 0 {
            out.line(indent + 1, "volumeMounts:")
            for volume in 0..<volumes {
                out.line(indent + 1, "- name: vol-\(volume)")
                out.line(indent + 2, "mountPath: /etc/\(id.component)/\(rng.pick(words))-\(volume)")
                if rng.chance(40) { out.line(indent + 2, "readOnly: true") }
            }
        }
        if rng.chance(40) {
            out.line(indent + 1, "securityContext:")
            out.line(indent + 2, "allowPrivilegeEscalation: false")
            out.line(indent + 2, "readOnlyRootFilesystem: \(rng.chance(70))")
            out.line(indent + 2, "capabilities:")
            out.line(indent + 3, "drop: [\"ALL\"]")
        }
    }

    mutating func env(_ indent: Int, _ id: (team: String, component: String, name: String)) {
        let count = rng.int(0...18)
        guard count > 0 else { return }
        out.line(indent, "env:")
        for index in 0..<count {
            let key = "\(rng.pick(words).uppercased())_\(rng.pick(words).uppercased())_\(index)"
            out.line(indent, "- name: \(key)")
            switch rng.int(0...9) {
            case 0...2: out.line(indent + 1, "value: \"\(rng.int(0...100_000))\"")
            case 3: out.line(indent + 1, "value: \(rng.pick(["\"true\"", "\"false\"", "'yes'", "\"0.75\"", "\"\""]))")
            case 4, 5: out.line(indent + 1, "value: \(rng.pick(words))-\(rng.pick(words)).\(id.team).svc.cluster.local")
            case 6:
                out.line(indent + 1, "valueFrom:")
                out.line(indent + 2, "secretKeyRef:")
                out.line(indent + 3, "name: \(id.name)-credentials")
                out.line(indent + 3, "key: \(rng.pick(words))")
            case 7:
                out.line(indent + 1, "valueFrom:")
                out.line(indent + 2, "configMapKeyRef:")
                out.line(indent + 3, "name: \(id.name)-config")
                out.line(indent + 3, "key: \(rng.pick(words))")
                out.line(indent + 3, "optional: true")
            case 8:
                out.line(indent + 1, "valueFrom:")
                out.line(indent + 2, "fieldRef:")
                out.line(indent + 3, "fieldPath: \(rng.pick(["metadata.name", "metadata.namespace", "status.podIP", "spec.nodeName"]))")
            default: out.line(indent + 1, "value: \"postgres://\(id.team):$(DB_PASSWORD)@db.\(id.team):5432/\(rng.pick(words))?sslmode=require\"")
            }
        }
    }

    mutating func resources(_ indent: Int) {
        out.line(indent, "requests:")
        out.line(indent + 1, "cpu: \(rng.pick(["50m", "100m", "250m", "500m", "1"]))")
        out.line(indent + 1, "memory: \(rng.pick(["64Mi", "128Mi", "256Mi", "512Mi", "1Gi"]))")
        out.line(indent, "limits:")
        if rng.chance(50) { out.line(indent + 1, "cpu: \(rng.pick(["500m", "1", "2", "1.5"]))") }
        out.line(indent + 1, "memory: \(rng.pick(["128Mi", "256Mi", "512Mi", "1Gi", "4Gi"]))")
    }

    mutating func probe(_ indent: Int, _ key: String) {
        out.line(indent, "\(key):")
        if rng.chance(70) {
            out.line(indent + 1, "httpGet:")
            out.line(indent + 2, "path: /\(rng.pick(["healthz", "readyz", "livez", "actuator/health"]))")
            out.line(indent + 2, "port: \(rng.pick(["http", "metrics", "8080"]))")
        } else {
            out.line(indent + 1, "exec:")
            out.line(indent + 2, "command:")
            out.line(indent + 2, "- /bin/sh")
            out.line(indent + 2, "- -c")
            out.line(indent + 2, "- pg_isready -U \"$POSTGRES_USER\" -h 127.0.0.1 -p 5432")
        }
        out.line(indent + 1, "initialDelaySeconds: \(rng.int(0...60))")
        out.line(indent + 1, "periodSeconds: \(rng.pick([5, 10, 15, 30]))")
        if rng.chance(50) { out.line(indent + 1, "timeoutSeconds: \(rng.int(1...10))") }
        if rng.chance(40) { out.line(indent + 1, "failureThreshold: \(rng.int(1...6))") }
    }

    // MARK: - Other kinds

    mutating func service() {
        let id = name()
        out.line(0, "apiVersion: v1")
        out.line(0, "kind: Service")
        metadata(0, id, annotations: rng.int(0...3))
        out.line(0, "spec:")
        let type = rng.pick(["ClusterIP", "ClusterIP", "NodePort", "LoadBalancer", "Headless"])
        if type == "Headless" {
            out.line(1, "clusterIP: None")
        } else {
            out.line(1, "type: \(type)")
        }
        out.line(1, "selector:")
        out.line(2, "app.kubernetes.io/name: \(id.component)")
        out.line(2, "app.kubernetes.io/instance: \(id.name)")
        out.line(1, "ports:")
        for port in 0..<rng.int(1...4) {
            out.line(1, "- name: \(["http", "https", "metrics", "grpc"][port])")
            out.line(2, "port: \(rng.pick([80, 443, 8080, 9090, 50051]))")
            out.line(2, "targetPort: \(rng.chance(50) ? "\(rng.int(1024...9999))" : ["http", "https", "metrics", "grpc"][port])")
            out.line(2, "protocol: TCP")
            if type == "NodePort" { out.line(2, "nodePort: \(rng.int(30000...32767))") }
        }
        if rng.chance(20) { out.line(1, "sessionAffinity: ClientIP") }
    }

    mutating func configMap() {
        let id = name()
        out.line(0, "apiVersion: v1")
        out.line(0, "kind: ConfigMap")
        metadata(0, id, annotations: rng.int(0...2))
        out.line(0, "data:")
        for index in 0..<rng.int(1...6) {
            switch rng.int(0...9) {
            case 0...2: out.line(1, "\(rng.pick(words)).\(rng.pick(words))-\(index): \"\(rng.pick(words)) \(rng.int(0...9999))\"")
            case 3: out.line(1, "\(rng.pick(words))_enabled_\(index): \"\(rng.pick(["true", "false", "on", "off"]))\"")
            case 4, 5:
                out.line(1, "application-\(index).properties: |")
                out.block(2, properties())
            case 6:
                out.line(1, "nginx-\(index).conf: |-")
                out.block(2, nginx(id))
            case 7:
                out.line(1, "settings-\(index).json: |")
                out.block(2, json())
            case 8:
                out.line(1, "entrypoint-\(index).sh: |")
                out.block(2, script(id))
            default:
                out.line(1, "motd-\(index): >")
                out.block(2, prose())
            }
        }
    }

    mutating func properties() -> [String] {
        (0..<rng.int(3...120)).map { index in
            if index % 17 == 0 { return "# \(rng.pick(words)) settings" }
            return "\(rng.pick(words)).\(rng.pick(words)).\(rng.pick(words))\(index)=\(rng.pick(["true", "\(rng.int(0...99999))", rng.pick(words), "${\(rng.pick(words).uppercased())}"]))"
        }
    }

    mutating func nginx(_ id: (team: String, component: String, name: String)) -> [String] {
        var lines = ["worker_processes auto;", "events { worker_connections \(rng.pick([512, 1024, 4096])); }", "http {"]
        for server in 0..<rng.int(1...8) {
            lines += [
                "  server {",
                "    listen \(8080 + server);",
                "    server_name \(id.component)-\(server).\(id.team).example.com;",
                "    location / {",
                "      proxy_pass http://\(id.name):\(rng.int(1024...9999));",
                "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                "      proxy_read_timeout \(rng.int(5...300))s;",
                "    }",
                "  }",
                "",
            ]
        }
        lines.append("}")
        return lines
    }

    mutating func json() -> [String] {
        var lines = ["{"]
        let count = rng.int(2...60)
        for index in 0..<count {
            let comma = index == count - 1 ? "" : ","
            lines.append("  \"\(rng.pick(words))_\(index)\": \(rng.pick(["true", "null", "\(rng.int(0...9999))", "\"\(rng.pick(words))\"", "[1, 2, 3]"]))\(comma)")
        }
        lines.append("}")
        return lines
    }

    mutating func script(_ id: (team: String, component: String, name: String)) -> [String] {
        var lines = ["#!/bin/sh", "set -eu"]
        for _ in 0..<rng.int(2...40) {
            lines.append(
                rng.pick([
                    "echo \"starting \(id.component) in $NAMESPACE\"",
                    "  until nc -z db.\(id.team) 5432; do sleep \(rng.int(1...5)); done",
                    "exec /app/\(id.component) --config=/etc/\(id.component)/config.yaml \"$@\"",
                    "if [ -n \"${\(rng.pick(words).uppercased()):-}\" ]; then export \(rng.pick(words).uppercased())=1; fi",
                ]))
        }
        return lines
    }

    mutating func prose() -> [String] {
        (0..<rng.int(1...12)).map { _ in (0..<rng.int(4...14)).map { _ in rng.pick(words) }.joined(separator: " ") }
    }

    mutating func persistentVolumeClaim() {
        let id = name()
        out.line(0, "apiVersion: v1")
        out.line(0, "kind: PersistentVolumeClaim")
        metadata(0, id, annotations: rng.int(0...2))
        out.line(0, "spec:")
        out.line(1, "accessModes:")
        out.line(1, "- \(rng.pick(["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"]))")
        out.line(1, "storageClassName: \(rng.pick(["standard", "fast-ssd", "gp3", "\"\""]))")
        out.line(1, "volumeMode: Filesystem")
        out.line(1, "resources:")
        out.line(2, "requests:")
        out.line(3, "storage: \(rng.pick(["1Gi", "10Gi", "100Gi", "500Mi", "2Ti"]))")
        if rng.chance(30) { out.line(1, "dataSource: ~") }
    }

    mutating func secret() {
        let id = name()
        out.line(0, "apiVersion: v1")
        out.line(0, "kind: Secret")
        metadata(0, id, annotations: rng.int(0...1))
        out.line(0, "type: \(rng.pick(["Opaque", "kubernetes.io/tls"]))")
        out.line(0, "data:")
        for index in 0..<rng.int(1...5) {
            let base64 = String((0..<rng.int(8...400)).map { _ in Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")[rng.int(0...63)] })
            out.line(1, "\(rng.pick(words))-\(index): \(base64)==")
        }
    }

    mutating func backupConfiguration() {
        let id = name()
        out.line(0, "apiVersion: cairn.dev/v1alpha1")
        out.line(0, "kind: BackupConfiguration")
        metadata(0, id, annotations: rng.int(1...4))
        out.line(0, "spec:")
        out.line(1, "schedule: \"\(rng.int(0...59)) \(rng.int(0...23)) * * *\"")
        out.line(1, "paused: \(rng.chance(10))")
        out.line(1, "repository:")
        out.line(2, "name: \(id.team)-\(rng.pick(regions))")
        out.line(2, "namespace: cairn-system")
        out.line(1, "target:")
        out.line(2, "apiVersion: apps/v1")
        out.line(2, "kind: \(rng.pick(["StatefulSet", "Deployment"]))")
        out.line(2, "name: \(id.team)-\(rng.pick(components))")
        out.line(1, "blueprint: \(rng.pick(["postgres-dump", "mysql-dump", "volume-snapshot", "etcd-snapshot"]))")
        out.line(1, "retention:")
        out.line(2, "keepLast: \(rng.int(1...10))")
        out.line(2, "keepDaily: \(rng.int(0...14))")
        out.line(2, "keepWeekly: \(rng.int(0...8))")
        out.line(2, "keepMonthly: \(rng.int(0...12))")
        out.line(1, "hooks:")
        out.line(2, "preBackup:")
        out.line(3, "- exec:")
        out.line(5, "container: \(id.component)")
        out.line(5, "command: [\"sh\", \"-c\", \"sync && fsfreeze --freeze /data\"]")
        out.line(4, "timeout: \(rng.int(10...600))s")
        out.line(4, "onError: \(rng.pick(["Fail", "Continue"]))")
    }

    mutating func certificate() {
        let id = name()
        out.line(0, "apiVersion: cert-manager.io/v1")
        out.line(0, "kind: Certificate")
        metadata(0, id, annotations: rng.int(0...2))
        out.line(0, "spec:")
        out.line(1, "secretName: \(id.name)-tls")
        out.line(1, "duration: 2160h0m0s")
        out.line(1, "renewBefore: 360h0m0s")
        out.line(1, "dnsNames:")
        for index in 0..<rng.int(1...6) { out.line(1, "- \(id.component)-\(index).\(id.team).example.com") }
        out.line(1, "issuerRef:")
        out.line(2, "name: \(rng.pick(["letsencrypt-prod", "internal-ca"]))")
        out.line(2, "kind: ClusterIssuer")
        out.line(2, "group: cert-manager.io")
        out.line(1, "privateKey: {algorithm: ECDSA, size: 256, rotationPolicy: Always}")
    }

    mutating func serviceMonitor() {
        let id = name()
        out.line(0, "apiVersion: monitoring.coreos.com/v1")
        out.line(0, "kind: ServiceMonitor")
        metadata(0, id, annotations: rng.int(0...2))
        out.line(0, "spec:")
        out.line(1, "selector:")
        out.line(2, "matchLabels: {app.kubernetes.io/name: \(id.component), app.kubernetes.io/instance: \(id.name)}")
        out.line(1, "endpoints:")
        for _ in 0..<rng.int(1...3) {
            out.line(1, "- port: metrics")
            out.line(2, "interval: \(rng.pick(["15s", "30s", "1m"]))")
            out.line(2, "scrapeTimeout: \(rng.pick(["10s", "5s"]))")
            out.line(2, "honorLabels: \(rng.chance(50))")
            if rng.chance(50) {
                out.line(2, "metricRelabelings:")
                out.line(2, "- sourceLabels: [__name__]")
                out.line(3, "regex: '\(rng.pick(words))_(.*)_total'")
                out.line(3, "action: drop")
            }
        }
    }
}

// MARK: - Main

var arguments = Array(CommandLine.arguments.dropFirst())
var size = 50_000_000
var seed: UInt64 = 1
var output: String?
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--bytes": size = arguments.isEmpty ? 0 : Int(arguments.removeFirst()) ?? 0
    case "--seed": seed = arguments.isEmpty ? 0 : UInt64(arguments.removeFirst()) ?? 0
    default: output = argument
    }
}
guard let output, size > 0 else {
    printToStandardError("usage: yaml-bench-gen [--bytes N] [--seed S] OUTPUT")
    exit(2)
}

var generator = Generator(seed: seed)
var documents = 0
guard let file = fopen(output, "wb") else {
    printToStandardError("error: cannot write \(output): \(String(cString: strerror(errno)))")
    exit(1)
}
var written = 0
while written < size {
    generator.document()
    documents += 1
    if generator.out.text.utf8.count > 1 << 20 || written + generator.out.text.utf8.count >= size {
        written += generator.out.text.utf8.count
        var chunk = generator.out.text
        chunk.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, file) }
        generator.out.text = ""
    }
}
fclose(file)
print("wrote \(written) bytes, \(documents) documents, seed \(seed), to \(output)")
