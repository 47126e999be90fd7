import DensekitCorpus

/// Reads MS MARCO and TREC run files.
public enum RunReader {
    /// The whole run at `path` (`-` = standard input).
    ///
    /// The format is the given one, else detected from the first non-blank line's field count
    /// (3: MS MARCO, 6: TREC); every line must then have that layout. Fields are separated by any
    /// run of spaces or tabs. TREC rankings are ordered as trec_eval orders them
    /// (`RankedDoc.trecEvalOrder` on scores rounded to 32-bit floats as trec_eval stores them:
    /// score descending, ties by docid descending; the rank column is checked to be an integer
    /// but not used); MS MARCO rankings by rank, equal ranks in file order.
    /// A query's lines need not be adjacent. Blank lines are ignored.
    ///
    /// - Throws: `CorpusError` with the file and line for a wrong field count, a rank that is not
    ///   an integer, a score that is not a finite number, or invalid UTF-8.
    public static func read(path: String, format: RunFormat? = nil) throws(CorpusError) -> (run: Run, format: RunFormat) {
        let lines = try LineReader(path: path)
        var format = format
        var rankings: [String: [Entry]] = [:]
        // Runs are grouped by query: append to the current query's list and touch the dictionary
        // only when the query changes (a hash lookup per query instead of per line).
        var currentQuery: String?
        var current: [Entry] = []
        var order = 0

        while let line = try lines.nextLine() {
            let fields = LineFields.split(line.text)
            if fields.isEmpty { continue }
            func fail(_ reason: String) -> CorpusError { CorpusError(path: path, line: line.number, reason: reason) }
            let lineFormat: RunFormat
            if let format {
                guard fields.count == format.fieldCount else {
                    throw fail("expected \(format.fieldCount) fields (\(format.layout)), found \(fields.count)")
                }
                lineFormat = format
            } else {
                guard let detected = RunFormat(fieldCount: fields.count) else {
                    throw fail("expected 3 fields (MS MARCO \(RunFormat.msmarco.layout)) or 6 (TREC \(RunFormat.trec.layout)), found \(fields.count)")
                }
                format = detected
                lineFormat = detected
            }

            let entry: Entry
            switch lineFormat {
            case .msmarco:
                guard let rank = Int(fields[2]) else { throw fail("rank '\(fields[2])' is not an integer") }
                entry = Entry(docId: fields[1], score: nil, rank: rank, order: order)
            case .trec:
                guard let rank = Int(fields[3]) else { throw fail("rank '\(fields[3])' is not an integer") }
                guard let score = Double(fields[4]), score.isFinite else { throw fail("score '\(fields[4])' is not a finite number") }
                // trec_eval keeps scores as 32-bit floats (get_trec_results.c), so scores closer
                // than float precision tie there and are ordered by docid: rounding the same way
                // keeps every metric equal to trec_eval's (Benchmarks/trec_eval_check.sh).
                entry = Entry(docId: fields[2], score: Double(Float(score)), rank: rank, order: order)
            }
            order += 1

            if let query = currentQuery, fields[0] == query {
                current.append(entry)
            } else {
                if let query = currentQuery { rankings[query, default: []].append(contentsOf: current) }
                currentQuery = fields[0]
                current.removeAll(keepingCapacity: true)
                current.append(entry)
            }
        }
        if let query = currentQuery { rankings[query, default: []].append(contentsOf: current) }

        let resolved = format ?? .trec
        var run = Run()
        run.rankings.reserveCapacity(rankings.count)
        for (query, entries) in rankings {
            run.rankings[query] = ordered(entries, format: resolved)
        }
        return (run, resolved)
    }

    private struct Entry {
        var docId: String
        var score: Double?
        var rank: Int
        /// Position in the file, to keep equal MS MARCO ranks in file order.
        var order: Int
    }

    private static func ordered(_ entries: [Entry], format: RunFormat) -> [RankedDoc] {
        switch format {
        case .trec:
            return entries.map { RankedDoc(docId: $0.docId, score: $0.score) }.sorted(by: RankedDoc.trecEvalOrder)
        case .msmarco:
            let inOrder = zip(entries, entries.dropFirst()).allSatisfy { $0.rank <= $1.rank }
            let sorted = inOrder ? entries : entries.sorted { ($0.rank, $0.order) < ($1.rank, $1.order) }
            return sorted.map { RankedDoc(docId: $0.docId, score: nil) }
        }
    }
}

extension RunReader {
    /// The first line of the run at `path` for query `query` (and document `docId`, when given),
    /// for error messages about a run read before; nil when none matches or the file is gone.
    public static func firstLine(ofQuery query: String, docId: String?, in path: String) -> Int? {
        guard let lines = try? LineReader(path: path) else { return nil }
        while let line = try? lines.nextLine() {
            let fields = LineFields.split(line.text)
            guard fields.count >= 3, fields[0] == query else { continue }
            let document = fields.count == RunFormat.trec.fieldCount ? fields[2] : fields[1]
            if docId == nil || document == docId { return line.number }
        }
        return nil
    }
}
