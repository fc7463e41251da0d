import Foundation
import Testing
@testable import Kube

@Suite struct LoadingTests {
    @Test func givenSeveralKubeconfigFiles_whenMerged_thenTheFirstFileDefiningANameWins() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let first = try dir.write("a", kubeconfig(current: nil, contexts: ["dev"], server: "https://first"))
        let second = try dir.write("b", kubeconfig(current: "dev", contexts: ["dev", "prod"], server: "https://second"))
        let third = try dir.write("c", kubeconfig(current: "prod", contexts: ["prod"], server: "https://third"))
        let loader = KubeConfigLoader(environment: ["KUBECONFIG": "\(first):\(dir.path)/missing:\(second):\(third)"])

        let config = try loader.load()

        #expect(config.files == [first, second, third])
        #expect(config.currentContext == "dev")
        #expect(config.clusters["dev"]?.server == "https://first/dev")
        #expect(config.clusters["prod"]?.server == "https://second/prod")
        #expect(try loader.connection().server == "https://first/dev")
    }

    @Test func givenExplicitPath_whenLoading_thenKUBECONFIGIsIgnored() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        let env = try dir.write("env", kubeconfig(current: "dev", contexts: ["dev"], server: "https://env"))
        let explicit = try dir.write("explicit", kubeconfig(current: "dev", contexts: ["dev"], server: "https://explicit"))

        let connection = try KubeConfigLoader(explicitPath: explicit, environment: ["KUBECONFIG": env]).connection()

        #expect(connection.server == "https://explicit/dev")
    }

    @Test func givenMissingExplicitPath_whenLoading_thenItIsAnError() throws {
        let error = #expect(throws: KubeConfigError.self) {
            try KubeConfigLoader(explicitPath: "/nonexistent/kubeconfig", environment: [:]).load()
        }
        #expect(error?.kind == .fileNotFound)
        #expect(error?.description.contains("/nonexistent/kubeconfig") == true)
    }

    @Test func givenNoKUBECONFIG_whenLoading_thenHomeKubeConfigIsUsed() throws {
        let dir = try TempDirectory()
        defer { try? dir.remove() }  // cleanup only
        try dir.write(".kube/config", kubeconfig(current: "home", contexts: ["home"]))

        let connection = try KubeConfigLoader(environment: ["HOME": dir.path]).connection()

        #expect(connection.contextName == "home")
        #expect(connection.namespace == "ns-home")
        #expect(try connection.bearerToken() == "token-home")
    }

    @Test func givenNothingToLoad_whenConnecting_thenTheErrorSaysWhereItLooked() throws {
        let error = #expect(throws: KubeConfigError.self) {
            try KubeConfigLoader(environment: ["HOME": "/nonexistent"]).connection()
        }
        #expect(error?.kind == .noConfiguration)
        #expect(error?.description.contains("/nonexistent/.kube/config") == true)
    }

    @Test(arguments: [
        (nil, "https://example/dev", "ns-dev"),
        ("staging", "https://example/staging", "ns-staging"),
    ] as [(String?, String, String)])
    func givenContextOverride_whenResolving_thenItReplacesCurrentContext(context: String?, server: String, namespace: String) throws {
        let config = try KubeConfig.parse(kubeconfig(current: "dev", contexts: ["dev", "staging"]), file: "cfg")

        let connection = try config.connection(context: context)

        #expect(connection.server == server)
        #expect(connection.namespace == namespace)
    }
}
