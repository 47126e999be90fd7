import Foundation

extension SentenceEncoder {
    /// Writes this encoder as a sentence-transformers folder that densekit and
    /// sentence-transformers both load: config.json, model.safetensors (Hugging Face tensor
    /// names, F32), the tokenizer files and sentence-transformers configuration copied from the
    /// folder the model was loaded from, modules.json, 1_Pooling/config.json and
    /// sentence_bert_config.json written from the current settings.
    ///
    /// - Parameter parameters: the values to save (e.g. trained ones); default, the encoder's.
    public func save(to folder: URL, parameters: BertParameters? = nil) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
        let parameters = parameters ?? encoder.parameters
        let c = configuration
        if let directory, directory.standardizedFileURL != folder.standardizedFileURL {
            for name in ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json",
                         "config_sentence_transformers.json"] {
                let source = directory.appendingPathComponent(name), target = folder.appendingPathComponent(name)
                guard fileManager.fileExists(atPath: source.path) else { continue }
                if fileManager.fileExists(atPath: target.path) { try fileManager.removeItem(at: target) }
                try fileManager.copyItem(at: source, to: target)
            }
        }
        if !fileManager.fileExists(atPath: folder.appendingPathComponent("config.json").path) {
            let config: [String: Any] = [
                "architectures": ["BertModel"], "model_type": c.modelType, "vocab_size": c.vocabularySize,
                "hidden_size": c.hiddenSize, "num_hidden_layers": c.layerCount, "num_attention_heads": c.headCount,
                "intermediate_size": c.intermediateSize, "max_position_embeddings": c.maxPositions,
                "type_vocab_size": c.typeVocabularySize, "layer_norm_eps": Double(c.layerNormEpsilon), "hidden_act": c.activation.rawValue,
                "position_embedding_type": "absolute", "pad_token_id": 0,
            ]
            try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: folder.appendingPathComponent("config.json"))
        }
        var tensors = parameters.layout.slots.map { slot in
            SafeTensorsWriter.Tensor(name: slot.name, shape: slot.shape,
                                     values: UnsafeBufferPointer(start: parameters.values + slot.offset, count: slot.count))
        }
        // Tensors of the original file that the encoder does not use (BERT's pooler head) are
        // carried over unchanged, so that Hugging Face loads the folder without "newly
        // initialized" warnings.
        var extras: [UnsafeMutableBufferPointer<Float>] = []
        defer { for buffer in extras { buffer.deallocate() } }
        if let directory {
            let original = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
            let known = Set(parameters.layout.slots.map(\.name))
            for (name, info) in original.tensors.sorted(by: { $0.key < $1.key })
            where [.f32, .f16, .bf16].contains(info.dtype) && !known.contains(name) && !known.contains(where: { name.hasSuffix("." + $0) }) {
                let values = try original.floats(name)
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
                _ = buffer.initialize(from: values)
                extras.append(buffer)
                tensors.append(SafeTensorsWriter.Tensor(name: name, shape: info.shape, values: UnsafeBufferPointer(buffer)))
            }
        }
        try SafeTensorsWriter.write(tensors, to: folder.appendingPathComponent("model.safetensors"))

        var modules: [[String: Any]] = [
            ["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
            ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
        ]
        if pooling.normalize { modules.append(["idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"]) }
        try JSONSerialization.data(withJSONObject: modules, options: [.prettyPrinted]).write(to: folder.appendingPathComponent("modules.json"))
        let poolingFolder = folder.appendingPathComponent("1_Pooling")
        try fileManager.createDirectory(at: poolingFolder, withIntermediateDirectories: true)
        let poolingConfig: [String: Any] = [
            "word_embedding_dimension": dimension,
            "pooling_mode_cls_token": pooling.mode == .cls, "pooling_mode_mean_tokens": pooling.mode == .mean,
            "pooling_mode_max_tokens": pooling.mode == .max, "pooling_mode_mean_sqrt_len_tokens": pooling.mode == .meanSqrtLength,
        ]
        try JSONSerialization.data(withJSONObject: poolingConfig, options: [.prettyPrinted, .sortedKeys]).write(to: poolingFolder.appendingPathComponent("config.json"))
        if pooling.normalize {
            try fileManager.createDirectory(at: folder.appendingPathComponent("2_Normalize"), withIntermediateDirectories: true)
        }
        let sbert: [String: Any] = ["max_seq_length": maxLength, "do_lower_case": lowercaseInput]
        try JSONSerialization.data(withJSONObject: sbert, options: [.prettyPrinted, .sortedKeys]).write(to: folder.appendingPathComponent("sentence_bert_config.json"))
    }
}
