import DensekitEncoder
import DensekitTestSupport
import DensekitTokenizer
import Foundation
import Testing

/// Loading sentence-transformers folders: the happy path on a tiny random model, and every
/// broken-folder case a user meets, each of which must name the file at fault.
@Suite struct ModelFolderTests {
    let texts = ["The cat sat on the mat.", "a big red dog ran fast!", "", "night and day", "cats walked under the green tree",
                 "the the the the the the the the the the the the the the the the the the the the", "sun"]

    @Test func loadsTinyFolderAndEncodesLikeTheManualPipeline() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let encoder = try SentenceEncoder.load(directory: folder)
        #expect(encoder.pooling == PoolingConfiguration(mode: .mean, normalize: true))
        #expect(encoder.maxLength == 16)
        #expect(encoder.dimension == 24)

        let embeddings = encoder.encode(texts, options: EncodeOptions(batchSize: 3, threads: 2))
        #expect(embeddings.count == texts.count)
        // Recompute each text alone, by hand: tokenize, forward, mean, normalize.
        let bert = BertEncoder(parameters: TinyModel.parameters())
        let workspace = EncoderWorkspace()
        for (i, text) in texts.enumerated() {
            let encoding = encoder.tokenizer.encode(text, maxLength: 16)
            #expect(encoding.ids.count <= 16)
            var batch = TokenBatch()
            batch.append(ids: encoding.ids, typeIds: encoding.typeIds)
            let hidden = bert.forward(batch, workspace: workspace)
            var mean = [Double](repeating: 0, count: 24)
            for t in 0..<encoding.ids.count { for j in 0..<24 { mean[j] += Double(hidden[t * 24 + j]) / Double(encoding.ids.count) } }
            let norm = mean.map { $0 * $0 }.reduce(0, +).squareRoot()
            for j in 0..<24 { #expect(abs(Double(embeddings[i][j]) - mean[j] / norm) < 1e-5) }
        }
    }

    /// Sorting by length, batching and threads are invisible in the result.
    @Test(arguments: [(1, 1), (2, 2), (4, 1), (64, 2)])
    func resultsDoNotDependOnBatchingOrThreads(batchSize: Int, threads: Int) throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let encoder = try SentenceEncoder.load(directory: folder)
        let reference = encoder.encode(texts, options: EncodeOptions(batchSize: 1, threads: 1))
        let got = encoder.encode(texts, options: EncodeOptions(batchSize: batchSize, threads: threads))
        let worst = zip(reference.values, got.values).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-6)
    }

    @Test func emptyInputGivesEmptyMatrix() throws {
        let encoder = try SentenceEncoder.load(directory: TinyModel.writeFolder(at: TinyModel.temporaryFolder()))
        let result = encoder.encode([])
        #expect(result.count == 0 && result.dimension == 24 && result.values.isEmpty)
    }

    @Test func clsPoolingWithoutNormalize() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), pooling: "pooling_mode_cls_token", normalize: false)
        let encoder = try SentenceEncoder.load(directory: folder)
        #expect(encoder.pooling == PoolingConfiguration(mode: .cls, normalize: false))
    }

    @Test func missingConfigIsNamed() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        try FileManager.default.removeItem(at: folder.appendingPathComponent("config.json"))
        #expect(throws: ModelError.missingFile(path: folder.appendingPathComponent("config.json").path, need: "JSON file")) {
            try SentenceEncoder.load(directory: folder)
        }
    }

    @Test func missingFolderIsNamed() throws {
        let folder = try TinyModel.temporaryFolder().appendingPathComponent("nothing-here")
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains(folder.path) }
    }

    /// Pooling is never guessed: no modules.json means the caller must say.
    @Test func missingModulesJSONNeedsExplicitPooling() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        try FileManager.default.removeItem(at: folder.appendingPathComponent("modules.json"))
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("modules.json") }
        let explicit = try SentenceEncoder.load(directory: folder, pooling: PoolingConfiguration(mode: .max, normalize: false))
        #expect(explicit.pooling.mode == .max)
    }

    /// sentence-transformers 6 writes `"pooling_mode": "mean"` and longer module type names.
    @Test(arguments: [("mean", PoolingConfiguration.Mode.mean), ("cls", .cls), ("max", .max), ("mean_sqrt_len_tokens", .meanSqrtLength)])
    func sentenceTransformers6PoolingFormat(name: String, mode: PoolingConfiguration.Mode) throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        try "{\"embedding_dimension\": 24, \"pooling_mode\": \"\(name)\", \"include_prompt\": true}"
            .write(to: folder.appendingPathComponent("1_Pooling/config.json"), atomically: true, encoding: .utf8)
        try #"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.base.modules.transformer.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.sentence_transformer.modules.pooling.Pooling"},{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.base.modules.normalize.Normalize"}]"#
            .write(to: folder.appendingPathComponent("modules.json"), atomically: true, encoding: .utf8)
        #expect(try SentenceEncoder.load(directory: folder).pooling == PoolingConfiguration(mode: mode, normalize: true))
        try #"{"pooling_mode": "lasttoken"}"#.write(to: folder.appendingPathComponent("1_Pooling/config.json"), atomically: true, encoding: .utf8)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("lasttoken") }
    }

    @Test func severalPoolingModesAreRefused() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        try #"{"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true}"#
            .write(to: folder.appendingPathComponent("1_Pooling/config.json"), atomically: true, encoding: .utf8)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("1_Pooling/config.json") && "\($0)".contains("several") }
    }

    @Test func unknownModuleIsRefused() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        try #"[{"path":"","type":"sentence_transformers.models.Transformer"},{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"path":"2_Dense","type":"sentence_transformers.models.Dense"}]"#
            .write(to: folder.appendingPathComponent("modules.json"), atomically: true, encoding: .utf8)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("Dense") }
    }

    @Test func weightsOfAnotherShapeAreRefusedByName() throws {
        let folder = try TinyModel.temporaryFolder()
        let wider = BertConfiguration(vocabularySize: 40, hiddenSize: 24, layerCount: 2, headCount: 3, intermediateSize: 48, maxPositions: 32)
        try TinyModel.writeFolder(at: folder, parameters: TinyModel.parameters(configuration: wider))
        // Now claim the smaller intermediate size in config.json.
        try TinyModel.writeConfigOnly(at: folder, configuration: TinyModel.configuration)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { error in
            guard case let .shapeMismatch(_, name, expected, found) = error as? ModelError else { return false }
            return name == "encoder.layer.0.intermediate.dense.weight" && expected == [40, 24] && found == [48, 24]
        }
    }

    @Test func truncatedWeightsAreRefused() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let url = folder.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 100).write(to: url)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("model.safetensors") && "\($0)".contains("truncated") }
    }

    @Test func unsupportedArchitectureIsNamed() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        var config = TinyModel.configuration
        config.modelType = "roberta"
        try TinyModel.writeConfigOnly(at: folder, configuration: config)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("roberta") && "\($0)".contains("config.json") }
    }

    @Test func headsMustDivideHiddenSize() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        var config = TinyModel.configuration
        config.headCount = 5
        try TinyModel.writeConfigOnly(at: folder, configuration: config)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("num_attention_heads") }
    }

    @Test func maxSeqLengthBeyondPositionsIsRefused() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), maxSeqLength: 64)
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("sentence_bert_config.json") }
    }

    @Test func missingTokenizerFilesAreNamed() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        try FileManager.default.removeItem(at: folder.appendingPathComponent("vocab.txt"))
        #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("vocab.txt") || "\($0)".contains("tokenizer.json") }
    }
}


