import DensekitCorpus
import DensekitTestSupport
import Foundation
import Testing

@Suite struct LineReaderTests {
    func file(_ bytes: [UInt8]) throws -> String {
        let url = try TestScratch.folder("lines").appendingPathComponent("lines.txt")
        try Data(bytes).write(to: url)
        return url.path
    }

    func lines(_ path: String) throws -> [String] {
        let reader = try LineReader(path: path)
        var out: [String] = []
        while let line = try reader.nextLine() { out.append(line.text) }
        return out
    }

    @Test func splitsLinesDropsCRAndKeepsLastLineWithoutNewline() throws {
        let path = try file(Array("one\r\ntwo\n\nfour".utf8))
        #expect(try lines(path) == ["one", "two", "", "four"])
    }

    @Test func trailingNewlineAddsNoEmptyLine() throws {
        #expect(try lines(file(Array("a\nb\n".utf8))) == ["a", "b"])
        #expect(try lines(file([])) == [])
    }

    /// Lines longer than the 1 MiB read chunk are joined correctly.
    @Test func linesLongerThanTheReadChunk() throws {
        let long = String(repeating: "x", count: 3 << 20)
        #expect(try lines(file(Array("short\n\(long)\nend\n".utf8))) == ["short", long, "end"])
    }

    @Test func badUTF8IsReportedWithItsLineNumber() throws {
        let path = try file(Array("fine\nalso fine\n".utf8) + [0x62, 0xFF, 0x61, 0x0A] + Array("after\n".utf8))
        #expect(throws: CorpusError(path: path, line: 3, reason: "not valid UTF-8")) { try lines(path) }
        // A reader that skips bad lines goes on with the next one.
        let reader = try LineReader(path: path)
        var kept: [String] = [], bad: [Int] = []
        while true {
            do {
                guard let line = try reader.nextLine() else { break }
                kept.append(line.text)
            } catch { bad.append(error.line) }
        }
        #expect(kept == ["fine", "also fine", "after"] && bad == [3])
    }

    @Test func missingFileIsNamed() {
        #expect(throws: CorpusError(path: "/nonexistent/densekit.tsv", line: 0, reason: "no such file")) {
            try LineReader(path: "/nonexistent/densekit.tsv")
        }
    }

    @Test func tsvRecordsNeedATabAndAnId() throws {
        let good = try file(Array("p1\ttext with\ttab\np2\t\n".utf8))
        let (ids, texts) = try TextFile.read(path: good, tsv: true)
        #expect(ids == ["p1", "p2"] && texts == ["text with\ttab", ""])

        let noTab = try file(Array("p1\tok\nbroken line\n".utf8))
        #expect(throws: CorpusError(path: noTab, line: 2, reason: "expected id<TAB>text, found no tab")) {
            try TextFile.read(path: noTab, tsv: true)
        }
        let emptyId = try file(Array("\tno id\n".utf8))
        #expect(throws: CorpusError(path: emptyId, line: 1, reason: "empty id")) { try TextFile.read(path: emptyId, tsv: true) }
    }

    @Test func plainLinesGetLineNumbersAsIds() throws {
        let (ids, texts) = try TextFile.read(path: file(Array("a\n\nc\n".utf8)), tsv: false)
        #expect(ids == ["1", "2", "3"] && texts == ["a", "", "c"])
    }
}
