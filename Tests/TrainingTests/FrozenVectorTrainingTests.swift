import DensekitEncoder
import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// The loop with a task that freezes one of its two parameter vectors on most steps (as AR2
/// freezes its ranker while the retriever trains): a frozen vector does not move at all, each
/// vector's AdamW step count counts only its own updates, and a resumed run ends bit for bit
/// where the uninterrupted one does.
@Suite struct FrozenVectorTrainingTests {
    struct Options: TaskOptions {
        var loop = LoopOptions()
    }

    /// A quadratic pull of every parameter towards 0.5: `L = sum (theta - 0.5)^2 / 2`, so the
    /// gradient is `theta - 0.5`. Vector 1 trains only on steps 2, 5, 8, ...
    final class Task: TrainingTask {
        let options: Options
        let parameterVectors: [BertParameters]
        var optimizerPrefixes: [String] { ["", "second."] }
        var samplerState = 0
        var model: [BertParameters] { parameterVectors }
        var examplesPerStep: Int { 1 }
        var baseModelPath: String { "" }

        init(options: Options) {
            self.options = options
            parameterVectors = [TinyModel.parameters(seed: 1), TinyModel.parameters(seed: 2)]
        }

        static func trainsSecond(at index: Int) -> Bool { index % 3 == 2 }

        func trainedVectors(atStep index: Int) -> [Bool]? { [true, Self.trainsSecond(at: index)] }

        func step(_ index: Int, gradient: UnsafeMutablePointer<Float>) throws -> (loss: Float, timings: StepTimings) {
            samplerState += 1
            var offset = 0, loss: Float = 0
            for (v, vector) in parameterVectors.enumerated() {
                let count = vector.layout.count
                for k in 0..<count {
                    let g = v == 1 && !Self.trainsSecond(at: index) ? 0 : vector.values[k] - 0.5
                    gradient[offset + k] = g
                    loss += g * g / 2
                }
                offset += count
            }
            return (loss, StepTimings())
        }

        func saveModel(to folder: ModelFolder) throws {
            for (v, vector) in parameterVectors.enumerated() {
                let url = folder.url.appendingPathComponent("v\(v)")
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                try TinyModel.writeFolder(at: url, parameters: vector)
            }
        }

        func restoreModel(from folder: ModelFolder) throws {
            for (v, vector) in parameterVectors.enumerated() {
                let file = try SafeTensorsFile(url: folder.url.appendingPathComponent("v\(v)").appendingPathComponent(ModelFolder.weightsFile))
                let restored = try BertParameters(file: file, layout: vector.layout)
                vector.values.update(from: restored.values, count: vector.layout.count)
            }
        }
    }

    func options(stopAfter: Int = 0) -> Options {
        var options = Options()
        options.loop.totalSteps = 7
        options.loop.learningRate = 1e-2
        options.loop.checkpointEvery = 2
        options.loop.stopAfterSteps = stopAfter
        return options
    }

    func snapshot(_ vector: BertParameters) -> [Float] { Array(UnsafeBufferPointer(start: vector.values, count: vector.layout.count)) }

    @Test func aFrozenVectorDoesNotMoveAndCountsOnlyItsOwnUpdates() throws {
        let output = try TinyModel.temporaryFolder()
        let task = Task(options: options())
        let trainer = try Trainer(task: task, output: output)
        var previous = task.parameterVectors.map(snapshot)
        try trainer.train(progress: { report in
            let now = task.parameterVectors.map(self.snapshot)
            let index = report.step - 1
            #expect(now[0] != previous[0], "vector 0 trains at step \(index)")
            #expect((now[1] != previous[1]) == Task.trainsSecond(at: index), "vector 1 at step \(index)")
            previous = now
        })
        // 7 steps: vector 1 trained at steps 2 and 5; the final checkpoint records both counts.
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("checkpoint-7/trainer-state.json"))) as? [String: Any]
        #expect(state?["optimizerSteps"] as? [Int] == [7, 2])
    }

    @Test func aResumedRunEndsWhereTheUninterruptedOneDoes() throws {
        let straightFolder = try TinyModel.temporaryFolder()
        let straight = Task(options: options())
        try Trainer(task: straight, output: straightFolder).train()
        let resumedFolder = try TinyModel.temporaryFolder()
        try Trainer(task: Task(options: options(stopAfter: 4)), output: resumedFolder).train()
        let resumed = Task(options: options())
        let trainer = try Trainer(task: resumed, output: resumedFolder)
        #expect(try trainer.resume() == 4)
        try trainer.train()
        #expect(straight.parameterVectors.map(snapshot) == resumed.parameterVectors.map(snapshot))
    }
}
