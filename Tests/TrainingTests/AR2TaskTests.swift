import DensekitEncoder
import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// AR2 as one task on tiny random models: cycles of ranker then retriever steps, each model
/// moving only in its own stage, candidates refreshed before each cycle with the retriever as it
/// is then, and a run stopped inside a cycle resuming to the uninterrupted run's weights.
@Suite struct AR2TaskTests {
    /// Candidates that depend on the step and on the retriever it is given (so a refresh that
    /// used the wrong weights would change the run): a stand-in for `NegativeRefresh`.
    final class Candidates: NegativeSource {
        let directory: URL
        private(set) var refreshed: [Int] = []

        init(directory: URL) { self.directory = directory }

        func file(_ step: Int) -> URL { directory.appendingPathComponent("step-\(step).tsv") }

        func refresh(step: Int, saveModel: (URL) throws -> Void) throws -> String {
            let model = directory.appendingPathComponent("model-\(step)")
            try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
            try saveModel(model)
            let fingerprint = try ModelFolder(model).weightsFingerprint()
            let shift = Int(fingerprint.utf8.reduce(UInt8(0)) { $0 &+ $1 } % 7) + step
            var lines = ""
            for i in 0..<24 { lines += "q\(i)\t" + (1...5).map { "p\((i + $0 + shift) % 24)" }.joined(separator: ",") + "\n" }
            try lines.write(to: file(step), atomically: true, encoding: .utf8)
            refreshed.append(step)
            return file(step).path
        }

        func negatives(completedAt step: Int) throws -> String {
            guard FileManager.default.fileExists(atPath: file(step).path) else { throw TrainingError.checkpoint("no candidates for step \(step)") }
            return file(step).path
        }
    }

    func options(stopAfter: Int = 0, warmup: Int = 0) -> AR2Options {
        var options = AR2Options()
        options.cycles = 2
        options.rankerSteps = 2
        options.retrieverSteps = 2
        options.rankerWarmupSteps = warmup
        options.loop.totalSteps = 8 + warmup
        options.loop.checkpointEvery = warmup > 0 ? 0 : 1
        options.loop.stopAfterSteps = stopAfter
        options.loop.threads = 1
        options.batchSize = 4
        options.candidates = 3
        options.candidateDepth = 5
        options.retrieverLearningRate = 3e-3
        options.rankerLearningRate = 3e-3
        options.queryMaxLength = 8
        options.passageMaxLength = 16
        options.pairMaxLength = 16
        options.chunkSize = 6
        return options
    }

    func task(_ options: AR2Options, candidates: Candidates) throws -> AR2Task {
        let retriever = try DualEncoder.load(directory: TinyModel.writeFolder(at: TinyModel.temporaryFolder()))
        let ranker = try CrossEncoder.starting(from: ModelFolder(TinyModel.writeFolder(at: TinyModel.temporaryFolder())), seed: 3)
        let task = try AR2Task(retriever: retriever, ranker: ranker, data: DualEncoderTrainerTests.data, options: options)
        task.candidateSource = candidates
        return task
    }

    func snapshot(_ vector: BertParameters) -> [Float] { Array(UnsafeBufferPointer(start: vector.values, count: vector.layout.count)) }

    @Test func eachModelMovesOnlyInItsStageAndCandidatesAreRefreshedPerCycle() throws {
        let candidates = Candidates(directory: try TinyModel.temporaryFolder())
        let task = try task(options(), candidates: candidates)
        var previous = task.parameterVectors.map(snapshot)
        try Trainer(task: task, output: try TinyModel.temporaryFolder()).train(progress: { report in
            let now = task.parameterVectors.map(self.snapshot)
            let ranker = task.options.stage(atStep: report.step - 1) == .ranker
            #expect((now[0] != previous[0]) == !ranker, "retriever at step \(report.step - 1)")
            #expect((now[1] != previous[1]) == ranker, "ranker at step \(report.step - 1)")
            #expect(report.loss.isFinite)
            previous = now
        })
        #expect(candidates.refreshed == [0, 4])
    }

