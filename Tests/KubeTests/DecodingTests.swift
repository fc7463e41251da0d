import Testing
@testable import Kube

@Suite struct DecodingTests {
    @Test(arguments: [
        ("clusters: {a: 1}", KubeConfigError.Kind.typeMismatch, "cfg:1:11: clusters: expected list, got mapping"),
        ("clusters:\n- cluster: {server: x}", .missingField, "cfg:2:3: clusters[0]: required field \"name\" is missing"),
        ("clusters:\n- name: a\n  cluster: {server: 7}", .typeMismatch, "cfg:3:21: clusters[0].cluster.server: expected string, got integer 7"),
        ("clusters:\n- name: a\n  cluster: {certificate-authority-data: \"!!notbase64\"}", .invalidValue,
         "cfg:3:41: clusters[0].cluster.certificate-authority-data: is not valid base64; encode the PEM file with `base64 -w0`"),
        ("users:\n- name: u\n  user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}", .missingField,
         "cfg:3:16: users[0].user.exec: required field \"interactiveMode\" is missing"),
        ("users:\n- name: u\n  user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}", .invalidValue,
         "users[0].user.exec.apiVersion: unsupported exec plugin apiVersion"),
        ("kind: Pod", .invalidValue, "cfg:1:7: kind: unsupported kind \"Pod\""),
        ("clusters: [\n  {name: a", .syntax, "cfg:"),
        ("contexts:\n- {name: a, context: {}}\n- {name: a, context: {}}", .invalidValue, "cfg:3:10: contexts[1].name: duplicate context name \"a\""),
    ])
    func givenBrokenKubeconfig_whenParsed_thenTheErrorNamesFilePositionAndField(text: String, kind: KubeConfigError.Kind, message: String) throws {
        let error = #expect(throws: KubeConfigError.self) { try KubeConfig.parse(text, file: "cfg") }

        #expect(error?.kind == kind)
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func givenUnknownFields_whenParsed_thenTheyAreIgnored() throws {
        let config = try KubeConfig.parse("""
            apiVersion: v1
            kind: Config
            future-field: 1
            preferences: {colors: true}
            clusters:
            - name: a
              extra: x
              cluster: {server: "https://a", shiny-new-option: true}
            extensions:
            - {name: e, extension: {k: v}}
            """, file: "cfg")

        #expect(config.clusters["a"]?.server == "https://a")
        #expect(config.extensions["e"]?["k"]?.string == "v")
        #expect(config.preferences?["colors"]?.bool == true)
    }
}