@Suite struct ModelSaveTests {
    /// A saved model loads back with the same settings and gives the same embeddings.
    @Test func savedFolderLoadsBackIdentically() throws {
        let source = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), pooling: "pooling_mode_cls_token", normalize: true)
        let encoder = try SentenceEncoder.load(directory: source)
        let target = try TinyModel.temporaryFolder().appendingPathComponent("saved")
        try encoder.save(to: target)
        let reloaded = try SentenceEncoder.load(directory: target)
        #expect(reloaded.pooling == encoder.pooling && reloaded.maxLength == encoder.maxLength)
        #expect(reloaded.configuration == encoder.configuration)
        let texts = ["the cat sat", "a big red dog"]
        #expect(reloaded.encode(texts).values == encoder.encode(texts).values)
    }

    /// Saving other parameter values (training) writes those values.
    @Test func savesGivenParameters() throws {
        let source = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let encoder = try SentenceEncoder.load(directory: source)
        let other = TinyModel.parameters(seed: 123)
        let target = try TinyModel.temporaryFolder()
        try encoder.save(to: target, parameters: other)
        let file = try SafeTensorsFile(url: target.appendingPathComponent("model.safetensors"))
        let slot = other.layout.slots[7]
        #expect(try file.floats(slot.name) == Array(UnsafeBufferPointer(start: other.values + slot.offset, count: slot.count)))
    }
}

extension ModelSaveTests {
    /// Tensors of the original weights that the encoder does not use (BERT's pooler head) are
    /// written back unchanged, so Hugging Face finds every weight it expects.
    @Test func unusedTensorsAreCarriedOver() throws {
        let source = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let parameters = TinyModel.parameters()
        let pooler: [Float] = (0..<(24 * 24)).map { Float($0) / 100 }
        var tensors = parameters.layout.slots.map { slot in
            SafeTensorsWriter.Tensor(name: slot.name, shape: slot.shape, values: UnsafeBufferPointer(start: parameters.values + slot.offset, count: slot.count))
        }
        try pooler.withUnsafeBufferPointer { buffer in
            tensors.append(.init(name: "pooler.dense.weight", shape: [24, 24], values: buffer))
            try SafeTensorsWriter.write(tensors, to: source.appendingPathComponent("model.safetensors"))
        }
        let encoder = try SentenceEncoder.load(directory: source)
        let target = try TinyModel.temporaryFolder()
        try encoder.save(to: target)
        let saved = try SafeTensorsFile(url: target.appendingPathComponent("model.safetensors"))
        #expect(try saved.floats("pooler.dense.weight") == pooler)
        #expect(saved.tensors.count == parameters.layout.slots.count + 1)
    }
}
