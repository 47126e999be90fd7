import Foundation

/// Streams the passages or queries of a file one at a time, in any `CorpusFormat`.
///
/// Memory stays bounded by one read chunk plus the current line however large the file is:
/// nothing is collected, and duplicate ids are not looked for (the store does that).
///
/// ```swift
/// let reader = try PassageReader(path: "corpus.jsonl")          // format detected
/// while let (line, passage) = try reader.nextRecord() { ... }
/// if let warning = reader.report.warning { print(warning) }
/// ```
public final class RecordReader<Record: TextRecord> {
    /// The path as given, for messages.
    public let path: String
    /// The format lines are parsed as.
    public let format: CorpusFormat
    private let source: PolicedLines
    private let decoder = JSONDecoder()

    /// Opens `path` (`-` for standard input, which needs an explicit `format`).
    ///
    /// - Parameters:
    ///   - format: nil detects it with `CorpusFormat.detect(path:)`.
    ///   - policy: what to do with a bad line; `.stop` throws it.
    public init(path: String, format: CorpusFormat? = nil, policy: BadLinePolicy = .stop) throws(CorpusError) {
        self.path = path
        if let format { self.format = format } else { self.format = try CorpusFormat.detect(path: path) }
        source = try PolicedLines(path: path, policy: policy)
    }

    /// What was read so far: records, skipped bad lines with their first errors, blank lines, empty texts.
    public var report: ReadReport { source.report }

    /// The next record and its 1-based line number, nil at the end of the file.
    ///
    /// Blank lines are passed over. Under `.skip`, bad lines are too, and counted in `report`.
    /// - Throws: `CorpusError` naming the file and line: no tab, invalid JSON, a missing or
    ///   mistyped field, an empty id, invalid UTF-8; or a file that cannot be read.
    /// Lines where each id was read (records whose ids are unique only), to refuse a second one.
    private var firstLineOfId: [String: Int] = [:]

    public func nextRecord() throws(CorpusError) -> (line: Int, record: Record)? {
        let format = format, decoder = decoder
        guard let (line, record) = try source.next({ (line) throws(LineProblem) -> Record? in
            switch format {
            case .msmarcoTSV: try MSMarcoFormat.record(line.text)
            case .beirJSONL: try BEIRFormat.record(line.text, decoder: decoder)
            case .plainJSONL: try JSONLFormat.record(line.text, decoder: decoder)
            }
        }) else { return nil }
        source.report.records += 1
        if record.text.isEmpty { source.report.emptyTexts += 1 }
        if Record.idsAreUnique {
            if let first = firstLineOfId.updateValue(line, forKey: record.id) {
                throw CorpusError(path: path, line: line, reason: "duplicate query id '\(record.id)' (first at line \(first))")
            }
        }
        return (line, record)
    }
}

/// Streams the passages of a collection: MS MARCO collection.tsv, BEIR corpus.jsonl or `{"id","text"}` lines.
public typealias PassageReader = RecordReader<Passage>
/// Streams the queries of a file: MS MARCO queries.*.tsv, BEIR queries.jsonl or `{"id","text"}` lines.
public typealias QueryReader = RecordReader<Query>
