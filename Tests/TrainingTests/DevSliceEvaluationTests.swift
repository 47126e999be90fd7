import DensekitCorpus
import DensekitEncoder
import DensekitEvaluation
import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// A training run's dev evaluation given a slice of the queries scores that slice, even when the
/// qrels file judges more queries (the usual case: one dev qrels, a few hundred of its queries
/// for the checkpoints). Judged queries outside the slice used to count 0 each.
@Suite struct DevSliceEvaluationTests {
    /// Three passages, three queries each equal to its passage's text (so, with a normalizing
    /// model, each query's own passage scores 1 and ranks first), qrels judging all three, a
    /// queries file holding only q0, and a first-stage run for q0 with its passage first.
    static func files() throws -> (collection: String, slice: String, qrels: String, run: String) {
        let folder = try TinyModel.temporaryFolder()
        let texts = ["the cat sat on the mat", "a big red dog ran", "the dog sat , the cat ran !"]
        func write(_ name: String, _ lines: [String]) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        return (try write("collection.tsv", texts.enumerated().map { "p\($0.offset)\t\($0.element)" }),
                try write("queries.tsv", ["q0\t\(texts[0])"]),
                try write("qrels.tsv", (0..<3).map { "q\($0) 0 p\($0) 1" }),
                try write("run.tsv", ["q0\tp0\t1", "q0\tp1\t2"]))
    }

    @Test func retrievalEvaluatorScoresOnlyTheGivenQueries() throws {
        let f = try Self.files()
        let evaluator = try RetrievalEvaluator(collection: f.collection, queries: f.slice, qrels: f.qrels, metrics: [.mrr(cutoff: 10)])
        let model = try SentenceEncoder.load(directory: TinyModel.writeFolder(at: TinyModel.temporaryFolder()))
        let evaluation = try evaluator.evaluate(model)
        #expect(evaluation.queryCount == 1)
        #expect(evaluation.means == [1.0])
    }

    /// Queries the qrels do not judge at all (another split) are an error naming the qrels, not
    /// an evaluation of nothing that reads 0.
    @Test func queriesTheQrelsDoNotJudgeAreRefused() throws {
        let f = try Self.files()
        let other = URL(fileURLWithPath: f.slice).deletingLastPathComponent().appendingPathComponent("other.tsv").path
        try "q9\tthe cat\n".write(toFile: other, atomically: true, encoding: .utf8)
        #expect(throws: CorpusError(path: f.qrels, line: 0, reason: "judges none of the 1 queries to evaluate (are the queries and qrels of the same split?)")) {
            try RetrievalEvaluator(collection: f.collection, queries: other, qrels: f.qrels, metrics: [.mrr(cutoff: 10)])
        }
    }

    @Test func rerankEvaluatorScoresOnlyTheGivenQueries() throws {
        let f = try Self.files()
        let evaluator = try RerankEvaluator(run: f.run, queries: f.slice,
                                            qrels: f.qrels, collection: f.collection, depth: 2, metrics: [.mrr(cutoff: 10)])
        let baseline = evaluator.baseline()
        #expect(baseline.queryCount == 1)
        #expect(baseline.means == [1.0])
    }
}
