import DensekitEncoder
import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// The training loop on a tiny random model and a tiny synthetic retrieval task.
@Suite struct DualEncoderTrainerTests {
    /// 24 passages; query i asks for passage i with two of its words.
    static let data: TrainingData = {
        var generator = SeededGenerator(seed: 8)
        var passages: [String: String] = [:], queries: [String: String] = [:], relevant: [String: [String]] = [:]
        for i in 0..<24 {
            let words = (0..<6).map { _ in TinyModel.words[Int.random(in: 0..<TinyModel.words.count, using: &generator)] }
            passages["p\(i)"] = words.joined(separator: " ")
            queries["q\(i)"] = words.prefix(2).joined(separator: " ")
            relevant["q\(i)"] = ["p\(i)"]
        }
        return TrainingData(passages: passages, queries: queries, relevant: relevant, negatives: ["q0": ["p1", "p2"], "q3": ["p0"]])
    }()

    func options(steps: Int, checkpointEvery: Int = 0, learningRate: Float = 1e-3) -> TrainerOptions {
        var options = TrainerOptions()
        options.batchSize = 8
        options.chunkSize = 4
        options.negativesPerQuery = 1
        options.learningRate = learningRate
        options.totalSteps = steps
        options.warmupSteps = 2
        options.checkpointEvery = checkpointEvery
        options.queryMaxLength = 16
        options.passageMaxLength = 16
        return options
    }

    func trainer(_ options: TrainerOptions, output: URL? = nil) throws -> DualEncoderTrainer {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let base = try SentenceEncoder.load(directory: folder)
        return try DualEncoderTrainer(base: base, data: Self.data, options: options, output: output ?? TinyModel.temporaryFolder())
    }

    func weights(_ trainer: DualEncoderTrainer) -> [Float] {
        Array(UnsafeBufferPointer(start: trainer.parameters.values, count: trainer.parameters.layout.count))
    }

    @Test func lossFallsOnASmallTask() throws {
        let t = try trainer(options(steps: 40))
        var losses: [Float] = []
        try t.train(progress: { losses.append($0.loss) })
        #expect(losses.count == 40)
        let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(5).reduce(0, +) / 5
        #expect(late < 0.7 * early, "mean loss of the first 5 steps \(early), of the last 5 \(late)")
        // The output folder is a model densekit loads, with the trained weights.
        let saved = try SentenceEncoder.load(directory: t.output)
        #expect(saved.encode(["the cat"]).values == t.model.query.encode(["the cat"]).values)
    }

    /// Same seed, same data, same weights after N steps, bit for bit.
    @Test func sameSeedGivesIdenticalWeights() throws {
        let a = try trainer(options(steps: 5)), b = try trainer(options(steps: 5))
        try a.train()
        try b.train()
        #expect(weights(a) == weights(b))
        var other = options(steps: 5)
        other.seed = 7
        let c = try trainer(other)
        try c.train()
        #expect(weights(c) != weights(a))
    }

