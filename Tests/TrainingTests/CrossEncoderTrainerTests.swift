import DensekitEncoder
import DensekitLosses
import DensekitTensor
import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// The training loop driving the cross-encoder task on a tiny random model and the tiny
/// retrieval task of `DualEncoderTrainerTests`, with mined-looking negatives.
@Suite struct CrossEncoderTrainerTests {
    static let data: TrainingData = {
        let base = DualEncoderTrainerTests.data
        // Each query's negatives: the next four passages (by number), as a miner would list them.
        var negatives: [String: [String]] = [:]
        for i in 0..<24 { negatives["q\(i)"] = (1...4).map { "p\((i + $0) % 24)" } }
        negatives["q5"] = []  // an empty list: random passages stand in
        negatives["q6"] = ["p7"]  // a short list: drawn from with replacement
        return TrainingData(passages: base.passages, queries: base.queries, relevant: base.relevant, negatives: negatives)
    }()

    func options(steps: Int, loss: CrossEncoderLossKind = .listwise, checkpointEvery: Int = 0, chunkSize: Int = 8) -> CrossEncoderOptions {
        var options = CrossEncoderOptions()
        options.loss = loss
        options.batchSize = 6
        options.groupSize = 4
        options.maxLength = 16
        options.chunkSize = chunkSize
        options.learningRate = 3e-3
        options.totalSteps = steps
        options.warmupSteps = 2
        options.checkpointEvery = checkpointEvery
        return options
    }

    func base() throws -> CrossEncoder {
        try CrossEncoder.starting(from: ModelFolder(TinyModel.writeFolder(at: TinyModel.temporaryFolder())), seed: 3)
    }

    func trainer(_ options: CrossEncoderOptions, output: URL? = nil) throws -> Trainer<CrossEncoderTask> {
        try Trainer(task: CrossEncoderTask(base: base(), data: Self.data, options: options), output: output ?? TinyModel.temporaryFolder())
    }

    func weights(_ trainer: Trainer<CrossEncoderTask>) -> [Float] {
        Array(UnsafeBufferPointer(start: trainer.task.parameters.values, count: trainer.task.parameters.layout.count))
    }

    /// Training ranks each query's positive above its negatives far more often than the
    /// untrained model does (which is at chance, 1 in 5), whichever loss.
    @Test(arguments: CrossEncoderLossKind.allCases)
    func trainingLearnsToRankAndSavesTheTrainedModel(loss: CrossEncoderLossKind) throws {
        var settings = options(steps: 80, loss: loss)
        if loss == .bce {
            // Its gradient is a mean over every pair of a group, not one softmax per group: about
            // a group's size smaller, hence a larger step, and pos_weight balancing 1 positive
            // against 3 negatives (as sentence-transformers' recipes weight mined negatives).
            settings.learningRate = 1e-2
            settings.posWeight = 3
        }
        let t = try trainer(settings)
        func accuracy(_ model: CrossEncoder) -> Double {
            var wins = 0
            for i in 0..<24 {
                let query = Self.data.queries["q\(i)"] ?? ""
                let ids = ["p\(i)"] + (1...4).map { "p\((i + $0) % 24)" }
                let scores = model.scores(ids.map { (query: query, passage: Self.data.passages[$0] ?? "") })
                if scores.dropFirst().allSatisfy({ $0 < scores[0] }) { wins += 1 }
            }
            return Double(wins) / 24
        }
        let before = accuracy(t.model)
        var losses: [Float] = []
        try t.train(progress: { losses.append($0.loss) })
        #expect(losses.count == 80)
        let after = accuracy(t.model)
        #expect(after - before > 0.3, "\(loss): positive ranked first for \(before) of queries before, \(after) after")
        if loss == .listwise {
            let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(5).reduce(0, +) / 5
            #expect(late < 0.7 * early, "mean loss of the first 5 steps \(early), of the last 5 \(late)")
        }
        // The output folder is a cross-encoder with the trained weights.
        let saved = try ModelFolder(t.output).loadCrossEncoder()
        let pairs = [(query: Self.data.queries["q1"] ?? "", passage: Self.data.passages["p1"] ?? "")]
        #expect(saved.scores(pairs) == t.model.scores(pairs))
    }

    /// Same seed, same weights bit for bit; another seed, other weights.
    @Test func sameSeedGivesIdenticalWeights() throws {
        let a = try trainer(options(steps: 4)), b = try trainer(options(steps: 4))
        try a.train()
        try b.train()
        #expect(weights(a) == weights(b))
        var other = options(steps: 4)
        other.seed = 9
        let c = try trainer(other)
        try c.train()
        #expect(weights(c) != weights(a))
    }

