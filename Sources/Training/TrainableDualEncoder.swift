import DensekitEncoder
import DensekitTensor
import Foundation

/// A dual encoder being trained: copies of a base model's weights, one encoder shared by both
/// sides or two towers trained apart (each with its own AdamW moments), and the model around
/// them. Retrieval (queries and passages) and XMC (documents and labels) train through it alike.
public struct TrainableDualEncoder {
    /// The parameters being trained: the shared encoder's, or the query (document) tower's then
    /// the passage (label) tower's.
    public let towers: [BertParameters]
    /// The base model's tokenizers and settings around `towers`.
    public let model: DualEncoder

    /// Copies `base`'s weights; a tied model gives both towers its weights when `separateTowers`.
    /// - Throws: `TrainingError.invalidOption` for a two-tower base without `separateTowers`, or
    ///   towers of different architectures.
    public init(base: DualEncoder, separateTowers: Bool) throws {
        guard base.isTied || separateTowers else {
            throw TrainingError.invalidOption("\(base.directory?.path ?? "the base model") has separate query and passage towers; train it with --separate-towers")
        }
        guard base.query.encoder.parameters.layout.count == base.passage.encoder.parameters.layout.count else {
            throw TrainingError.invalidOption("the query and passage towers have different architectures")
        }
        func copy(_ encoder: SentenceEncoder) -> (BertParameters, SentenceEncoder) {
            let parameters = encoder.encoder.parameters.copy()
            return (parameters, SentenceEncoder(tokenizer: encoder.tokenizer, parameters: parameters, pooling: encoder.pooling,
                                                maxLength: encoder.maxLength, lowercaseInput: encoder.lowercaseInput, directory: encoder.directory))
        }
        if separateTowers {
            let (queryParameters, query) = copy(base.query), (passageParameters, passage) = copy(base.passage)
            towers = [queryParameters, passageParameters]
            model = try DualEncoder(query: query, passage: passage, directory: base.directory)
        } else {
            let (parameters, shared) = copy(base.query)
            towers = [parameters]
            model = DualEncoder(tied: shared)
        }
    }

    public var isTied: Bool { towers.count == 1 }

    /// AdamW names of each tower's moments in `optimizer.safetensors`.
    public var optimizerPrefixes: [String] { Array(["", "passage."].prefix(towers.count)) }

    /// A contrastive step over these towers.
    public func contrastiveStep(chunkSize: Int, threads: Int, recomputesLayers: Bool = false) -> ContrastiveStep {
        ContrastiveStep(towers: isTied ? [model.query.encoder] : [model.query.encoder, model.passage.encoder],
                        pooling: model.query.pooling, chunkSize: chunkSize, threads: threads, recomputesLayers: recomputesLayers)
    }

    /// The model as it is now: a sentence-transformers folder, or a two-tower folder
    /// (`query_model/`, `passage_model/`, `towers.json`; see `DualEncoder`).
    public func save(to folder: ModelFolder) throws {
        if isTied {
            try model.query.save(to: folder.url, parameters: towers[0])
        } else {
            try model.save(to: folder.url, queryParameters: towers[0], passageParameters: towers[1])
        }
    }

    /// Loads the weights `save` wrote into the towers.
    public func restore(from folder: ModelFolder) throws {
        for (index, tower) in towers.enumerated() {
            let modelFolder = isTied ? folder : ModelFolder(folder.file(index == 0 ? DualEncoder.queryFolder : DualEncoder.passageFolder))
            let weights = try SafeTensorsFile(url: modelFolder.file(ModelFolder.weightsFile))
            let restored = try BertParameters(file: weights, layout: tower.layout)
            tower.values.update(from: restored.values, count: tower.layout.count)
        }
    }
}
