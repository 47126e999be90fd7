import DensekitCorpus
import DensekitTestSupport
import Foundation

/// Temporary files for the corpus tests, each in its own folder so that names (and extensions) are free.
enum Fixture {
    static func folder() throws -> URL { try TestScratch.folder("corpus") }

    static func file(_ text: String, name: String) throws -> String {
        try file(bytes: Array(text.utf8), name: name)
    }

    static func file(bytes: [UInt8], name: String) throws -> String {
        let url = try folder().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A record as read, comparable in `#expect`.
    struct Read<Record: TextRecord>: Equatable {
        let line: Int
        let id: String
        let text: String
        init(_ line: Int, _ id: String, _ text: String) {
            self.line = line
            self.id = id
            self.text = text
        }
    }

    static func readAll<Record>(_ reader: RecordReader<Record>) throws -> [Read<Record>] {
        var out: [Read<Record>] = []
        while let (line, record) = try reader.nextRecord() { out.append(Read(line, record.id, record.text)) }
        return out
    }

    static func passages(_ path: String, format: CorpusFormat? = nil, policy: BadLinePolicy = .stop) throws -> [Read<Passage>] {
        try readAll(PassageReader(path: path, format: format, policy: policy))
    }
}