    @Test func aRunStoppedInsideACycleResumesExactly() throws {
        let straightCandidates = Candidates(directory: try TinyModel.temporaryFolder())
        let straight = try task(options(), candidates: straightCandidates)
        try Trainer(task: straight, output: try TinyModel.temporaryFolder()).train()

        let output = try TinyModel.temporaryFolder(), candidates = Candidates(directory: try TinyModel.temporaryFolder())
        try Trainer(task: try task(options(stopAfter: 3), candidates: candidates), output: output).train()
        let resumed = try task(options(), candidates: candidates)
        let trainer = try Trainer(task: resumed, output: output)
        #expect(try trainer.resume() == 3)
        try trainer.train()
        #expect(candidates.refreshed == [0, 4], "step 3's candidates were read back, not made again")
        #expect(straight.parameterVectors.map(snapshot) == resumed.parameterVectors.map(snapshot))
        // Both models are saved side by side.
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("retriever/model.safetensors").path))
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("ranker/model.safetensors").path))
    }

    /// The steps of a run with a warm-up: where each falls, where cycles retrieve and where the
    /// run checkpoints.
    @Test func positionsOfAWarmupAndCycles() {
        var options = AR2Options()
        options.cycles = 2
        options.rankerSteps = 2
        options.retrieverSteps = 3
        options.rankerWarmupSteps = 4
        #expect(options.totalSteps == 14)
        let stages = (0..<14).map { options.position(atStep: $0) }
        #expect(stages.map(\.stage) == [.rankerWarmup, .rankerWarmup, .rankerWarmup, .rankerWarmup, .ranker, .ranker, .retriever, .retriever, .retriever,
                                        .ranker, .ranker, .retriever, .retriever, .retriever])
        #expect(stages.map(\.cycle) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        #expect(stages.map(\.step) == [0, 1, 2, 3, 0, 1, 0, 1, 2, 0, 1, 0, 1, 2])
        #expect(stages.map(\.stageSteps) == [4, 4, 4, 4, 2, 2, 3, 3, 3, 2, 2, 3, 3, 3])
        #expect((0...2).map(options.cycleStart) == [0, 9, 14])
        #expect((1...14).filter(options.endsWarmupOrCycle) == [4, 9, 14])
        // Ranker steps among the first n, in closed form, as counted one by one.
        #expect((0...16).map { options.rankerSteps(before: $0) } == (0...16).map { n in stages.prefix(n).filter(\.stage.trainsRanker).count })
        #expect(options.rankerSteps(before: 9) == 6)
        options.rankerWarmupSteps = 0
        #expect((1...10).filter(options.endsWarmupOrCycle) == [5, 10])
        #expect((0...2).map(options.cycleStart) == [0, 5, 10])
    }

    /// A warm-up trains the ranker alone on the first cycle's candidates, at its own rate, and
    /// the loop checkpoints where the warm-up and each cycle end.
    @Test func theWarmupTrainsTheRankerOnTheFirstCandidates() throws {
        let candidates = Candidates(directory: try TinyModel.temporaryFolder())
        var options = options(warmup: 3)
        options.rankerWarmupLearningRate = 1e-2
        let task = try task(options, candidates: candidates)
        var previous = task.parameterVectors.map(snapshot)
        var rates: [Float] = []
        let output = try TinyModel.temporaryFolder()
        try Trainer(task: task, output: output).train(progress: { report in
            let now = task.parameterVectors.map(self.snapshot)
            let ranker = task.options.stage(atStep: report.step - 1).trainsRanker
            #expect((now[0] != previous[0]) == !ranker, "retriever at step \(report.step - 1)")
            #expect((now[1] != previous[1]) == ranker, "ranker at step \(report.step - 1)")
            rates.append(report.learningRate)
            previous = now
        })
        #expect(candidates.refreshed == [0, 7], "the warm-up uses cycle 1's candidates")
        // Warm-up: 0 then the peak 1e-2 (10% of 3 steps is no warm-up step), linear decay.
        #expect(rates[0] == 1e-2 && rates[1] < 1e-2 && rates[1] > 3e-3 && rates[3] <= 3e-3)
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
        #expect(checkpoints == ["checkpoint-11", "checkpoint-3", "checkpoint-7"])
    }
}
