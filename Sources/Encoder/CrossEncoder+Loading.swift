import DensekitTensor
import DensekitTokenizer
import Foundation

extension CrossEncoder {
    /// Loads a cross-encoder folder: Hugging Face `BertForSequenceClassification` files
    /// (`config.json`, `model.safetensors` with `bert.*` or bare encoder names, `bert.pooler.dense`,
    /// `classifier`), the tokenizer, and sentence-transformers' settings of any generation:
    /// 6.x `config_sentence_transformers.json` (`activation_fn`) and `sentence_bert_config.json`
    /// (`max_seq_length`, `do_lower_case`); 4.x/5.x `config.json` → `sentence_transformers.activation_fn`;
    /// older `sbert_ce_default_activation_function`. Default activation: sigmoid (one label).
    static func load(_ folder: ModelFolder) throws(ModelError) -> CrossEncoder {
        let body = try Body(folder)
        let weights = try SafeTensorsFile(url: folder.file(ModelFolder.weightsFile))
        guard let classifier = weights.tensors["classifier.weight"] else { throw .missingTensor(path: weights.path, name: "classifier.weight") }
        guard classifier.shape.count == 2, classifier.shape[0] == 1 else {
            throw .unsupported(path: weights.path, reason: "classifier.weight has shape \(classifier.shape); densekit's cross-encoders score one label ([1, hidden])")
        }
        let parameters = try BertParameters(file: weights, layout: BertLayout(body.configuration, classifierLabels: 1))
        return CrossEncoder(tokenizer: body.tokenizer, parameters: parameters, maxLength: body.maxLength,
                            lowercaseInput: body.lowercaseInput, activation: try activation(of: folder), directory: folder.url)
    }

    /// A new cross-encoder on the body of a sentence encoder or `BertModel` folder (a
    /// two-tower folder's query tower), as `CrossEncoder(model_name, num_labels=1)` makes one: the
    /// pooler is the checkpoint's when it has one, else initialised like the classifier;
    /// classifier weights ~ N(0, initializer_range²) (config.json, default 0.02), biases 0;
    /// seeded, so a run is reproducible. Activation: sigmoid.
    public static func starting(from folder: ModelFolder, maxLength: Int? = nil, seed: UInt64) throws(ModelError) -> CrossEncoder {
        var source = folder
        switch try folder.kind() {
        case .crossEncoder: return try load(folder).with(maxLength: maxLength)
        case .twoTowers: source = try DualEncoder.towerFolders(folder).query
        case .sentenceEncoder: break
        }
        let body = try Body(source)
        let weights = try SafeTensorsFile(url: source.file(ModelFolder.weightsFile))
        let prefix = try BertParameters.bodyPrefix(in: weights)
        let parameters = BertParameters(layout: BertLayout(body.configuration, classifierLabels: 1))
        var random = RandomSource(seed: seed)
        let std = Float(try JSONFields(path: source.file("config.json").path, object: readJSONObject(source.file("config.json")))
            .double("initializer_range", default: 0.02))
        for slot in parameters.layout.slots {
            if slot.block != .classifier, weights.tensors[BertParameters.fileName(of: slot, prefix: prefix)] != nil {
                try parameters.read(slot, from: weights, prefix: prefix)
            } else if slot.block == .encoder {
                throw .missingTensor(path: weights.path, name: BertParameters.fileName(of: slot, prefix: prefix))
            } else {
                let isBias = slot.name.hasSuffix(".bias")
                for k in 0..<slot.count { parameters.values[slot.offset + k] = isBias ? 0 : random.normal(std: std) }
            }
        }
        return CrossEncoder(tokenizer: body.tokenizer, parameters: parameters, maxLength: maxLength ?? body.maxLength,
                            lowercaseInput: body.lowercaseInput, activation: .sigmoid, directory: source.url)
    }

    /// What every BERT folder gives: configuration, tokenizer, truncation length and casing.
    struct Body {
        let configuration: BertConfiguration
        let tokenizer: WordPieceTokenizer
        let maxLength: Int
        let lowercaseInput: Bool

        init(_ folder: ModelFolder) throws(ModelError) {
            try folder.checkExists()
            configuration = try BertConfiguration(url: folder.file("config.json"))
            do { tokenizer = try WordPieceTokenizer.load(modelDirectory: folder.url) } catch { throw .tokenizer("\(error)") }
            guard tokenizer.vocabularySize <= configuration.vocabularySize else {
                throw .invalidConfiguration(path: folder.path, reason: "the tokenizer has \(tokenizer.vocabularySize) tokens but config.json's vocab_size is \(configuration.vocabularySize)")
            }
            // sentence-transformers' order: sentence_bert_config.json's max_seq_length, else the
            // tokenizer's model_max_length (6.x cross-encoders keep it only there), capped at
            // the model's positions.
            var maxLength = configuration.maxPositions, lowercase = false
            var fromSettings = false
            if let sbert = try folder.optionalJSON("sentence_bert_config.json") {
                let fields = JSONFields(path: folder.file("sentence_bert_config.json").path, object: sbert)
                lowercase = try fields.bool("do_lower_case", default: false)
                if sbert["max_seq_length"] != nil {
                    maxLength = try fields.int("max_seq_length")
                    fromSettings = true
                    guard maxLength > 0, maxLength <= configuration.maxPositions else {
                        throw .invalidConfiguration(path: fields.path, reason: "max_seq_length \(maxLength) must lie in 1...\(configuration.maxPositions) (max_position_embeddings of config.json)")
                    }
                }
            }
            if !fromSettings, let tokenizerConfig = try folder.optionalJSON("tokenizer_config.json"),
               let limit = tokenizerConfig["model_max_length"] as? Int, limit > 0 {
                maxLength = min(limit, maxLength)
            }
            self.maxLength = maxLength
            lowercaseInput = lowercase
        }
    }

    /// The activation the folder's sentence-transformers settings name; sigmoid when none does.
    static func activation(of folder: ModelFolder) throws(ModelError) -> Activation {
        var named: (String, String)?
        if let settings = try folder.optionalJSON("config_sentence_transformers.json"), let name = settings["activation_fn"] as? String {
            named = (name, "config_sentence_transformers.json")
        } else if let config = try folder.optionalJSON("config.json") {
            if let block = config["sentence_transformers"] as? [String: Any], let name = block["activation_fn"] as? String {
                named = (name, "config.json")
            } else if let name = config["sbert_ce_default_activation_function"] as? String {
                named = (name, "config.json")
            }
        }
        guard let (name, file) = named else { return .sigmoid }
        guard let activation = Activation(torchName: name) else {
            throw .unsupported(path: folder.file(file).path, reason: "activation_fn '\(name)'; densekit applies Sigmoid or Identity")
        }
        return activation
    }
}
