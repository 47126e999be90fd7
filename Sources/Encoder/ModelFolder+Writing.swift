import DensekitTensor
import Foundation

extension ModelFolder {
    /// Tokenizer files copied from the folder a model was loaded from.
    static let tokenizerFiles = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]

    /// Writes `encoder` here as a sentence-transformers folder that densekit and
    /// sentence-transformers both load: config.json, model.safetensors (Hugging Face tensor
    /// names, F32), the tokenizer files and sentence-transformers configuration copied from the
    /// folder the model was loaded from, modules.json, 1_Pooling/config.json and
    /// sentence_bert_config.json written from the current settings.
    ///
    /// - Parameter parameters: the values to save (e.g. trained ones); default, the encoder's.
    public func write(_ encoder: SentenceEncoder, parameters: BertParameters? = nil) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: url, withIntermediateDirectories: true)
        let parameters = parameters ?? encoder.encoder.parameters
        try copy(Self.tokenizerFiles + ["config.json", "config_sentence_transformers.json"], from: encoder.directory)
        if !fileManager.fileExists(atPath: file("config.json").path) {
            try Self.writeJSON(Self.configuration(encoder.configuration, architecture: "BertModel"), to: file("config.json"))
        }
        // Tensors of the original file that the encoder does not use (BERT's pooler head) are
        // carried over unchanged, so that Hugging Face loads the folder without "newly
        // initialized" warnings.
        let original = try encoder.directory.map { try SafeTensorsFile(url: $0.appendingPathComponent(Self.weightsFile)) }
        try writeWeights(parameters, prefix: "", carryingOver: original)

        var modules: [[String: Any]] = [
            ["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
            ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
        ]
        let pooling = encoder.pooling
        if pooling.normalize { modules.append(["idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"]) }
        try Self.writeJSON(modules, to: file("modules.json"))
        let poolingFolder = file("1_Pooling")
        try fileManager.createDirectory(at: poolingFolder, withIntermediateDirectories: true)
        try Self.writeJSON([
            "word_embedding_dimension": encoder.dimension,
            "pooling_mode_cls_token": pooling.mode == .cls, "pooling_mode_mean_tokens": pooling.mode == .mean,
            "pooling_mode_max_tokens": pooling.mode == .max, "pooling_mode_mean_sqrt_len_tokens": pooling.mode == .meanSqrtLength,
        ], to: poolingFolder.appendingPathComponent("config.json"))
        if pooling.normalize {
            try fileManager.createDirectory(at: file("2_Normalize"), withIntermediateDirectories: true)
        }
        try Self.writeJSON(["max_seq_length": encoder.maxLength, "do_lower_case": encoder.lowercaseInput], to: file("sentence_bert_config.json"))
    }

    /// Writes `model` here as a cross-encoder folder in sentence-transformers 6.x's layout
    /// (which `CrossEncoder(folder)` of sentence-transformers 6.2 loads unchanged) plus the
    /// Hugging Face files (`BertForSequenceClassification.from_pretrained` loads it too):
    /// config.json, model.safetensors (`bert.*`, `bert.pooler.dense.*`, `classifier.*`), the
    /// tokenizer files, modules.json (one Transformer module), sentence_bert_config.json
    /// (`transformer_task` sequence-classification, `max_seq_length`) and
    /// config_sentence_transformers.json (`model_type` CrossEncoder, `activation_fn`).
    ///
    /// - Parameter parameters: the values to save (e.g. trained ones); default, the model's.
    public func write(_ model: CrossEncoder, parameters: BertParameters? = nil) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try copy(Self.tokenizerFiles, from: model.directory)
        var config = Self.configuration(model.configuration, architecture: "BertForSequenceClassification")
        if let directory = model.directory, let original = try ModelFolder(directory).optionalJSON("config.json") {
            // Keep what the original says (dropout, initializer range, ...), but as a 6.x folder.
            config = original.merging(["architectures": ["BertForSequenceClassification"]]) { $1 }
            config["sentence_transformers"] = nil
            config["sbert_ce_default_activation_function"] = nil
        }
        config["id2label"] = ["0": "LABEL_0"]
        config["label2id"] = ["LABEL_0": 0]
        try Self.writeJSON(config, to: file("config.json"))
        try writeWeights(parameters ?? model.parameters, prefix: "bert.", carryingOver: nil)
        try Self.writeJSON([["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"]],
                           to: file("modules.json"))
        var settings: [String: Any] = ["transformer_task": "sequence-classification", "max_seq_length": model.maxLength,
                                       "modality_config": ["text": ["method": "forward", "method_output_name": "logits"]],
                                       "module_output_name": "scores"]
        if model.lowercaseInput { settings["do_lower_case"] = true }
        try Self.writeJSON(settings, to: file("sentence_bert_config.json"))
        try Self.writeJSON(["model_type": "CrossEncoder", "activation_fn": model.activation.torchName, "prompts": [String: String](),
                            "default_prompt_name": NSNull(), "__version__": ["densekit": "1"]], to: file("config_sentence_transformers.json"))
    }

    /// Copies each of `names` that exists in `source` (skipped when `source` is this folder).
    func copy(_ names: [String], from source: URL?) throws {
        guard let source, source.standardizedFileURL != url.standardizedFileURL else { return }
        let fileManager = FileManager.default
        for name in names {
            let from = source.appendingPathComponent(name), to = file(name)
            guard fileManager.fileExists(atPath: from.path) else { continue }
            if fileManager.fileExists(atPath: to.path) { try fileManager.removeItem(at: to) }
            try fileManager.copyItem(at: from, to: to)
        }
    }

    /// Writes `parameters` to model.safetensors under Hugging Face names (`prefix` before the
    /// encoder's and pooler's, none before the classifier's), followed by the tensors of
    /// `original` that the layout does not hold.
    func writeWeights(_ parameters: BertParameters, prefix: String, carryingOver original: SafeTensorsFile?) throws {
        let tensors = parameters.layout.slots.map { slot in
            SafeTensorsWriter.Tensor(name: BertParameters.fileName(of: slot, prefix: prefix), shape: slot.shape,
                                     values: UnsafeBufferPointer(start: parameters.values + slot.offset, count: slot.count))
        }
        var extras: [(name: String, shape: [Int], values: [Float])] = []
        if let original {
            let known = Set(tensors.map(\.name) + parameters.layout.slots.map(\.name))
            for (name, info) in original.tensors.sorted(by: { $0.key < $1.key })
            where [.f32, .f16, .bf16].contains(info.dtype) && !known.contains(name) && !known.contains(where: { name.hasSuffix("." + $0) }) {
                extras.append((name, info.shape, try original.floats(name)))
            }
        }
        try withBufferPointers(extras.map(\.values)) { buffers in
            let carried = zip(extras, buffers).map { SafeTensorsWriter.Tensor(name: $0.name, shape: $0.shape, values: $1) }
            try SafeTensorsWriter.write(tensors + carried, to: file(Self.weightsFile))
        }
    }

    /// A Hugging Face `config.json` for `c`.
    static func configuration(_ c: BertConfiguration, architecture: String) -> [String: Any] {
        [
            "architectures": [architecture], "model_type": c.modelType, "vocab_size": c.vocabularySize,
            "hidden_size": c.hiddenSize, "num_hidden_layers": c.layerCount, "num_attention_heads": c.headCount,
            "intermediate_size": c.intermediateSize, "max_position_embeddings": c.maxPositions,
            "type_vocab_size": c.typeVocabularySize, "layer_norm_eps": Double(c.layerNormEpsilon), "hidden_act": c.activation.rawValue,
            "position_embedding_type": "absolute", "pad_token_id": 0, "initializer_range": 0.02,
        ]
    }

    static func writeJSON(_ object: Any, to location: URL) throws {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: location, options: .atomic)
    }
}

extension SentenceEncoder {
    /// Writes this encoder as a sentence-transformers folder (see `ModelFolder.write(_:parameters:)`).
    public func save(to folder: URL, parameters: BertParameters? = nil) throws {
        try ModelFolder(folder).write(self, parameters: parameters)
    }
}

extension CrossEncoder {
    /// Writes this cross-encoder as a sentence-transformers 6.x / Hugging Face folder (see
    /// `ModelFolder.write(_:parameters:)`).
    public func save(to folder: URL, parameters: BertParameters? = nil) throws {
        try ModelFolder(folder).write(self, parameters: parameters)
    }
}
