import CairnAPI
import Testing

/// `RESTIC_REPOSITORY` from each kind of BackupStorage backend.
@Suite struct BackendResticTests {
    static func backend(_ set: (inout Backend) -> Void) -> Backend {
        var backend = Backend()
        set(&backend)
        return backend
    }

    static let cases: [(Backend, String)] = [
        (backend { $0.s3 = S3Backend(bucket: "b") }, "s3:https://s3.amazonaws.com/b"),
        (backend { $0.s3 = S3Backend(bucket: "b", endpoint: "http://127.0.0.1:9000/", prefix: "/team/a/") }, "s3:http://127.0.0.1:9000/b/team/a"),
        (backend { $0.sftp = SFTPBackend(host: "backup.example", user: "restic", path: "/srv/repo") }, "sftp:restic@backup.example:/srv/repo"),
        (backend { $0.sftp = SFTPBackend(host: "127.0.0.1", user: "restic", path: "/srv/repo", port: 2222) }, "sftp://restic@127.0.0.1:2222//srv/repo"),
        (backend { $0.local = LocalBackend(path: "/var/backups") }, "/var/backups"),
        (backend { $0.local = LocalBackend(pvc: "repo", subPath: "team-a") }, "/repository"),
        (backend { $0.rest = RestBackend(url: "https://rest.example:8000/repo") }, "rest:https://rest.example:8000/repo"),
        (backend { $0.gcs = BucketBackend(bucket: "b", prefix: "p") }, "gs:b:/p"),
        (backend { $0.azure = AzureBackend(container: "c", prefix: "p/q") }, "azure:c:/p/q"),
        (backend { $0.b2 = BucketBackend(bucket: "b", prefix: "p") }, "b2:b:p"),
    ]

    @Test(arguments: cases)
    func givenABackend_thenItsResticRepositoryIsAsResticSpellsIt(backend: Backend, expected: String) throws {
        #expect(try backend.resticRepository == expected)
    }

    @Test func givenNoneOrTwoBackends_thenTheErrorNamesTheFieldAndTheFix() {
        #expect(throws: BackendError.self) { try Backend().resticRepository }
        let two = Self.backend { $0.s3 = S3Backend(bucket: "b"); $0.local = LocalBackend(path: "/x") }
        do {
            _ = try two.resticRepository
            Issue.record("two backends must be refused")
        } catch {
            #expect(error.description == "spec.backend sets s3, local; set exactly one of them")
        }
    }
}
