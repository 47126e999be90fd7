import DensekitCorpus
import DensekitEncoder
import DensekitLosses
import DensekitTensor
import DensekitTokenizer
import Foundation

/// Extreme multi-label classification with a dual encoder (DEXML, Gupta et al. 2024): documents
/// are the queries, labels the passages, through one encoder or (`options.separateTowers`) a
/// document tower and a label tower (DualEncoder's query and passage towers). Every step draws a
/// batch of documents and scores them against *every* label (593 for debtags: the "all labels"
/// setting, GradCache keeping memory to a chunk), so each document's negatives are all the
/// labels it does not carry; or, for label sets too large for that, against the batch's labels
/// and hard ones from each document's `LabelShortlist` (dist-de-hnm). One `ContrastiveStep`;
/// `Trainer` runs the loop.
public final class XMCTask: TrainingTask {
    public let base: DualEncoder
    public let documents: [LabeledDocument]
    public let labels: LabelSet
    public let options: XMCOptions
    /// The weights being trained: one encoder, or the document tower then the label tower.
    public let trainable: TrainableDualEncoder
    /// Where shortlists are kept (`step-NNNNNN.shortlist`), with `labelNegatives` shortlist.
    public let shortlistDirectory: URL?
    /// The shortlist the current steps draw from.
    public private(set) var shortlist: LabelShortlist?
    private var sampler: DocumentSampler
    private let loss: any ContrastiveLoss
    /// Each document's label positions in `labels`.
    private let positives: [[Int]]
    private var contrastive: ContrastiveStep?
    private var labelTokens: [Encoding]?

    /// - Parameter shortlistDirectory: where shortlists are written and, on resume, read back
    ///   (needed with `labelNegatives` shortlist; the CLI uses OUT/label-shortlists).
    /// - Throws: `TrainingError.invalidOption` for no documents, a label the set lacks, or bad options.
    public init(base: DualEncoder, documents: [LabeledDocument], labels: LabelSet, options: XMCOptions, shortlistDirectory: URL? = nil) throws {
        guard !documents.isEmpty else { throw TrainingError.invalidOption("no training document") }
        if options.labelNegatives == .shortlist {
            guard shortlistDirectory != nil else { throw TrainingError.invalidOption("a shortlist run needs a folder for its shortlists") }
            guard options.shortlistDepth >= 1, options.hardLabels >= 0, options.shortlistEvery >= 1 else {
                throw TrainingError.invalidOption("--shortlist-depth and --shortlist-every must be positive, --hard-labels 0 or more")
            }
        }
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
        trainable = try TrainableDualEncoder(base: base, separateTowers: options.separateTowers)
        self.shortlistDirectory = shortlistDirectory
        sampler = DocumentSampler(batchSize: options.batchSize, seed: options.seed)
        loss = options.makeLoss()
    }

    public var model: DualEncoder { trainable.model }
    public var parameterVectors: [BertParameters] { trainable.towers }
    public var optimizerPrefixes: [String] { trainable.optimizerPrefixes }
    public var samplerState: DocumentSampler {
        get { sampler }
        set { sampler = newValue }
    }
    public var examplesPerStep: Int { options.batchSize }
    public var baseModelPath: String { base.directory?.path ?? "" }

    public func step(_ index: Int, gradient: UnsafeMutablePointer<Float>) throws -> (loss: Float, timings: StepTimings) {
        if options.labelNegatives == .shortlist { try refreshShortlistIfDue(before: index) }
        let started = DispatchTime.now().uptimeNanoseconds
        let batch = sampler.next(documentCount: documents.count, positives: { self.positives[$0].count })
        let model = trainable.model
        let queries = model.query.tokenize(batch.map { documents[$0.document].text }, maxLength: options.documentMaxLength)
        // Label texts do not change: tokenized once.
        let labelTokens = self.labelTokens ?? model.passage.tokenize((0..<labels.count).map { labels.text($0, as: options.labelText) },
                                                                     maxLength: options.labelMaxLength)
        self.labelTokens = labelTokens
        // The drawn positive first (InfoNCE's target), then the document's others.
        let lists = batch.map { draw in
            let all = positives[draw.document]
            return [all[draw.target]] + all.enumerated().filter { $0.offset != draw.target }.map(\.element)
        }
        let candidates: [Encoding], candidatePositives: [[Int]]
        switch options.labelNegatives {
        case .all:
            (candidates, candidatePositives) = (labelTokens, lists)
        case .shortlist:
            guard let shortlist else { throw TrainingError.checkpoint("no label shortlist before step \(index)") }
            let chosen = Self.shortlistCandidates(positives: lists, shortlists: batch.map { shortlist.labels(of: $0.document) },
                                                  hard: options.hardLabels, random: &sampler.random)
            (candidates, candidatePositives) = (chosen.labels.map { labelTokens[$0] }, chosen.positives)
        }
        let tokenized = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let contrastive = self.contrastive ?? trainable.contrastiveStep(chunkSize: options.chunkSize, threads: options.threads)
        self.contrastive = contrastive
        let value = try contrastive.run(queries: queries, candidates: candidates, positives: candidatePositives, loss: loss, gradient: gradient)
        var timings = contrastive.lastTimings
        timings.tokenize = tokenized
        return (value, timings)
    }

