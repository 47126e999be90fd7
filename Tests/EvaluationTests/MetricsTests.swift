import DensekitCorpus
import DensekitEvaluation
import Foundation
import Testing

/// Each expected value is worked out by hand in the comment above it, never by the code under test.
@Suite struct MetricsTests {
    @Test func reciprocalRankOfTheFirstRelevantDocument() throws {
        // q: relevant c only; ranking a, b, c -> first relevant at rank 3 -> 1/3.
        let result = try Toy.evaluate(["q": ["c": 1, "a": 0]], Toy.run(["q": ["a", "b", "c"]]), "MRR@10,MRR@2,MRR")
        let means = Toy.means(result)
        #expect(Toy.close(means["MRR@10"], 1.0 / 3))
        #expect(means["MRR@2"] == 0)              // rank 3 is outside the top 2
        #expect(Toy.close(means["MRR"], 1.0 / 3))
    }

    @Test func relevantAtRank11IsOutsideMRR10() throws {
        // d11 is relevant and ranked 11th: MRR@10 = 0, MRR (whole ranking) = 1/11,
        // R@10 = 0/1, R@100 = 1/1, P@10 = 0/10.
        let ranking = (1...11).map { "d\($0)" }
        let result = try Toy.evaluate(["q": ["d11": 1]], Toy.run(["q": ranking]), "MRR@10,MRR,R@10,R@100,P@10")
        let means = Toy.means(result)
        #expect(means["MRR@10"] == 0)
        #expect(Toy.close(means["MRR"], 1.0 / 11))
        #expect(means["R@10"] == 0 && means["R@100"] == 1 && means["P@10"] == 0)
    }

    @Test func gradedNDCG() throws {
        // Ranking a, b, c with relevances 2, 0, 1 (trec_eval ndcg_cut: gain = rel, discount log2(rank+1)).
        //   DCG@3  = 2/log2(2) + 0/log2(3) + 1/log2(4) = 2 + 0 + 0.5 = 2.5
        //   IDCG@3 = gains sorted 2, 1:  2/log2(2) + 1/log2(3) = 2 + 0.6309297535714575 = 2.6309297535714575
        //   nDCG@3 = 2.5 / 2.6309297535714575 = 0.9502344167898356
        //   nDCG@1 = 2/2 = 1;  nDCG@2 = 2 / 2.6309297535714575 = 0.7601875334318685
        let qrels: Qrels = ["q": ["a": 2, "b": 0, "c": 1]]
        let result = try Toy.evaluate(qrels, Toy.run(["q": ["a", "b", "c"]]), "nDCG@1,nDCG@2,nDCG@3,nDCG@10")
        let means = Toy.means(result)
        #expect(Toy.close(means["nDCG@1"], 1))
        #expect(Toy.close(means["nDCG@2"], 0.7601875334318685))
        #expect(Toy.close(means["nDCG@3"], 0.9502344167898356))
        #expect(Toy.close(means["nDCG@10"], 0.9502344167898356))
    }

    @Test func idealDCGUsesUnretrievedJudgmentsAndIgnoresNegativeOnes() throws {
        // Judged: a 2, c 1, e 3 (never retrieved), x -1 (retrieved first: gain 0, not negative).
        // Ranking x, a, b, c:
        //   DCG@4  = 0 + 2/log2(3) + 0/log2(4) + 1/log2(5) = 1.2618595071429148 + 0.43067655807339306 = 1.6925360652163082
        //   IDCG@4 = 3/1 + 2/log2(3) + 1/log2(4) = 3 + 1.2618595071429148 + 0.5 = 4.7618595071429155
        //   nDCG@4 = 1.6925360652163082 / 4.7618595071429155 = 0.35543595158098623
        // Binary: relevant a, c, e (3); x is not relevant (-1 <= 0).
        //   MRR = 1/2;  R@4 = 2/3;  P@4 = 2/4;  AP = (1/2 + 2/4) / 3 = 1/3
        let qrels: Qrels = ["q": ["a": 2, "c": 1, "e": 3, "x": -1]]
        let result = try Toy.evaluate(qrels, Toy.run(["q": ["x", "a", "b", "c"]]), "nDCG@4,MRR@10,R@4,P@4,MAP")
        let means = Toy.means(result)
        #expect(Toy.close(means["nDCG@4"], 0.35543595158098623))
        #expect(Toy.close(means["MRR@10"], 0.5))
        #expect(Toy.close(means["R@4"], 2.0 / 3))
        #expect(Toy.close(means["P@4"], 0.5))
        #expect(Toy.close(means["MAP"], 1.0 / 3))
    }

    @Test func averagePrecision() throws {
        // Two relevant documents at ranks 1 and 3: AP = (1/1 + 2/3) / 2 = 0.8333...
        let two = try Toy.evaluate(["q": ["a": 1, "c": 1]], Toy.run(["q": ["a", "b", "c", "d"]]), "MAP")
        #expect(Toy.close(two.means[0], (1 + 2.0 / 3) / 2))
        // A third relevant document never retrieved adds 0 but counts: (1 + 2/3) / 3.
        let three = try Toy.evaluate(["q": ["a": 1, "c": 1, "z": 1]], Toy.run(["q": ["a", "b", "c", "d"]]), "MAP")
        #expect(Toy.close(three.means[0], (1 + 2.0 / 3) / 3))
    }

    @Test func precisionDividesByKAndRecallByAllRelevant() throws {
        // Relevant a, c, e; ranking a, b, c (only 3 documents).
        //   P@5 = 2/5 (trec_eval divides by k even when fewer are retrieved);  P@2 = 1/2
        //   R@2 = 1/3;  R@10 = 2/3
        let result = try Toy.evaluate(["q": ["a": 1, "c": 2, "e": 1]], Toy.run(["q": ["a", "b", "c"]]), "P@5,P@2,R@2,R@10")
        let means = Toy.means(result)
        #expect(Toy.close(means["P@5"], 0.4))
        #expect(Toy.close(means["P@2"], 0.5))
        #expect(Toy.close(means["R@2"], 1.0 / 3))
        #expect(Toy.close(means["R@10"], 2.0 / 3))
    }

    @Test func meanOverQueries() throws {
        // q1: relevant at rank 1 -> MRR 1;  q2: relevant at rank 2 -> 1/2;  q3: relevant at rank 4 -> 1/4.
        // Mean = (1 + 0.5 + 0.25) / 3 = 0.5833...
        let qrels: Qrels = ["q1": ["a": 1], "q2": ["b": 1], "q3": ["d": 1]]
        let run = Toy.run(["q1": ["a", "b"], "q2": ["a", "b"], "q3": ["a", "b", "c", "d"]])
        let result = try Toy.evaluate(qrels, run, "MRR@10", perQuery: true)
        #expect(result.queryCount == 3)
        #expect(Toy.close(result.means[0], 1.75 / 3))
        #expect(result.perQuery == [QueryScores(queryId: "q1", values: [1]), QueryScores(queryId: "q2", values: [0.5]), QueryScores(queryId: "q3", values: [0.25])])
    }
}
