/// Helpers shared by several test targets: seeded random numbers and tiny random models.
import DensekitEncoder
import DensekitTensor
import Foundation

/// The seeded generator tests use, so random test models are the same on every run.
public typealias SeededGenerator = RandomSource

/// Tiny random BERT models for tests that must not depend on downloaded weights.
public enum TinyModel {
    public static let configuration = BertConfiguration(
        vocabularySize: 40, hiddenSize: 24, layerCount: 2, headCount: 3, intermediateSize: 40,
        maxPositions: 32, typeVocabularySize: 2, layerNormEpsilon: 1e-12)

    public static func parameters(seed: UInt64 = 7, configuration: BertConfiguration = configuration) -> BertParameters {
        var generator = SeededGenerator(seed: seed)
        return BertParameters(randomFor: BertLayout(configuration), scale: 0.3, using: &generator)
    }

    /// A fresh empty folder (`TestScratch`: removed when the test process exits).
    public static func temporaryFolder() throws -> URL { try TestScratch.folder("test") }
}

extension TinyModel {
    /// Words of the tiny vocabulary, after the five special tokens.
    public static let words = ["the", "cat", "sat", "on", "mat", "dog", "ran", "a", "big", "red", "##s", "##ed", ",", ".", "!",
                        "fast", "slow", "house", "tree", "blue", "green", "under", "over", "and", "or", "not", "is",
                        "was", "##ing", "run", "walk", "small", "day", "night", "sun"]
    public static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words

    /// Writes a complete sentence-transformers folder for the tiny model: config.json,
    /// model.safetensors, vocab.txt, tokenizer_config.json, modules.json, 1_Pooling/config.json
    /// and sentence_bert_config.json.
    @discardableResult
    public static func writeFolder(at folder: URL, parameters: BertParameters = parameters(), pooling: String = "pooling_mode_mean_tokens",
                            normalize: Bool = true, maxSeqLength: Int = 16) throws -> URL {
        let c = parameters.layout.configuration
        try writeConfigOnly(at: folder, configuration: c)
        let tensors = parameters.layout.slots.map { slot in
            SafeTensorsWriter.Tensor(name: slot.name, shape: slot.shape,
                                     values: UnsafeBufferPointer(start: parameters.values + slot.offset, count: slot.count))
        }
        try SafeTensorsWriter.write(tensors, to: folder.appendingPathComponent("model.safetensors"))
        try (vocabulary.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        try #"{"do_lower_case": true, "tokenize_chinese_chars": true, "strip_accents": null}"#
            .write(to: folder.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        var modules = #"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},"#
            + #"{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}"#
        if normalize { modules += #",{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}"# }
        try (modules + "]").write(to: folder.appendingPathComponent("modules.json"), atomically: true, encoding: .utf8)
        let poolingFolder = folder.appendingPathComponent("1_Pooling")
        try FileManager.default.createDirectory(at: poolingFolder, withIntermediateDirectories: true)
        try "{\"word_embedding_dimension\": \(c.hiddenSize), \"\(pooling)\": true}"
            .write(to: poolingFolder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try "{\"max_seq_length\": \(maxSeqLength), \"do_lower_case\": false}"
            .write(to: folder.appendingPathComponent("sentence_bert_config.json"), atomically: true, encoding: .utf8)
        return folder
    }
}

extension TinyModel {
    /// Overwrites only config.json (to make it disagree with the weights).
    public static func writeConfigOnly(at folder: URL, configuration c: BertConfiguration) throws {
        let config: [String: Any] = [
            "model_type": c.modelType, "vocab_size": c.vocabularySize, "hidden_size": c.hiddenSize,
            "num_hidden_layers": c.layerCount, "num_attention_heads": c.headCount, "intermediate_size": c.intermediateSize,
            "max_position_embeddings": c.maxPositions, "type_vocab_size": c.typeVocabularySize,
            "layer_norm_eps": Double(c.layerNormEpsilon), "hidden_act": c.activation.rawValue,
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
    }
}
