import DensekitEncoder
import DensekitLosses
import DensekitTensor
import Foundation

/// Fine-tunes a sentence encoder as a dual encoder (one tower shared by queries and passages)
/// with a contrastive loss: sample a batch, one `ContrastiveStep`, clip, AdamW, repeat;
/// checkpoint every `checkpointEvery` steps; stop on a non-finite loss or gradient, keeping the
/// last good checkpoint.
///
/// Output folder: the final model (a sentence-transformers folder) at the top level, and
/// `checkpoint-STEP/` folders, each a loadable model plus `trainer-state.json` and
/// `optimizer.safetensors` (AdamW moments), from which `resume` continues exactly.
public final class DualEncoderTrainer {
    /// What one step did, for progress lines.
    public struct StepReport: Sendable {
        public var step: Int, totalSteps: Int
        public var loss: Float, gradientNorm: Float, learningRate: Float
        public var seconds: Double
    }

    /// Saved with each checkpoint.
    struct State: Codable {
        var step: Int
        var sampler: BatchSampler
        var options: TrainerOptions
        var baseModel: String
        var losses: [Float]
        var optimizerStep: Int
    }

    public let base: SentenceEncoder
    public let data: TrainingData
    public let options: TrainerOptions
    public let output: URL
    /// The parameters being trained (a copy of the base model's).
    public let parameters: BertParameters
    /// The base model's tokenizer and settings around `parameters`.
    public let model: SentenceEncoder
    private var optimizer: AdamW
    private var sampler: BatchSampler
    /// Steps done so far.
    public private(set) var step = 0
    private var losses: [Float] = []
    private var lastCheckpoint: String?

    /// A trainer starting from `base`'s weights (copied), writing to `output`.
    /// - Throws: `TrainingError.invalidOption` for an empty training set or bad options.
    public init(base: SentenceEncoder, data: TrainingData, options: TrainerOptions, output: URL) throws {
        guard !data.queryIds.isEmpty else { throw TrainingError.invalidOption("no training query has a relevant passage in the collection") }
        guard options.batchSize >= 2 else { throw TrainingError.invalidOption("--batch-size must be at least 2 (in-batch negatives)") }
        guard options.totalSteps > 0 else { throw TrainingError.invalidOption("the number of steps must be positive") }
        self.base = base
        self.data = data
        self.options = options
        self.output = output
        let layout = base.encoder.parameters.layout
        parameters = BertParameters(layout: layout)
        parameters.values.update(from: base.encoder.parameters.values, count: layout.count)
        model = SentenceEncoder(tokenizer: base.tokenizer, parameters: parameters, pooling: base.pooling, maxLength: base.maxLength,
                                lowercaseInput: base.lowercaseInput, directory: base.directory)
        // Biases and layer-norm parameters are not decayed, as in Hugging Face's trainer.
        let noDecay = layout.slots.filter { $0.name.hasSuffix(".bias") || $0.name.contains("LayerNorm") }.map { $0.offset..<($0.offset + $0.count) }
        optimizer = try AdamW(parameterCount: layout.count, configuration: AdamWConfiguration(weightDecay: options.weightDecay), noWeightDecay: noDecay)
        sampler = BatchSampler(batchSize: options.batchSize, negativesPerQuery: options.negativesPerQuery, seed: options.seed)
    }

    /// Continues from the latest checkpoint in `output`; returns its step, or nil when none exists.
    @discardableResult
    public func resume() throws -> Int? {
        let fileManager = FileManager.default
        let checkpoints = ((try? fileManager.contentsOfDirectory(atPath: output.path)) ?? [])
            .filter { $0.hasPrefix("checkpoint-") && fileManager.fileExists(atPath: output.appendingPathComponent($0).appendingPathComponent("trainer-state.json").path) }
            .compactMap { name in Int(name.dropFirst("checkpoint-".count)).map { ($0, name) } }
        guard let (_, name) = checkpoints.max(by: { $0.0 < $1.0 }) else { return nil }
        let folder = output.appendingPathComponent(name)
        let state = try JSONDecoder().decode(State.self, from: Data(contentsOf: folder.appendingPathComponent("trainer-state.json")))
        guard state.options == options else {
            throw TrainingError.checkpoint("\(folder.path) was written with other training options; resume with the same ones")
        }
        let weights = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        let restored = try BertParameters(file: weights, layout: parameters.layout)
        parameters.values.update(from: restored.values, count: parameters.layout.count)
        let moments = try SafeTensorsFile(url: folder.appendingPathComponent("optimizer.safetensors"))
        optimizer = try AdamW(state: AdamWState(step: state.optimizerStep, firstMoment: try moments.floats("adamw.first_moment"),
                                                secondMoment: try moments.floats("adamw.second_moment")),
                              configuration: optimizer.configuration, noWeightDecay: optimizer.noWeightDecay)
        sampler = state.sampler
        step = state.step
        losses = state.losses
        lastCheckpoint = folder.path
        return step
    }

