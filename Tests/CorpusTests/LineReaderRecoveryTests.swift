import DensekitCorpus
import Foundation
import Testing

/// LineReader must move past a line it rejects, so that `BadLinePolicy.skip` can go on reading.
@Suite struct LineReaderRecoveryTests {
    @Test func continuesAfterInvalidUTF8() throws {
        let bytes = Array("a\n".utf8) + [0x62, 0xFF, 0x0A] + Array("c\n".utf8) + [0xC3]  // last line: truncated é, no newline
        let path = try Fixture.file(bytes: bytes, name: "mixed.txt")
        let reader = try LineReader(path: path)
        #expect(try reader.nextLine()?.text == "a")
        #expect(throws: CorpusError(path: path, line: 2, reason: "not valid UTF-8")) { try reader.nextLine() }
        let third = try reader.nextLine()
        #expect(third?.text == "c" && third?.number == 3)
        #expect(throws: CorpusError(path: path, line: 4, reason: "not valid UTF-8")) { try reader.nextLine() }
        #expect(try reader.nextLine() == nil)
    }
}
