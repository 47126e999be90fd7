import DensekitCorpus
import Foundation
import Testing

/// Readers hand out one record at a time: a large file is read while holding only the current record.
@Suite struct StreamingTests {
    @Test func readsA200kLineCollectionOneRecordAtATime() throws {
        let count = 200_000
        let folder = try Fixture.folder()
        let url = folder.appendingPathComponent("collection.tsv")
        // Written in chunks so that the test itself does not hold the file either.
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        var chunk = ""
        for pid in 0..<count {
            chunk += "\(pid)\tpassage number \(pid) with some words to make the line longer than a few bytes\n"
            if pid % 10_000 == 9_999 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.close()
        defer { try? FileManager.default.removeItem(at: folder) }

        let reader = try PassageReader(path: url.path)
        var seen = 0
        var last: Passage?
        while let (line, passage) = try reader.nextRecord() {
            #expect(line == seen + 1)
            seen += 1
            last = passage
        }
        #expect(seen == count)
        #expect(reader.report.records == count)
        #expect(last?.id == "\(count - 1)")
    }
}
