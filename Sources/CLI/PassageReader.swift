import DensekitCorpus
import DensekitIndex
import Foundation

/// Adapts the corpus readers to the index builder: one passage at a time, with its line.
final class PassageReader {
    let path: String
    let format: String
    let skipBadLines: Bool
    private let reader: LineReader
    /// Bad lines skipped so far.
    private(set) var skipped = 0
    /// The first few skipped lines' errors, to show the user.
    private(set) var firstProblems: [CorpusError] = []

    init(path: String, format: CorpusFormatOption, skipBadLines: Bool) throws {
        self.path = path
        self.skipBadLines = skipBadLines
        self.format = format == .auto ? "msmarco" : format.rawValue
        reader = try LineReader(path: path)
    }

    func next() throws -> SourcePassage? {
        while true {
            do {
                guard let line = try reader.nextLine() else { return nil }
                let (id, text) = try TextFile.splitIdText(line.text, path: path, line: line.number)
                return SourcePassage(id: id, text: text, line: line.number)
            } catch {
                guard skipBadLines else { throw error }
                skipped += 1
                if firstProblems.count < 5 { firstProblems.append(error) }
            }
        }
    }

    /// Number of lines, for the ETA (a fast byte scan).
    func countRecords() throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        var count = 0
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            count += chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        }
        return count
    }
}
