import Agent
import Testing

@Suite struct ResticExitTests {
    @Test(arguments: [
        (Int32(0), ResticExit.success, true), (1, .fatal, false), (3, .incompleteSnapshot, true),
        (10, .repositoryMissing, false), (11, .lockFailed, false), (12, .wrongPassword, false),
        (130, .interrupted, false), (2, .unknown(2), false), (137, .unknown(137), false),
    ])
    func givenAResticExitCode_thenItMapsToItsCaseAndSaysWhetherASnapshotExists(
        code: Int32, expected: ResticExit, wroteSnapshot: Bool
    ) {
        #expect(ResticExit(code: code) == expected)
        #expect(ResticExit(code: code).wroteSnapshot == wroteSnapshot)
    }
}
