/// Where each BERT parameter lives inside one flat `Float` vector.
///
/// Keeping all parameters (and, when training, all gradients and optimizer moments) in one
/// contiguous vector with a fixed layout makes optimizer steps, gradient norms and checkpoint
/// writes single loops, and lets the forward pass use raw pointers without per-tensor lookups.
///
/// Linear weights keep PyTorch's `[out, in]` row-major layout and are applied as `x W^T`.
/// Query, key and value projections are stored back to back, so together they form one
/// `[3h, h]` matrix (and `[3h]` bias) for a single GEMM, while each remains a contiguous
/// `[h, h]` block under its Hugging Face name.
///
/// Parameters come in named blocks: the encoder body (embeddings and layers), then, for a
/// sequence-classification model (a cross-encoder), the pooler and the classifier head. The
/// body and pooler are `BertModel`'s tensors (`bert.`-prefixed inside
/// `BertForSequenceClassification`); the classifier is the task head's own.
public struct BertLayout: Sendable {
    /// Which part of the model a tensor belongs to.
    public enum Block: String, Sendable, CaseIterable {
        /// Embeddings and transformer layers: `BertModel` without its pooler.
        case encoder
        /// `pooler.dense`: `tanh(W h_[CLS] + b)`.
        case pooler
        /// `classifier`: `[labels, h]` weights on the pooled vector.
        case classifier
    }

    /// One named tensor: its Hugging Face name (within `BertModel` for the encoder and pooler
    /// blocks), shape, block and position in the flat vector.
    public struct Slot: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public let block: Block
        public var count: Int { shape.reduce(1, *) }
    }

    /// Offsets of a classification head: pooler then classifier (see `ClassificationHead`).
    public struct Head: Sendable, Equatable {
        public let poolerWeight: Int, poolerBias: Int
        public let classifierWeight: Int, classifierBias: Int
        /// Rows of the classifier: 1 for a reranker's relevance score.
        public let labelCount: Int
    }

    /// Offsets of one transformer layer's parameters.
    public struct Layer: Sendable {
        public let qkvWeight: Int, qkvBias: Int
        public let attentionOutputWeight: Int, attentionOutputBias: Int
        public let attentionNormGamma: Int, attentionNormBeta: Int
        public let intermediateWeight: Int, intermediateBias: Int
        public let outputWeight: Int, outputBias: Int
        public let outputNormGamma: Int, outputNormBeta: Int
    }

    public let configuration: BertConfiguration
    /// Every tensor in Hugging Face naming, in storage order.
    public let slots: [Slot]
    public let wordEmbeddings: Int, positionEmbeddings: Int, tokenTypeEmbeddings: Int
    public let embeddingNormGamma: Int, embeddingNormBeta: Int
    public let layers: [Layer]
    /// The pooler and classifier, for a sequence-classification model; nil for a plain encoder.
    public let head: Head?
    /// Total number of parameters.
    public let count: Int

    /// The layout of every parameter of a model with configuration `c`, in Hugging Face order;
    /// with `classifierLabels`, a pooler and a classifier of that many labels follow the body.
    public init(_ c: BertConfiguration, classifierLabels: Int? = nil) {
        let h = c.hiddenSize, i = c.intermediateSize
        var slots: [Slot] = []
        var next = 0
        var block = Block.encoder
        func add(_ name: String, _ shape: [Int]) -> Int {
            let slot = Slot(name: name, shape: shape, offset: next, block: block)
            slots.append(slot)
            next += slot.count
            return slot.offset
        }
        configuration = c
        wordEmbeddings = add("embeddings.word_embeddings.weight", [c.vocabularySize, h])
        positionEmbeddings = add("embeddings.position_embeddings.weight", [c.maxPositions, h])
        tokenTypeEmbeddings = add("embeddings.token_type_embeddings.weight", [c.typeVocabularySize, h])
        embeddingNormGamma = add("embeddings.LayerNorm.weight", [h])
        embeddingNormBeta = add("embeddings.LayerNorm.bias", [h])
        var layers: [Layer] = []
        for index in 0..<c.layerCount {
            let p = "encoder.layer.\(index)."
            let qkvWeight = add(p + "attention.self.query.weight", [h, h])
            _ = add(p + "attention.self.key.weight", [h, h])
            _ = add(p + "attention.self.value.weight", [h, h])
            let qkvBias = add(p + "attention.self.query.bias", [h])
            _ = add(p + "attention.self.key.bias", [h])
            _ = add(p + "attention.self.value.bias", [h])
            layers.append(Layer(
                qkvWeight: qkvWeight, qkvBias: qkvBias,
                attentionOutputWeight: add(p + "attention.output.dense.weight", [h, h]),
                attentionOutputBias: add(p + "attention.output.dense.bias", [h]),
                attentionNormGamma: add(p + "attention.output.LayerNorm.weight", [h]),
                attentionNormBeta: add(p + "attention.output.LayerNorm.bias", [h]),
                intermediateWeight: add(p + "intermediate.dense.weight", [i, h]),
                intermediateBias: add(p + "intermediate.dense.bias", [i]),
                outputWeight: add(p + "output.dense.weight", [h, i]),
                outputBias: add(p + "output.dense.bias", [h]),
                outputNormGamma: add(p + "output.LayerNorm.weight", [h]),
                outputNormBeta: add(p + "output.LayerNorm.bias", [h])))
        }
        self.layers = layers
        if let labels = classifierLabels {
            block = .pooler
            let poolerWeight = add("pooler.dense.weight", [h, h]), poolerBias = add("pooler.dense.bias", [h])
            block = .classifier
            head = Head(poolerWeight: poolerWeight, poolerBias: poolerBias,
                        classifierWeight: add("classifier.weight", [labels, h]), classifierBias: add("classifier.bias", [labels]),
                        labelCount: labels)
        } else {
            head = nil
        }
        self.slots = slots
        count = next
    }

    /// The slots of `block`, in storage order.
    public func slots(in block: Block) -> [Slot] { slots.filter { $0.block == block } }

    /// The parameter ranges AdamW does not decay: every bias and layer-norm parameter, as in
    /// Hugging Face's trainer and sentence-transformers' `fit`.
    public var noWeightDecay: [Range<Int>] {
        slots.filter { $0.name.hasSuffix(".bias") || $0.name.contains("LayerNorm") }.map { $0.offset..<($0.offset + $0.count) }
    }
}
