import DensekitEncoder
import DensekitLosses
import DensekitTensor
import Foundation

/// Training a cross-encoder (reranker): per step, `batchSize` queries, each with a group of one
/// positive and `groupSize - 1` mined negatives (`GroupSampler`); the model scores every pair,
/// and a listwise softmax cross-entropy over each group (positive first) or a binary
/// cross-entropy on every pair gives the loss. `Trainer` runs the loop; the saved model is a
/// sentence-transformers 6.x `CrossEncoder` folder.
public final class CrossEncoderTask: TrainingTask {
    public let base: CrossEncoder
    public let data: TrainingData
    public let options: CrossEncoderOptions
    /// The parameters being trained: a copy of the base model's, head included.
    public let parameters: BertParameters
    /// The model being trained: the base model's tokenizer and settings around `parameters`.
    public let model: CrossEncoder
    private var sampler: GroupSampler
    private let passageIds: [String]
    private var step: CrossEncoderStep?

    /// - Throws: `TrainingError.invalidOption` for an empty training set or bad options.
    public init(base: CrossEncoder, data: TrainingData, options: CrossEncoderOptions) throws {
        guard !data.queryIds.isEmpty else { throw TrainingError.invalidOption("no training query has a relevant passage in the collection") }
        guard options.batchSize >= 1 else { throw TrainingError.invalidOption("--batch-size must be positive") }
        guard options.groupSize >= 2 else { throw TrainingError.invalidOption("--group-size must be at least 2 (a positive and a negative)") }
        guard options.maxLength >= 3 else { throw TrainingError.invalidOption("--max-length must be at least 3 ([CLS], [SEP], [SEP])") }
        guard options.posWeight > 0, options.posWeight.isFinite else { throw TrainingError.invalidOption("--pos-weight must be positive") }
        guard data.passages.count >= options.groupSize else {
            throw TrainingError.invalidOption("the collection has \(data.passages.count) passages, fewer than --group-size \(options.groupSize)")
        }
        self.base = base
        self.data = data
        self.options = options
        parameters = base.parameters.copy()
        model = base.with(parameters: parameters, maxLength: options.maxLength)
        sampler = GroupSampler(batchSize: options.batchSize, groupSize: options.groupSize, seed: options.seed)
        passageIds = data.passages.keys.sorted()
    }

    public var parameterVectors: [BertParameters] { [parameters] }
    public var optimizerPrefixes: [String] { [""] }
    public var samplerState: GroupSampler {
        get { sampler }
        set { sampler = newValue }
    }
    public var examplesPerStep: Int { options.batchSize }
    public var baseModelPath: String { base.directory?.path ?? "" }

    /// The loss of `options` as a function of a `[groups, groupSize]` logit matrix whose
    /// positive is column 0 (the groups' negatives exclude every relevant passage).
    func makeLoss() -> @Sendable (ScoreMatrix) -> Double {
        switch options.loss {
        case .listwise:
            let loss = ListwiseCrossEntropyLoss()
            return { scores in
                guard let targets = try? PositiveSets(Array(repeating: [0], count: scores.rows), candidateCount: scores.columns) else {
                    preconditionFailure("groups of at least one pair")
                }
                return loss.lossAndGradient(overwriting: scores, targets: targets)
            }
        case .bce:
            let loss = BinaryCrossEntropyLoss(posWeight: options.posWeight)
            return { scores in
                var labels = [Float](repeating: 0, count: scores.rows * scores.columns)
                for row in 0..<scores.rows { labels[row * scores.columns] = 1 }
                guard let targets = try? BinaryLabels(values: labels, rows: scores.rows, columns: scores.columns) else {
                    preconditionFailure("labels of 0 and 1 in the scores' shape")
                }
                return loss.lossAndGradient(overwriting: scores, targets: targets)
            }
        }
    }

    public func step(_ index: Int, gradient: UnsafeMutablePointer<Float>) throws -> (loss: Float, timings: StepTimings) {
        let started = DispatchTime.now().uptimeNanoseconds
        let batch = sampler.next(data, passageIds: passageIds)
        let groups = zip(batch.queries, batch.groups).map { query, group in
            model.tokenize(pairs: group.map { (query: query, passage: data.passages[$0] ?? "") })
        }
        let tokenized = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let step = self.step ?? CrossEncoderStep(model: model, chunkSize: options.chunkSize, threads: options.threads)
        self.step = step
        var (value, timings) = step.run(groups: groups, loss: makeLoss(), gradient: gradient)
        timings.tokenize = tokenized
        return (value, timings)
    }

    public func saveModel(to folder: ModelFolder) throws {
        try folder.write(model, parameters: parameters)
    }

    public func restoreModel(from folder: ModelFolder) throws {
        let weights = try SafeTensorsFile(url: folder.file(ModelFolder.weightsFile))
        let restored = try BertParameters(file: weights, layout: parameters.layout)
        parameters.values.update(from: restored.values, count: parameters.layout.count)
    }
}