    /// Stopping after a checkpoint and resuming ends with the weights of an uninterrupted run.
    @Test func resumeContinuesExactly() throws {
        let straight = try trainer(options(steps: 6, checkpointEvery: 3))
        try straight.train()

        let output = try TinyModel.temporaryFolder()
        let first = try trainer(options(steps: 6, checkpointEvery: 3), output: output)
        var stepsSeen = 0
        struct Interrupt: Error {}
        #expect(throws: Interrupt.self) {
            try first.train(progress: { report in
                stepsSeen = report.step
                if report.step == 4 { throw Interrupt() }
            })
        }
        #expect(stepsSeen == 4)
        let logFile = output.appendingPathComponent(TrainingLog.fileName)
        #expect(try TrainingLog.read(logFile).map(\.step) == [1, 2, 3, 4])
        let second = try trainer(options(steps: 6, checkpointEvery: 3), output: output)
        #expect(try second.resume() == 3)
        try second.train()
        #expect(weights(second) == weights(straight))
        // The log holds each step once (step 4 of the interrupted run is gone), with the
        // figures of the uninterrupted run.
        let resumed = try TrainingLog.read(logFile), whole = try TrainingLog.read(straight.output.appendingPathComponent(TrainingLog.fileName))
        #expect(resumed.map(\.step) == [1, 2, 3, 4, 5, 6])
        #expect(resumed.map(\.loss) == whole.map(\.loss))
        #expect(resumed.map(\.lr) == whole.map(\.lr))
        #expect(resumed.allSatisfy { ($0.itemsPerSecond ?? 0) > 0 && $0.gradNorm != nil && !$0.isEvaluation })
    }

    @Test func divergenceStopsAndNamesTheLastCheckpoint() throws {
        // A checkpoint after every step: the step that diverges (the second: the first update
        // of 1e30 overflows the layer norms) names the one saved just before it.
        let t = try trainer(options(steps: 10, checkpointEvery: 1, learningRate: 1e30))
        #expect {
            try t.train()
        } throws: { error in
            guard case let .diverged(step, _, last) = error as? TrainingError, let last else { return false }
            return step >= 2 && last.hasSuffix("checkpoint-\(step - 1)")
                && FileManager.default.fileExists(atPath: last + "/trainer-state.json")
        }
    }

    @Test func batchesMaskKnownPositives() throws {
        var passages = Self.data.passages, relevant = Self.data.relevant
        // p6 has the same text as p0 (the same passage stored twice); p3 is relevant to q2 too.
        passages["p6"] = passages["p0"]
        relevant["q2"] = ["p2", "p3"]
        let data = TrainingData(passages: passages, queries: Self.data.queries, relevant: relevant)
        var sampler = BatchSampler(batchSize: 24, negativesPerQuery: 0, seed: 1)
        let batch = sampler.next(data)
        func listed(_ qid: String) throws -> Set<String> {
            let row = try #require(batch.queryIds.firstIndex(of: qid))
            return Set(batch.positives[row].map { batch.candidateIds[$0] })
        }
        // q0's target is p0; p6 (same text, q6's target) must not be its negative, nor p0 q6's.
        #expect(try listed("q0") == ["p0", "p6"])
        #expect(try listed("q6") == ["p6", "p0"])
        // p3 is in the batch as q3's target and is relevant to q2.
        #expect(try listed("q2").contains("p3"))
        #expect(Set(batch.candidateIds).count == batch.candidateIds.count)
    }

    func towerWeights(_ trainer: DualEncoderTrainer) -> [[Float]] {
        trainer.towers.map { Array(UnsafeBufferPointer(start: $0.values, count: $0.layout.count)) }
    }

    /// Separate towers: both start as the base model and drift apart; the output is a two-tower
    /// folder that loads as the pair that was trained, and that resumes exactly.
    @Test func separateTowersTrainSaveAndResume() throws {
        var towerOptions = options(steps: 6, checkpointEvery: 3)
        towerOptions.separateTowers = true
        let straight = try trainer(towerOptions)
        let base = weights(straight)
        try straight.train()
        let trained = towerWeights(straight)
        #expect(trained.count == 2)
        #expect(trained[0] != trained[1] && trained[0] != base && trained[1] != base)

        let loaded = try DualEncoder.load(directory: straight.output)
        #expect(!loaded.isTied)
        #expect(loaded.query.encode(["the cat"]).values == straight.model.query.encode(["the cat"]).values)
        #expect(loaded.passage.encode(["the cat"]).values == straight.model.passage.encode(["the cat"]).values)
        #expect(loaded.query.encode(["the cat"]).values != loaded.passage.encode(["the cat"]).values)
        // Each tower is a model folder of its own.
        _ = try SentenceEncoder.load(directory: straight.output.appendingPathComponent(DualEncoder.passageFolder))

        let output = try TinyModel.temporaryFolder()
        struct Interrupt: Error {}
        #expect(throws: Interrupt.self) {
            try trainer(towerOptions, output: output).train(progress: { if $0.step == 4 { throw Interrupt() } })
        }
        let second = try trainer(towerOptions, output: output)
        #expect(try second.resume() == 3)
        try second.train()
        #expect(towerWeights(second) == trained)

        // A two-tower model trains on only as two towers.
        var tied = options(steps: 2)
        tied.separateTowers = false
        #expect(throws: TrainingError.self) { try DualEncoderTrainer(base: loaded, data: Self.data, options: tied, output: TinyModel.temporaryFolder()) }
    }

    /// Stopping after N of a longer schedule's steps gives that schedule's weights at step N.
    @Test func stopAfterStepsMatchesTheScheduleAtThatStep() throws {
        let straight = try trainer(options(steps: 6, checkpointEvery: 3))
        try straight.train()
        var early = options(steps: 6)
        early.stopAfterSteps = 3
        let stopped = try trainer(early)
        try stopped.train()
        #expect(stopped.step == 3)
        let checkpoint = try SentenceEncoder.load(directory: straight.output.appendingPathComponent("checkpoint-3"))
        let saved = try SentenceEncoder.load(directory: stopped.output)
        #expect(saved.encode(["the cat"]).values == checkpoint.encode(["the cat"]).values)
    }

    /// Activation checkpointing changes memory, not results.
    @Test func gradientCheckpointingGivesTheSameWeights() throws {
        var recomputing = options(steps: 3)
        recomputing.gradientCheckpointing = true
        let a = try trainer(options(steps: 3)), b = try trainer(recomputing)
        try a.train()
        try b.train()
        #expect(weights(a) == weights(b))
    }
}
