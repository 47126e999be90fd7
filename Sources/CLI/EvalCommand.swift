import ArgumentParser
import DensekitCorpus
import DensekitEvaluation
import Foundation

/// `densekit eval`: score a run file against qrels.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a run against relevance judgments (MRR@k, Recall@k, nDCG@k, MAP, P@k), or XMC label predictions (--xmc: P@k, nDCG@k, PSP@k, R@k).",
        discussion: """
        Conventions follow trec_eval (recip_rank, recall_k, ndcg_cut, map, P_k), and queries missing from the run count as zeros, as with trec_eval -c and the MS MARCO script:

        - MRR@10: 1/rank of the first relevant document within the top 10; 0 when none is there.
        - R@k: relevant documents in the top k / all relevant documents of the query. P@k divides by k.
        - nDCG@k is graded (trec_eval ndcg_cut): gain = the qrels relevance itself (not the exponential 2^rel-1), discount log2(rank + 1), ideal ranking from all of the query's positive judgments, cut at k.
        - MAP: average precision over the whole ranking; relevant documents not retrieved add 0.
        - Relevant means relevance > 0 for MRR, recall, precision and MAP.
        - The queries evaluated are those of the qrels with at least one relevant document: queries without relevant judgments are skipped. A query absent from the run scores 0 on every metric and counts in the mean. Run queries not in the qrels are ignored.
        - The run format is detected from its first line: MS MARCO qid<TAB>pid<TAB>rank (ordered by rank) or TREC qid Q0 docid rank score tag (ordered as trec_eval orders it: score descending, scores that are equal as 32-bit floats by docid descending; the rank column is not used, whatever it says). A document repeated in a ranking counts once, at its best position.
        - Qrels: TREC / MS MARCO 'qid 0 docid relevance' or BEIR 'query-id corpus-id score' with its header line; fields separated by tabs or spaces.

        With --xmc: --truth is a JSON-lines file of {"id", "text", "labels"} documents, --predictions lines doc_id<TAB>label<TAB>rank<TAB>score, and the metrics are pyxclib's: P@k, R@k, nDCG@k (binary gains, ideal over min(k, |labels|)), PSP@k and PSnDCG@k (propensity-weighted and divided by the best achievable ranking's, a ratio of means). Propensities 1/p = 1 + C (n_l + B)^-A with C = (ln N - 1)(B + 1)^A come from the --train documents' label counts. Every truth document counts; one without predictions scores 0.
        """)

    @Option(name: .customLong("qrels"), help: "Relevance judgments file.")
    var qrelsPath: String?

    @Option(name: .customLong("run"), help: "Run file (MS MARCO or TREC format, detected).")
    var runPath: String?

    @Option(name: .long, help: "Comma-separated metrics: \(Metric.validForms); with --xmc: \(XMCMetric.validForms).")
    var metrics: String?

    @OptionGroup(title: "Extreme multi-label classification") var xmc: XMCEvalOptions

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Flag(name: .customLong("per-query"), help: "Also print every query's values.")
    var perQuery = false

    static let defaultMetrics = "MRR@10,R@10,R@100,R@1000,nDCG@10,MAP"

    func validate() throws {
        if xmc.xmc {
            guard qrelsPath == nil, runPath == nil else { throw ValidationError("--xmc reads --truth and --predictions, not --qrels and --run") }
            try xmc.check(metrics: metrics)
        } else {
            guard qrelsPath != nil, runPath != nil else { throw ValidationError("give --qrels and --run (or --xmc with --truth and --predictions)") }
            guard xmc.truth == nil, xmc.predictions == nil, xmc.train == nil else { throw ValidationError("--truth, --predictions and --train go with --xmc") }
            do { _ = try Metric.parseList(metrics ?? Self.defaultMetrics) } catch { throw ValidationError(error.description) }
        }
    }

    func run() throws {
        if xmc.xmc { return try xmc.run(metrics: metrics, json: json) }
        guard let qrelsPath, let runPath else { throw ValidationError("give --qrels and --run") }
        let metricList: [Metric]
        do { metricList = try Metric.parseList(metrics ?? Self.defaultMetrics) } catch { throw ValidationError(error.description) }
        let qrels = try QrelsReader.read(path: qrelsPath)
        let (run, format) = try RunReader.read(path: runPath)
        let evaluation = Evaluator(qrels: qrels, metrics: metricList).evaluate(run, perQuery: perQuery)

        printNotes(evaluation, format: format)
        let sink = try OutputSink(path: "-")
        try sink.write(json ? Self.json(evaluation) : Self.table(evaluation))
        try sink.close()
    }

    /// Notes on stderr, so that stdout stays the result.
    private func printNotes(_ evaluation: Evaluation, format: RunFormat) {
        var notes = ["run format: \(format.rawValue) (\(format.layout))"]
        if evaluation.queryCount == 0 { notes.append("no query of the qrels has a relevant document: nothing to evaluate") }
        if evaluation.queriesMissingFromRun > 0 {
            notes.append("\(evaluation.queriesMissingFromRun) of \(evaluation.queryCount) queries are not in the run and score 0")
        }
        if evaluation.ignoredRunQueries > 0 {
            notes.append("\(evaluation.ignoredRunQueries) run queries have no relevant judgments and are ignored")
        }
        if evaluation.duplicateDocuments > 0 {
            notes.append("\(evaluation.duplicateDocuments) repeated documents in rankings were counted once")
        }
        // Most judged queries absent from the run: the wrong qrels (split) or swapped files.
        let present = evaluation.queryCount - evaluation.queriesMissingFromRun
        if evaluation.queryCount > 0 && Double(present) < 0.5 * Double(evaluation.queryCount) {
            notes.append("warning: only \(present) of the \(evaluation.queryCount) judged queries are in the run (\(evaluation.ignoredRunQueries) run queries are not judged): are the qrels of another split, or --qrels and --run swapped?")
        }
        FileHandle.standardError.write(Data(notes.map { "eval: \($0)\n" }.joined().utf8))
    }

    static func table(_ evaluation: Evaluation) -> String {
        let names = evaluation.metrics.map(\.description)
        let width = max(6, names.map(\.count).max() ?? 0)
        func pad(_ text: String, _ count: Int) -> String { text + String(repeating: " ", count: max(0, count - text.count)) }
        var out = pad("metric", width) + "   value  queries\n"
        for (name, mean) in zip(names, evaluation.means) {
            out += pad(name, width) + String(format: "  %6.4f  %7d\n", mean, evaluation.queryCount)
        }
        guard !evaluation.perQuery.isEmpty else { return out }
        let idWidth = max(5, evaluation.perQuery.map(\.queryId.count).max() ?? 0)
        let columns = names.map { max(6, $0.count) }
        out += "\n" + pad("query", idWidth) + zip(names, columns).map { "  " + String(repeating: " ", count: $1 - $0.count) + $0 }.joined() + "\n"
        for row in evaluation.perQuery {
            out += pad(row.queryId, idWidth)
            for (value, column) in zip(row.values, columns) {
                let text = String(format: "%.4f", value)
                out += "  " + String(repeating: " ", count: max(0, column - text.count)) + text
            }
            out += "\n"
        }
        return out
    }

    /// Metrics in the order asked for (hence hand-written rather than JSONEncoder's dictionary order).
    static func json(_ evaluation: Evaluation) -> String {
        func object(_ values: [Double]) -> String {
            "{" + zip(evaluation.metrics, values).map { JSONText.quote($0.description) + ": " + String($1) }.joined(separator: ", ") + "}"
        }
        var out = "{\n  \"queries\": \(evaluation.queryCount),\n"
        out += "  \"queries_missing_from_run\": \(evaluation.queriesMissingFromRun),\n"
        out += "  \"metrics\": " + object(evaluation.means)
        if !evaluation.perQuery.isEmpty {
            out += ",\n  \"per_query\": {\n"
            out += evaluation.perQuery.map { "    " + JSONText.quote($0.queryId) + ": " + object($0.values) }.joined(separator: ",\n")
            out += "\n  }"
        }
        return out + "\n}\n"
    }
}
