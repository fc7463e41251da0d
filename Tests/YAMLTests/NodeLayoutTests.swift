import Testing
import YAML

@Suite struct NodeLayoutTests {
    @Test func givenANode_thenItTakes32Bytes_soCachedTreesStaySmall() {
        #expect(MemoryLayout<Node>.stride == 32)
        #expect(MemoryLayout<Node.Pair>.stride == 64)
    }

    @Test(arguments: [nil, Mark(line: 1, column: 1), Mark(line: 12, column: 345), Mark(line: Int(UInt32.max), column: Int(UInt32.max))])
    func givenAMark_whenStoredOnANode_thenItReadsBackTheSame(mark: Mark?) {
        var node = Node(.string("x"), mark: mark)
        #expect(node.mark == mark)
        node.mark = Mark(line: 7, column: 8)
        #expect(node.mark == Mark(line: 7, column: 8))
        node.mark = nil
        #expect(node.mark == nil)
    }

    @Test func givenJSON_whenParsed_thenMarksStillPointAtTheSource() throws {
        let node = try JSON.parse("{\n  \"a\": [1,\n  true]\n}")
        #expect(node["a"]?.mark == Mark(line: 2, column: 8))
        #expect(node["a"]?.sequence?[1].mark == Mark(line: 3, column: 3))
    }
}
