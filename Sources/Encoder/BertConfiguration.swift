import Foundation

/// The architecture of a BERT-family encoder, read from a Hugging Face `config.json`.
public struct BertConfiguration: Sendable, Equatable {
    /// Activation of the feed-forward block.
    public enum Activation: String, Sendable {
        /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`: Hugging Face's "gelu".
        case gelu
        /// ReLU, for models that use it.
        case relu
    }

    public var modelType: String
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    public var activation: Activation

    /// Width of one attention head.
    public var headSize: Int { hiddenSize / headCount }

    /// Creates a configuration directly (tests build tiny random models this way).
    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
        maxPositions: Int = 512, typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12,
        activation: Activation = .gelu, modelType: String = "bert"
    ) {
        self.modelType = modelType
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation
    }

    /// Reads and checks `config.json`; defaults are those of `transformers.BertConfig`.
    public init(url: URL) throws(ModelError) {
        let fields = JSONFields(path: url.path, object: try readJSONObject(url))
        modelType = try fields.string("model_type", default: "bert")
        // Architectures that share BERT's weights and math; RoBERTa-style models offset their
        // positions by the padding index, which this encoder does not do, so they are refused.
        guard ["bert", "minilm"].contains(modelType) else {
            throw .unsupported(path: url.path, reason: "model_type '\(modelType)'; densekit runs BERT-family encoders (model_type bert)")
        }
        let positionType = try fields.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw .unsupported(path: url.path, reason: "position_embedding_type '\(positionType)'; only 'absolute' is implemented")
        }
        vocabularySize = try fields.int("vocab_size")
        hiddenSize = try fields.int("hidden_size")
        layerCount = try fields.int("num_hidden_layers")
        headCount = try fields.int("num_attention_heads")
        intermediateSize = try fields.int("intermediate_size")
        maxPositions = try fields.int("max_position_embeddings", default: 512)
        typeVocabularySize = try fields.int("type_vocab_size", default: 2)
        layerNormEpsilon = Float(try fields.double("layer_norm_eps", default: 1e-12))
        let act = try fields.string("hidden_act", default: "gelu")
        guard let activation = Activation(rawValue: act) else {
            throw .unsupported(path: url.path, reason: "hidden_act '\(act)'; densekit implements 'gelu' (erf) and 'relu'")
        }
        self.activation = activation
        for (name, value) in [("vocab_size", vocabularySize), ("hidden_size", hiddenSize), ("num_hidden_layers", layerCount),
                              ("num_attention_heads", headCount), ("intermediate_size", intermediateSize),
                              ("max_position_embeddings", maxPositions), ("type_vocab_size", typeVocabularySize)] {
            guard value > 0 else { throw .invalidConfiguration(path: url.path, reason: "'\(name)' must be positive, found \(value)") }
            // Sizes feed allocations before any weight is read: an absurd one is an error here,
            // not an overflow or an out-of-memory kill later.
            guard let limit = Self.limits[name], value <= limit else {
                throw .invalidConfiguration(path: url.path, reason: "'\(name)' is \(value); densekit accepts at most \(Self.limits[name] ?? 0)")
            }
        }
        guard layerNormEpsilon.isFinite, layerNormEpsilon > 0 else {
            throw .invalidConfiguration(path: url.path, reason: "'layer_norm_eps' must be a positive number, found \(layerNormEpsilon)")
        }
        guard hiddenSize % headCount == 0 else {
            throw .invalidConfiguration(path: url.path, reason: "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
    }

    /// The largest size densekit accepts for each config.json field, far above any BERT-family
    /// model published (BERT-large: hidden 1,024, 24 layers, intermediate 4,096, vocabulary 30,522).
    public static let limits: [String: Int] = [
        "vocab_size": 4_000_000, "hidden_size": 16_384, "num_hidden_layers": 256, "num_attention_heads": 1_024,
        "intermediate_size": 131_072, "max_position_embeddings": 131_072, "type_vocab_size": 1_024,
    ]

    /// Multiply-add FLOPs (2 per multiply-add) to encode one sequence of `length` tokens.
    public func flops(length: Int) -> Double {
        let h = Double(hiddenSize), i = Double(intermediateSize), l = Double(length)
        let linear = 2 * l * (4 * h * h + 2 * h * i)
        let attention = 2 * 2 * l * l * h
        return Double(layerCount) * (linear + attention)
    }
}