    /// The step's loss and gradient against a direct computation: every group scored alone,
    /// the loss's own gradient on the logits, backpropagated group by group. Chunking and
    /// threads change only the summation order.
    @Test(arguments: [(4, 1), (8, 2), (64, 2)])
    func stepMatchesGroupByGroupGradient(chunkSize: Int, threads: Int) throws {
        let model = try base()
        let query = "the cat", passages = ["the cat sat", "a dog ran", "big red house", "the mat"]
        let groups = [model.tokenize(pairs: passages.map { (query, $0) }), model.tokenize(pairs: passages.reversed().map { ("a dog", $0) })]
        let loss = ListwiseCrossEntropyLoss()
        let lossFunction: @Sendable (ScoreMatrix) -> Double = { scores in
            let targets = try! PositiveSets(Array(repeating: [0], count: scores.rows), candidateCount: scores.columns)
            return loss.lossAndGradient(overwriting: scores, targets: targets)
        }
        let count = model.parameters.layout.count
        var gradient = [Float](repeating: 0, count: count)
        let step = CrossEncoderStep(model: model, chunkSize: chunkSize, threads: threads)
        let (value, _) = gradient.withUnsafeMutableBufferPointer { step.run(groups: groups, loss: lossFunction, gradient: $0.baseAddress!) }

        var reference = [Float](repeating: 0, count: count)
        var total = 0.0
        for group in groups {
            var one = [Float](repeating: 0, count: count)
            let (v, _) = one.withUnsafeMutableBufferPointer { CrossEncoderStep(model: model, chunkSize: 4, threads: 1).run(groups: [group], loss: lossFunction, gradient: $0.baseAddress!) }
            total += Double(v)
            for k in 0..<count { reference[k] += one[k] / Float(groups.count) }
        }
        #expect(abs(Double(value) - total / Double(groups.count)) < 1e-5)
        let worst = zip(gradient, reference).map { abs($0 - $1) }.max() ?? 0
        let scale = reference.map(abs).max() ?? 0
        #expect(scale > 1e-3)
        #expect(worst <= 1e-5 * (1 + scale), "max difference \(worst) (gradient scale \(scale))")
    }

    /// Stopping after a checkpoint and resuming ends with the weights of an uninterrupted run.
    @Test func resumeContinuesExactly() throws {
        let straight = try trainer(options(steps: 6, checkpointEvery: 3))
        try straight.train()
        let output = try TinyModel.temporaryFolder()
        let first = try trainer(options(steps: 6, checkpointEvery: 3), output: output)
        struct Interrupt: Error {}
        #expect(throws: Interrupt.self) {
            try first.train(progress: { if $0.step == 5 { throw Interrupt() } })
        }
        let second = try trainer(options(steps: 6, checkpointEvery: 3), output: output)
        #expect(try second.resume() == 3)
        try second.train()
        #expect(weights(second) == weights(straight))
        // Other options are refused on resume.
        var changed = options(steps: 6, checkpointEvery: 3)
        changed.groupSize = 3
        let third = try trainer(changed, output: output)
        #expect(throws: TrainingError.self) { try third.resume() }
    }

    /// Groups: the positive first, relevant passages never among the negatives, short lists
    /// drawn from with replacement, empty ones replaced by random passages.
    @Test func samplerBuildsGroupsWithThePositiveFirst() throws {
        var sampler = GroupSampler(batchSize: 24, groupSize: 4, seed: 1)
        let ids = Self.data.passages.keys.sorted()
        let batch = sampler.next(Self.data, passageIds: ids)
        #expect(batch.queryIds.count == 24 && batch.groups.allSatisfy { $0.count == 4 })
        for (qid, group) in zip(batch.queryIds, batch.groups) {
            let relevant = Set(Self.data.relevant[qid] ?? [])
            #expect(relevant.contains(group[0]))
            #expect(group.dropFirst().allSatisfy { !relevant.contains($0) }, "\(qid): \(group)")
        }
        let q6 = try #require(batch.queryIds.firstIndex(of: "q6"))
        #expect(Array(batch.groups[q6].dropFirst()) == ["p7", "p7", "p7"])
        let q3 = try #require(batch.queryIds.firstIndex(of: "q3"))
        #expect(Set(batch.groups[q3].dropFirst()).isSubset(of: ["p4", "p5", "p6", "p7"]) && Set(batch.groups[q3].dropFirst()).count == 3)
    }
}
