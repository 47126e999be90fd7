import DensekitTensor
import DensekitTokenizer
import Foundation

/// Text in, sentence embedding out: tokenizer + BERT encoder + pooling (+ normalisation),
/// loaded from a sentence-transformers / Hugging Face model folder.
///
/// `encode` tokenizes all texts, sorts them by token length, cuts the sorted list into
/// batches and lets one worker per core run whole batches (each with single-threaded BLAS and
/// its own reused buffers). Results come back in input order. Thread-safe.
public final class SentenceEncoder: @unchecked Sendable {
    /// The folder the model was loaded from (nil for models built in memory).
    public let directory: URL?
    public let tokenizer: WordPieceTokenizer
    public let encoder: BertEncoder
    public let pooling: PoolingConfiguration
    /// Default truncation length in tokens, `max_seq_length` of `sentence_bert_config.json`.
    public let maxLength: Int
    /// sentence-transformers' `do_lower_case`: lower-case texts before tokenizing.
    public let lowercaseInput: Bool
    /// Floating-point parameters in the weights file, as Hugging Face counts them (this
    /// includes tensors the encoder does not use, such as BERT's pooler head).
    public let storedParameterCount: Int

    public var configuration: BertConfiguration { encoder.configuration }
    /// Width of the embeddings.
    public var dimension: Int { configuration.hiddenSize }

    private let workspaces = WorkspacePool()

    /// Assembles an encoder from parts (tests use tiny random models).
    public init(tokenizer: WordPieceTokenizer, parameters: BertParameters, pooling: PoolingConfiguration,
                maxLength: Int, lowercaseInput: Bool = false, directory: URL? = nil, storedParameterCount: Int? = nil) {
        self.tokenizer = tokenizer
        self.storedParameterCount = storedParameterCount ?? parameters.layout.count
        self.encoder = BertEncoder(parameters: parameters)
        self.pooling = pooling
        self.maxLength = min(maxLength, parameters.layout.configuration.maxPositions)
        self.lowercaseInput = lowercaseInput
        self.directory = directory
    }

    /// Loads a model folder: `config.json`, `model.safetensors`, `vocab.txt` and/or
    /// `tokenizer.json`, `modules.json` with its Pooling (and Normalize) modules, and
    /// `sentence_bert_config.json` when present.
    ///
    /// - Parameter pooling: required when the folder has no `modules.json` (a plain Hugging
    ///   Face folder); overrides the folder's pooling otherwise.
    public static func load(directory: URL, pooling override: PoolingConfiguration? = nil) throws(ModelError) -> SentenceEncoder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .missingFile(path: directory.path, need: "model folder")
        }
        let configuration = try BertConfiguration(url: directory.appendingPathComponent("config.json"))
        let pooling: PoolingConfiguration
        if let override { pooling = override } else { pooling = try PoolingConfiguration(directory: directory) }

        var maxLength = configuration.maxPositions
        var lowercaseInput = false
        let sbertURL = directory.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: sbertURL.path) {
            let fields = JSONFields(path: sbertURL.path, object: try readJSONObject(sbertURL))
            maxLength = try fields.int("max_seq_length", default: maxLength)
            lowercaseInput = try fields.bool("do_lower_case", default: false)
            guard maxLength > 0, maxLength <= configuration.maxPositions else {
                throw .invalidConfiguration(path: sbertURL.path, reason: "max_seq_length \(maxLength) must lie in 1...\(configuration.maxPositions) (max_position_embeddings of config.json)")
            }
        }

        let tokenizer: WordPieceTokenizer
        do { tokenizer = try WordPieceTokenizer.load(modelDirectory: directory) } catch {
            throw .tokenizer("\(error)")
        }
        guard tokenizer.vocabularySize <= configuration.vocabularySize else {
            throw .invalidConfiguration(path: directory.path, reason: "the tokenizer has \(tokenizer.vocabularySize) tokens but config.json's vocab_size is \(configuration.vocabularySize)")
        }

        let weights = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
        let parameters = try BertParameters(file: weights, layout: BertLayout(configuration))
        return SentenceEncoder(tokenizer: tokenizer, parameters: parameters, pooling: pooling,
                               maxLength: maxLength, lowercaseInput: lowercaseInput, directory: directory,
                               storedParameterCount: weights.parameterCount)
    }

    /// Token ids for each text, truncated to `maxLength` (default: the model's).
    public func tokenize(_ texts: [String], maxLength: Int? = nil) -> [Encoding] {
        let limit = min(maxLength ?? self.maxLength, configuration.maxPositions)
        return tokenizer.encodeBatch(lowercaseInput ? texts.map { $0.lowercased() } : texts, maxLength: limit)
    }

    /// Embeds `texts`; row `i` of the result belongs to `texts[i]`.
    ///
    /// - Parameter progress: called after each batch with the number of texts done so far
    ///   (from worker threads, one call at a time).
    public func encode(_ texts: [String], options: EncodeOptions = EncodeOptions(),
                       progress: (@Sendable (Int) -> Void)? = nil) -> Embeddings {
        encode(tokenized: tokenize(texts, maxLength: options.maxLength), options: options, progress: progress)
    }

    /// Embeds already tokenized sequences.
    public func encode(tokenized: [Encoding], options: EncodeOptions = EncodeOptions(),
                       progress: (@Sendable (Int) -> Void)? = nil) -> Embeddings {
        let width = dimension, encoder = self.encoder, pooling = self.pooling
        let values = BatchRunner.run(tokenized, options: options, width: width, workspaces: workspaces, progress: progress) { batch, workspace, rows in
            let hidden = encoder.forward(batch, workspace: workspace)
            pooling.pool(hidden: hidden, batch: batch, width: width, into: rows)
        }
        return Embeddings(count: tokenized.count, dimension: width, values: values)
    }
}

