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

    func options(stopAfter: Int = 0) -> AR2Options {
        var options = AR2Options()
        options.cycles = 2
        options.rankerSteps = 2
        options.retrieverSteps = 2
        options.loop.totalSteps = 8
        options.loop.checkpointEvery = 1
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
}
