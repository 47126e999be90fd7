/// A problem with one line, before the reader adds the file and line number to make a `CorpusError`.
struct LineProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The loop every format reader shares: `LineReader` lines, blank lines ignored, each line parsed,
/// bad lines thrown or skipped per `BadLinePolicy`.
final class PolicedLines {
    let lines: LineReader
    let policy: BadLinePolicy
    var report = ReadReport()

    init(path: String, policy: BadLinePolicy) throws(CorpusError) {
        lines = try LineReader(path: path)
        self.policy = policy
    }

    /// The next line that `parse` turns into a value, with its line number; nil at the end.
    ///
    /// `parse` returns nil for a line that is valid but carries no value (a header line).
    func next<Value>(_ parse: (LineReader.Line) throws(LineProblem) -> Value?) throws(CorpusError) -> (line: Int, value: Value)? {
        while true {
            let line: LineReader.Line?
            do { line = try lines.nextLine() } catch {
                // Only invalid UTF-8 is a bad *line*; a failed read is a broken file, and retrying it
                // would fail forever. LineReader's message is matched because it has no error codes.
                guard policy == .skip, error.reason == PolicedLines.invalidUTF8 else { throw error }
                report.noteSkipped(error)
                continue
            }
            guard let line else { return nil }
            if Self.isBlank(line.text) {
                report.blankLines += 1
                continue
            }
            do {
                if let value = try parse(line) { return (line.number, value) }
            } catch {
                let corpusError = CorpusError(path: lines.path, line: line.number, reason: error.reason)
                guard policy == .skip else { throw corpusError }
                report.noteSkipped(corpusError)
            }
        }
    }

    /// LineReader's reason for a line that is not UTF-8.
    static let invalidUTF8 = "not valid UTF-8"

    static func isBlank(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
