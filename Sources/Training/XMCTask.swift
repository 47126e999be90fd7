import DensekitCorpus
import DensekitEncoder
import DensekitLosses
import DensekitTensor
import DensekitTokenizer
import Foundation

/// Extreme multi-label classification with a dual encoder (DEXML, Gupta et al. 2024): documents
/// are the queries, labels the passages, both through one encoder. Every step draws a batch of
/// documents and scores them against *every* label (593 for debtags: the "all labels" setting,
/// GradCache keeping memory to a chunk), so each document's negatives are all the labels it
/// does not carry. One `ContrastiveStep`; `Trainer` runs the loop.
public final class XMCTask: TrainingTask {
    public let base: SentenceEncoder
    public let documents: [LabeledDocument]
    public let labels: LabelSet
    public let options: XMCOptions
    public let parameters: BertParameters
    public let model: SentenceEncoder
    private var sampler: DocumentSampler
    private let loss: any ContrastiveLoss
    /// Each document's label positions in `labels`.
    private let positives: [[Int]]
    private var contrastive: ContrastiveStep?
    private var labelTokens: [Encoding]?

    /// - Throws: `TrainingError.invalidOption` for no documents, a label the set lacks, or bad options.
    public init(base: SentenceEncoder, documents: [LabeledDocument], labels: LabelSet, options: XMCOptions) throws {
        guard !documents.isEmpty else { throw TrainingError.invalidOption("no training document") }
        guard options.batchSize >= 1 else { throw TrainingError.invalidOption("--batch-size must be positive") }
        if options.loss == .softTopK, options.topK >= labels.count {
            throw TrainingError.invalidOption("--top-k \(options.topK) must be below the number of labels (\(labels.count))")
        }
        positives = try documents.map { document in
            try document.labels.map { label in
                guard let index = labels.index(of: label) else { throw TrainingError.invalidOption("document '\(document.id)': label '\(label)' is not in the label set") }
                return index
            }
        }
        self.base = base
        self.documents = documents
        self.labels = labels
        self.options = options
        parameters = base.encoder.parameters.copy()
        model = SentenceEncoder(tokenizer: base.tokenizer, parameters: parameters, pooling: base.pooling,
                                maxLength: base.maxLength, lowercaseInput: base.lowercaseInput, directory: base.directory)
        sampler = DocumentSampler(batchSize: options.batchSize, seed: options.seed)
        loss = options.makeLoss()
    }

    public var parameterVectors: [BertParameters] { [parameters] }
    public var optimizerPrefixes: [String] { [""] }
    public var samplerState: DocumentSampler {
        get { sampler }
        set { sampler = newValue }
    }
    public var examplesPerStep: Int { options.batchSize }
    public var baseModelPath: String { base.directory?.path ?? "" }

    public func step(_ index: Int, gradient: UnsafeMutablePointer<Float>) throws -> (loss: Float, timings: StepTimings) {
        let started = DispatchTime.now().uptimeNanoseconds
        let batch = sampler.next(documentCount: documents.count, positives: { self.positives[$0].count })
        let queries = model.tokenize(batch.map { documents[$0.document].text }, maxLength: options.documentMaxLength)
        // Label texts do not change: tokenized once.
        let candidates = labelTokens ?? model.tokenize((0..<labels.count).map { labels.text($0, as: options.labelText) }, maxLength: options.labelMaxLength)
        labelTokens = candidates
        // The drawn positive first (InfoNCE's target), then the document's others.
        let lists = batch.map { draw in
            let all = positives[draw.document]
            return [all[draw.target]] + all.enumerated().filter { $0.offset != draw.target }.map(\.element)
        }
        let tokenized = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let contrastive = self.contrastive ?? ContrastiveStep(encoder: model.encoder, pooling: model.pooling, chunkSize: options.chunkSize,
                                                              threads: options.threads)
        self.contrastive = contrastive
        let value = try contrastive.run(queries: queries, candidates: candidates, positives: lists, loss: loss, gradient: gradient)
        var timings = contrastive.lastTimings
        timings.tokenize = tokenized
        return (value, timings)
    }

    public func saveModel(to folder: ModelFolder) throws {
        try model.save(to: folder.url, parameters: parameters)
    }

    public func restoreModel(from folder: ModelFolder) throws {
        let restored = try BertParameters(file: try SafeTensorsFile(url: folder.file(ModelFolder.weightsFile)), layout: parameters.layout)
        parameters.values.update(from: restored.values, count: parameters.layout.count)
    }
}

/// Draws XMC batches: epochs over the documents in a seeded order; per document, which of its
/// labels is the target this step (InfoNCE's; the other losses use them all).
public struct DocumentSampler: Codable, Sendable, Equatable {
    public let batchSize: Int
    public private(set) var random: RandomSource
    public private(set) var epoch = 0
    public private(set) var position = 0
    private var order: [Int] = []

    public init(batchSize: Int, seed: UInt64) {
        self.batchSize = batchSize
        random = RandomSource(seed: seed)
    }

    /// The next batch: documents and the index of each one's target among its labels.
    public mutating func next(documentCount: Int, positives: (Int) -> Int) -> [(document: Int, target: Int)] {
        let size = min(batchSize, documentCount)
        if order.isEmpty || position + size > order.count {
            if !order.isEmpty { epoch += 1 }
            order = Array(0..<documentCount)
            order.shuffle(using: &random)
            position = 0
        }
        let chosen = order[position..<(position + size)]
        position += size
        return chosen.map { ($0, Int.random(in: 0..<max(1, positives($0)), using: &random)) }
    }

    /// Batches per epoch.
    public func stepsPerEpoch(documentCount: Int) -> Int { max(1, documentCount / batchSize) }
}
