/// Relevance judgments: query id -> document id -> graded relevance (kept as written, <= 0 included).
public typealias Qrels = [String: [String: Int]]

/// One line of a qrels file.
public struct Judgment: Sendable, Hashable {
    /// The judged query.
    public let queryId: String
    /// The judged document.
    public let docId: String
    /// Graded relevance; > 0 counts as relevant for binary metrics, <= 0 is judged non-relevant.
    public let relevance: Int

    /// A judgment of `docId` for `queryId`.
    public init(queryId: String, docId: String, relevance: Int) {
        self.queryId = queryId
        self.docId = docId
        self.relevance = relevance
    }
}

/// Streams a qrels file: TREC / MS MARCO `qid 0 docid relevance` or BEIR `query-id corpus-id score`.
///
/// Fields are separated by any run of spaces or tabs, as trec_eval reads them; each line may have
/// 4 fields (the second, TREC's iteration, is ignored) or 3. A first line of 3 fields whose last
/// is not an integer is a header (BEIR writes `query-id	corpus-id	score`) and is passed over.
public final class QrelsReader {
    /// The path as given, for messages.
    public let path: String
    private let source: PolicedLines
    private var sawFirstLine = false

    /// Opens `path` (`-` for standard input).
    public init(path: String, policy: BadLinePolicy = .stop) throws(CorpusError) {
        self.path = path
        source = try PolicedLines(path: path, policy: policy)
    }

    /// Judgments read so far, skipped bad lines, blank lines.
    public var report: ReadReport { source.report }

    /// The next judgment and its 1-based line number, nil at the end.
    /// - Throws: `CorpusError` for a wrong number of fields, a relevance that is not an integer,
    ///   invalid UTF-8 (unless skipped), or an unreadable file.
    public func nextJudgment() throws(CorpusError) -> (line: Int, judgment: Judgment)? {
        guard let next = try source.next({ (line) throws(LineProblem) -> Judgment? in
            let isFirst = !sawFirstLine
            sawFirstLine = true
            return try Self.parse(line.text, isFirst: isFirst)
        }) else { return nil }
        source.report.records += 1
        return (next.line, next.value)
    }

    /// All judgments. A (query, document) pair judged twice keeps the later relevance.
    public func readAll() throws(CorpusError) -> Qrels {
        var qrels: Qrels = [:]
        while let (_, judgment) = try nextJudgment() {
            qrels[judgment.queryId, default: [:]][judgment.docId] = judgment.relevance
        }
        return qrels
    }

    /// Reads all of `path`; bad lines throw.
    public static func read(path: String) throws(CorpusError) -> Qrels {
        try QrelsReader(path: path).readAll()
    }

    /// The judgments in `path` of the queries in `queryIds` only. A dev evaluation given a slice
    /// of the queries scores that slice, as sentence-transformers' InformationRetrievalEvaluator
    /// does; with the whole file, every judged query outside the slice would count 0 in the means
    /// (the Evaluator's trec_eval `-c` rule) and a 500-query slice of a 2,000-query qrels would
    /// read a quarter of its true MRR.
    /// - Throws: `CorpusError` when the file judges none of `queryIds` (queries of another split,
    ///   or another corpus): an evaluation of nothing would read 0 without a word.
    public static func read(path: String, queries queryIds: Set<String>) throws(CorpusError) -> Qrels {
        let judged = try read(path: path).filter { queryIds.contains($0.key) }
        guard !judged.isEmpty else {
            throw CorpusError(path: path, line: 0, reason: "judges none of the \(queryIds.count) queries to evaluate (are the queries and qrels of the same split?)")
        }
        return judged
    }

    private static func parse(_ line: String, isFirst: Bool) throws(LineProblem) -> Judgment? {
        let fields = LineFields.split(line)
        guard fields.count == 4 || fields.count == 3 else {
            throw LineProblem("expected 'qid 0 docid relevance' (TREC) or 'query-id corpus-id score' (BEIR), found \(fields.count) field\(fields.count == 1 ? "" : "s")")
        }
        let relevanceField = fields[fields.count - 1]
        guard let relevance = Int(relevanceField) else {
            if isFirst && fields.count == 3 { return nil }
            throw LineProblem("relevance '\(relevanceField)' is not an integer")
        }
        return Judgment(queryId: fields[0], docId: fields[fields.count - 2], relevance: relevance)
    }
}
