import DensekitTensor
import Foundation

/// A model on disk: the one place that knows what a model folder holds, how to load and save
/// each kind, how its weights are fingerprinted, and how training checkpoints are laid out.
/// Index, Search, Training and the CLI ask it and build no model paths of their own.
///
/// Kinds:
/// - a sentence encoder: a sentence-transformers folder (`modules.json`, Pooling) or a plain
///   Hugging Face `BertModel` folder (pooling chosen by the caller);
/// - two towers: `towers.json` naming a query and a passage sentence encoder (`DualEncoder`);
/// - a cross-encoder: `BertForSequenceClassification` weights, as Hugging Face and
///   sentence-transformers' `CrossEncoder` (4.x to 6.x) save them (`CrossEncoder`).
public struct ModelFolder: Sendable, Equatable {
    /// What a folder holds.
    public enum Kind: String, Sendable, CaseIterable {
        case sentenceEncoder = "sentence encoder"
        case twoTowers = "two towers"
        case crossEncoder = "cross-encoder"
    }

    /// The weights file of every kind but two towers (whose towers each have one).
    public static let weightsFile = "model.safetensors"
    /// Files of a training run's output folder: `checkpoint-STEP/` folders, each a model folder
    /// plus the trainer's state (written last) and the optimizer's moments.
    public static let checkpointPrefix = "checkpoint-", trainerStateFile = "trainer-state.json", optimizerFile = "optimizer.safetensors"

    public let url: URL

    /// The folder at `url` (not read until asked).
    public init(_ url: URL) { self.url = url }

    /// The folder's path, for messages.
    public var path: String { url.path }

    /// `url/name`.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// What the folder holds, from its configuration files.
    ///
    /// A cross-encoder is recognised by any of: `config_sentence_transformers.json` with
    /// `"model_type": "CrossEncoder"` (sentence-transformers 6.x), `sentence_bert_config.json` with
    /// `"transformer_task": "sequence-classification"`, a `"sentence_transformers"` block or
    /// `sbert_ce_default_activation_function` in `config.json` (4.x/5.x and older), or an
    /// architecture named `...ForSequenceClassification`.
    public func kind() throws(ModelError) -> Kind {
        try checkExists()
        if FileManager.default.fileExists(atPath: file(DualEncoder.towersFile).path) { return .twoTowers }
        if let settings = try optionalJSON("config_sentence_transformers.json"), settings["model_type"] as? String == "CrossEncoder" {
            return .crossEncoder
        }
        if let sbert = try optionalJSON("sentence_bert_config.json"), sbert["transformer_task"] as? String == "sequence-classification" {
            return .crossEncoder
        }
        if let config = try optionalJSON("config.json") {
            if config["sentence_transformers"] != nil || config["sbert_ce_default_activation_function"] != nil { return .crossEncoder }
            if let architectures = config["architectures"] as? [String], architectures.contains(where: { $0.hasSuffix("ForSequenceClassification") }) {
                return .crossEncoder
            }
        }
        return .sentenceEncoder
    }

    /// Fails unless the folder exists.
    public func checkExists() throws(ModelError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .missingFile(path: url.path, need: "model folder")
        }
    }

    /// The JSON object in `name`, or nil when the file does not exist.
    func optionalJSON(_ name: String) throws(ModelError) -> [String: Any]? {
        let location = file(name)
        guard FileManager.default.fileExists(atPath: location.path) else { return nil }
        return try readJSONObject(location)
    }

    // MARK: Loading

    /// The query and passage encoders: a two-tower folder's towers, or one sentence encoder as a
    /// tied pair. A cross-encoder is refused: it scores pairs and embeds nothing.
    public func loadDualEncoder(pooling: PoolingConfiguration? = nil) throws(ModelError) -> DualEncoder {
        switch try kind() {
        case .twoTowers: return try DualEncoder.loadTowers(self, pooling: pooling)
        case .sentenceEncoder: return DualEncoder(tied: try SentenceEncoder.load(directory: url, pooling: pooling))
        case .crossEncoder: throw .unsupported(path: url.path, reason: "this is a cross-encoder, which scores (query, passage) pairs; embedding needs a sentence encoder (use it with rerank)")
        }
    }

    /// The cross-encoder in this folder.
    public func loadCrossEncoder() throws(ModelError) -> CrossEncoder {
        guard try kind() == .crossEncoder else {
            throw .unsupported(path: url.path, reason: "not a cross-encoder (no sequence-classification head); train one with `densekit train cross --model \(url.path)`")
        }
        return try CrossEncoder.load(self)
    }

    // MARK: Identity

    /// What identifies the weights: CRC-32 and byte size of `model.safetensors`, or, for two
    /// towers, both towers' fingerprints. Different weights, different fingerprint.
    public func weightsFingerprint() throws -> String {
        if try kind() == .twoTowers {
            let pair = try DualEncoder.towerFolders(self)
            return "query \(try pair.query.weightsFingerprint()); passage \(try pair.passage.weightsFingerprint())"
        }
        let (crc, size) = try CRC32.file(file(Self.weightsFile).path)
        return String(format: "crc32:%08x,bytes:%d", crc, size)
    }

    // MARK: Checkpoints

    /// `output/checkpoint-STEP`.
    public static func checkpoint(step: Int, in output: URL) -> ModelFolder {
        ModelFolder(output.appendingPathComponent("\(checkpointPrefix)\(step)"))
    }

    /// The complete checkpoint with the highest step in `output` (one whose trainer state was
    /// written, which happens last), or nil.
    public static func latestCheckpoint(in output: URL) -> (step: Int, folder: ModelFolder)? {
        let fileManager = FileManager.default
        let steps = ((try? fileManager.contentsOfDirectory(atPath: output.path)) ?? []).compactMap { name -> Int? in
            guard name.hasPrefix(checkpointPrefix), let step = Int(name.dropFirst(checkpointPrefix.count)) else { return nil }
            return fileManager.fileExists(atPath: checkpoint(step: step, in: output).file(trainerStateFile).path) ? step : nil
        }
        return steps.max().map { ($0, checkpoint(step: $0, in: output)) }
    }
}