    /// The labels a shortlist step scores: each document's positives, then `hard` labels drawn
    /// from its shortlist (its own positives excluded, without repeats), each label once.
    /// `positives` lists label positions; the result's `positives` lists candidate positions.
    public static func shortlistCandidates(positives: [[Int]], shortlists: [ArraySlice<Int32>], hard: Int,
                                           random: inout RandomSource) -> (labels: [Int], positives: [[Int]]) {
        var labels: [Int] = [], position: [Int: Int] = [:]
        func candidate(_ label: Int) -> Int {
            if let known = position[label] { return known }
            position[label] = labels.count
            labels.append(label)
            return labels.count - 1
        }
        let mapped = positives.map { $0.map(candidate) }
        for (own, shortlist) in zip(positives, shortlists) {
            var pool = shortlist.map(Int.init).filter { $0 >= 0 && !own.contains($0) }
            for drawn in 0..<min(hard, pool.count) {
                pool.swapAt(drawn, Int.random(in: drawn..<pool.count, using: &random))
                _ = candidate(pool[drawn])
            }
        }
        return (labels, mapped)
    }

    /// Shortlists land before steps 0, `every`, `2 every`, ...: before step `index` the
    /// shortlist must be the one made at `(index / every) * every`: made now when that is
    /// `index`, else (a resumed run) read back from the folder.
    private func refreshShortlistIfDue(before index: Int) throws {
        guard let directory = shortlistDirectory else { return }
        let due = index / options.shortlistEvery * options.shortlistEvery
        guard shortlist?.step != due else { return }
        let file = directory.appendingPathComponent(String(format: "step-%06d.shortlist", due))
        if due == index {
            let started = Date()
            let made = LabelShortlist.compute(step: due, model: trainable.model, documents: documents.map(\.text),
                                              labels: (0..<labels.count).map { labels.text($0, as: options.labelText) },
                                              depth: options.shortlistDepth, documentMaxLength: options.documentMaxLength,
                                              labelMaxLength: options.labelMaxLength, threads: options.threads)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try made.save(to: file)
            shortlist = made
            lastShortlistSeconds = Date().timeIntervalSince(started)
            log(String(format: "label shortlist at step %d: the %d nearest of %d labels for %d documents in %.1f s",
                       due, made.depth, labels.count, documents.count, lastShortlistSeconds ?? 0))
        } else {
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw TrainingError.checkpoint("\(file.path) is missing: the shortlist made at step \(due) is needed to resume at step \(index)")
            }
            shortlist = try LabelShortlist.load(from: file)
        }
    }

    /// Where shortlist refreshes are reported.
    public var log: (String) -> Void = { _ in }

    /// Seconds the last shortlist refresh took (embedding every document and label, searching).
    public private(set) var lastShortlistSeconds: Double?

    public func saveModel(to folder: ModelFolder) throws { try trainable.save(to: folder) }

    public func restoreModel(from folder: ModelFolder) throws { try trainable.restore(from: folder) }
}

/// Draws XMC batches: epochs over the documents in a seeded order; per document, which of its
/// labels is the target this step (InfoNCE's; the other losses use them all).
public struct DocumentSampler: Codable, Sendable, Equatable {
    public let batchSize: Int
    /// The sampler's random stream (also the shortlist's hard-label draws), saved with it.
    public var random: RandomSource
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