    /// Trains up to `options.totalSteps` (or the time budget), then saves the final model into `output`.
    ///
    /// - Parameters:
    ///   - progress: called after every step; throwing from it stops training there.
    ///   - evaluate: called at each checkpoint and at the end with the current model; its
    ///     result (e.g. dev MRR@10) goes to `log`.
    /// - Throws: `TrainingError.diverged` when the loss or gradient norm is not finite.
    public func train(progress: (StepReport) throws -> Void = { _ in }, evaluate: ((SentenceEncoder) throws -> String)? = nil,
                      log: (String) -> Void = { _ in }) throws {
        let loss = try options.makeLoss()
        let contrastive = ContrastiveStep(encoder: model.encoder, pooling: model.pooling, chunkSize: options.chunkSize, threads: options.threads)
        let schedule = LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.totalSteps, decay: options.decay)
        let count = parameters.layout.count
        var gradient = [Float](repeating: 0, count: count)
        let started = DispatchTime.now().uptimeNanoseconds
        func overBudget() -> Bool {
            options.timeBudgetSeconds > 0 && Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 >= options.timeBudgetSeconds
        }
        while step < options.totalSteps && !overBudget() {
            let stepStarted = DispatchTime.now().uptimeNanoseconds
            let batch = sampler.next(data)
            let queries = model.tokenize(batch.queries, maxLength: options.queryMaxLength)
            let candidates = model.tokenize(batch.candidates, maxLength: options.passageMaxLength)
            let value = try gradient.withUnsafeMutableBufferPointer {
                try contrastive.run(queries: queries, candidates: candidates, positives: batch.positives, loss: loss, gradient: $0.baseAddress!)
            }
            guard value.isFinite else { throw TrainingError.diverged(step: step + 1, what: "the loss", lastCheckpoint: lastCheckpoint) }
            let clip = gradient.withUnsafeMutableBufferPointer { buffer in
                options.maxGradientNorm > 0 ? GradientClipping.clip(buffer, maxNorm: options.maxGradientNorm)
                    : GradientClipping.Report(norm: GradientClipping.norm(UnsafeBufferPointer(buffer)), factor: 1)
            }
            guard clip.isFinite else { throw TrainingError.diverged(step: step + 1, what: "the gradient", lastCheckpoint: lastCheckpoint) }
            let rate = schedule.learningRate(at: step)
            gradient.withUnsafeBufferPointer { g in
                optimizer.step(parameters: UnsafeMutableBufferPointer(start: parameters.values, count: count), gradients: g, learningRate: rate)
            }
            step += 1
            losses.append(value)
            try progress(StepReport(step: step, totalSteps: options.totalSteps, loss: value, gradientNorm: clip.norm, learningRate: rate,
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - stepStarted) / 1e9))
            if options.checkpointEvery > 0, step % options.checkpointEvery == 0, step < options.totalSteps, !overBudget() {
                try saveCheckpoint()
                if let evaluate { log("step \(step): \(try evaluate(model))") }
            }
        }
        try saveCheckpoint()
        try model.save(to: output, parameters: parameters)
        if let evaluate { log("final (step \(step)): \(try evaluate(model))") }
    }

    /// Writes `checkpoint-STEP/`: model, optimizer moments, then the state file last, so a
    /// checkpoint without its state file (a crash while saving) is never resumed from.
    private func saveCheckpoint() throws {
        let folder = output.appendingPathComponent("checkpoint-\(step)")
        try model.save(to: folder, parameters: parameters)
        let state = optimizer.state()
        try state.firstMoment.withUnsafeBufferPointer { m in
            try state.secondMoment.withUnsafeBufferPointer { v in
                try SafeTensorsWriter.write([
                    .init(name: "adamw.first_moment", shape: [m.count], values: m),
                    .init(name: "adamw.second_moment", shape: [v.count], values: v),
                ], to: folder.appendingPathComponent("optimizer.safetensors"))
            }
        }
        let trainerState = State(step: step, sampler: sampler, options: options, baseModel: base.directory?.path ?? "",
                                 losses: losses, optimizerStep: state.step)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(trainerState).write(to: folder.appendingPathComponent("trainer-state.json"), options: .atomic)
        lastCheckpoint = folder.path
    }
}
