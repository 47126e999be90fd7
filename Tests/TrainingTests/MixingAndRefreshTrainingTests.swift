import DensekitEncoder
import DensekitLosses
import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// MoCHi and refreshed negatives inside the training loop, on the tiny task of
/// `DualEncoderTrainerTests`.
@Suite struct MixingAndRefreshTrainingTests {
    let plain = DualEncoderTrainerTests()

    func options(steps: Int, checkpointEvery: Int = 0, mixing: HardNegativeMixing? = nil, start: Int = 0) -> TrainerOptions {
        var options = plain.options(steps: steps, checkpointEvery: checkpointEvery)
        options.mixing = mixing.map { MixingSchedule(mixing: $0, startStep: start) }
        return options
    }

    static let mochi = HardNegativeMixing(hardest: 4, negatives: 3, query: 2)

    @Test func mixingChangesTheRunAndResumesExactly() throws {
        let without = try plain.trainer(options(steps: 6))
        try without.train()
        let straight = try plain.trainer(options(steps: 6, checkpointEvery: 3, mixing: Self.mochi, start: 1))
        try straight.train()
        #expect(plain.weights(straight) != plain.weights(without))

        let output = try TinyModel.temporaryFolder()
        struct Interrupt: Error {}
        #expect(throws: Interrupt.self) {
            try plain.trainer(options(steps: 6, checkpointEvery: 3, mixing: Self.mochi, start: 1), output: output)
                .train(progress: { if $0.step == 5 { throw Interrupt() } })
        }
        let second = try plain.trainer(options(steps: 6, checkpointEvery: 3, mixing: Self.mochi, start: 1), output: output)
        #expect(try second.resume() == 3)
        try second.train()
        #expect(plain.weights(second) == plain.weights(straight), "the mixing generator must come back from the checkpoint")
        // Its state is in the checkpoint, and it has moved on from its start.
        let state = try String(contentsOf: output.appendingPathComponent("checkpoint-3/trainer-state.json"), encoding: .utf8)
        #expect(state.contains("mixingState"), "\(state)")
    }

    /// Mixing that makes nothing (N = 0), or that starts after the last step, is the plain run.
    @Test func mixingOffOrNotYetStartedIsThePlainRunExactly() throws {
        let without = try plain.trainer(options(steps: 4))
        try without.train()
        for (mixing, start) in [(HardNegativeMixing(hardest: 0, negatives: 3, query: 2), 0), (Self.mochi, 4)] {
            let t = try plain.trainer(options(steps: 4, mixing: mixing, start: start))
            try t.train()
            #expect(plain.weights(t) == plain.weights(without), "\(mixing) from step \(start)")
        }
        // Starting at step 3 leaves steps 0-2 as they were: the same weights at checkpoint 3.
        let late = try plain.trainer(options(steps: 4, checkpointEvery: 3, mixing: Self.mochi, start: 3))
        let reference = try plain.trainer(options(steps: 4, checkpointEvery: 3))
        try late.train()
        try reference.train()
        let a = try SentenceEncoder.load(directory: late.output.appendingPathComponent("checkpoint-3"))
        let b = try SentenceEncoder.load(directory: reference.output.appendingPathComponent("checkpoint-3"))
        #expect(a.encode(["the cat"]).values == b.encode(["the cat"]).values)
        #expect(plain.weights(late) != plain.weights(reference))
    }

    /// A source that "mines" by rotating passage ids by the step, and records what it was asked.
    final class RotatingSource: NegativeSource {
        let folder: URL
        var refreshed: [Int] = [], loaded: [Int] = []
        var savedModels: [URL] = []
        init(folder: URL) { self.folder = folder }

        func file(_ step: Int) -> URL { folder.appendingPathComponent("negatives-\(step).tsv") }

        func refresh(step: Int, saveModel: (URL) throws -> Void) throws -> String {
            refreshed.append(step)
            let model = folder.appendingPathComponent("model-\(step)")
            try saveModel(model)
            savedModels.append(model)
            let lines = (0..<24).map { i in "q\(i)\tp\((i + step) % 24),p\((i + step + 1) % 24)" }.joined(separator: "\n") + "\n"
            try lines.write(to: file(step), atomically: true, encoding: .utf8)
            return file(step).path
        }

        func negatives(completedAt step: Int) throws -> String {
            loaded.append(step)
            return file(step).path
        }
    }

    @Test func negativesAreRefreshedBeforeEveryNthStepAndReloadedOnResume() throws {
        var refreshing = options(steps: 7, checkpointEvery: 3)
        refreshing.refreshEvery = 2
        let folder = try TinyModel.temporaryFolder()
        let straight = try plain.trainer(refreshing)
        let source = RotatingSource(folder: folder)
        straight.task.negativeSource = source
        try straight.train()
        #expect(source.refreshed == [2, 4, 6] && source.loaded.isEmpty)
        #expect(straight.task.negativesRefreshedAt == 6)
        #expect(straight.task.data.negatives["q0"] == ["p6", "p7"])
        // Each refresh saw the model as it was before its step: the one before step 4 has
        // trained one step more than checkpoint 3.
        let atFour = try SentenceEncoder.load(directory: source.savedModels[1])
        let atThree = try SentenceEncoder.load(directory: straight.output.appendingPathComponent("checkpoint-3"))
        #expect(atFour.encode(["the cat"]).values != atThree.encode(["the cat"]).values)

        let without = try plain.trainer(options(steps: 7))
        try without.train()
        #expect(plain.weights(without) != plain.weights(straight))

        // Interrupted at step 5, resumed from checkpoint 3: the refresh of step 2 is loaded, not
        // made again; the one of step 4 is made; the weights end as the straight run's.
        let output = try TinyModel.temporaryFolder()
        struct Interrupt: Error {}
        let first = try plain.trainer(refreshing, output: output)
        first.task.negativeSource = RotatingSource(folder: folder)
        #expect(throws: Interrupt.self) { try first.train(progress: { if $0.step == 5 { throw Interrupt() } }) }
        let second = try plain.trainer(refreshing, output: output)
        let resumedSource = RotatingSource(folder: folder)
        second.task.negativeSource = resumedSource
        #expect(try second.resume() == 3)
        try second.train()
        #expect(resumedSource.loaded == [2] && resumedSource.refreshed == [4, 6])
        #expect(plain.weights(second) == plain.weights(straight))
    }
}
