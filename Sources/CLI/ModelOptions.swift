import ArgumentParser
import DensekitEncoder
import Foundation

/// Where the model comes from, and how to run it; shared by every command that encodes.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model folder (default: $DENSEKIT_MODEL, else ~/.cache/densekit/models/all-MiniLM-L6-v2).")
    var model: String?

    @Option(name: .long, help: "Pooling for folders without modules.json: mean, cls, max, mean_sqrt_len.")
    var pooling: PoolingConfiguration.Mode?

    @Flag(name: .long, help: "With --pooling: L2-normalize the pooled vectors.")
    var normalize = false

    @Option(name: .long, help: "Sequences per forward pass.")
    var batchSize = 32

    @Option(name: .long, help: "Truncate texts to this many tokens (default: the model's max_seq_length).")
    var maxLength: Int?

    @Option(name: .long, help: "Worker threads (default: $DENSEKIT_THREADS, else one per core).")
    var threads: Int?

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let maxLength, maxLength < 2 { throw ValidationError("--max-length must be at least 2 ([CLS] and [SEP])") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
        if normalize && pooling == nil { throw ValidationError("--normalize goes with --pooling") }
    }

    /// The model folder to use.
    var directory: URL { URL(fileURLWithPath: model ?? ModelOptions.defaultModelPath) }

    /// `$DENSEKIT_MODEL`, else the cache folder that scripts/fetch-model.sh fills.
    static var defaultModelPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["DENSEKIT_MODEL"], !path.isEmpty { return path }
        let cache = environment["DENSEKIT_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/densekit"
        return cache + "/models/all-MiniLM-L6-v2"
    }

    /// The one model that the command runs; a two-tower folder is refused with the way out.
    func loadEncoder() throws -> SentenceEncoder {
        try checkExists()
        if try ModelFolder(directory).kind() == .twoTowers {
            throw ValidationError("\(directory.path) is a two-tower model; pass --model \(directory.appendingPathComponent(DualEncoder.queryFolder).path) for queries or \(directory.appendingPathComponent(DualEncoder.passageFolder).path) for passages")
        }
        return try loadDualEncoder().query
    }

    /// The query and passage encoders: a two-tower folder's towers, or one model for both; a
    /// cross-encoder is refused (it embeds nothing).
    func loadDualEncoder() throws -> DualEncoder {
        try checkExists()
        return try ModelFolder(directory).loadDualEncoder(pooling: poolingOverride)
    }

    private var poolingOverride: PoolingConfiguration? { pooling.map { PoolingConfiguration(mode: $0, normalize: normalize) } }

    private func checkExists() throws {
        if model == nil && !FileManager.default.fileExists(atPath: directory.path) {
            throw ValidationError("no model at \(directory.path); pass --model DIR or run scripts/fetch-model.sh")
        }
    }

    var encodeOptions: EncodeOptions { EncodeOptions(batchSize: batchSize, threads: threads, maxLength: maxLength) }
}

extension PoolingConfiguration.Mode: ExpressibleByArgument {}
