import ArgumentParser
import DensekitEncoder
import Foundation

/// `densekit model ...`: inspect models.
struct Model: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect model folders.",
        subcommands: [Info.self])

    /// `densekit model info DIR`.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a model's architecture, pooling, dimension and size.")

        @Argument(help: "Model folder (default: as for --model elsewhere).")
        var directory: String?

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() throws {
            let path = directory ?? ModelOptions.defaultModelPath
            let encoder = try SentenceEncoder.load(directory: URL(fileURLWithPath: path))
            let c = encoder.configuration
            let fields: [(String, String)] = [
                ("path", path),
                ("architecture", "\(c.modelType): \(c.layerCount) layers, hidden \(c.hiddenSize), \(c.headCount) heads, FFN \(c.intermediateSize) (\(c.activation.rawValue))"),
                ("vocabulary", "\(encoder.tokenizer.vocabularySize) tokens (config vocab_size \(c.vocabularySize))"),
                ("pooling", encoder.pooling.mode.rawValue),
                ("normalized", encoder.pooling.normalize ? "yes" : "no"),
                ("dimension", "\(encoder.dimension)"),
                ("max length", "\(encoder.maxLength) tokens (positions \(c.maxPositions))"),
                ("parameters", "\(encoder.storedParameterCount) (\(encoder.encoder.parameters.layout.count) in the encoder)"),
            ]
            if json {
                let object: [String: Any] = [
                    "path": path, "model_type": c.modelType, "layers": c.layerCount, "hidden_size": c.hiddenSize,
                    "heads": c.headCount, "intermediate_size": c.intermediateSize, "activation": c.activation.rawValue,
                    "vocab_size": c.vocabularySize, "pooling": encoder.pooling.mode.rawValue, "normalize": encoder.pooling.normalize,
                    "dimension": encoder.dimension, "max_seq_length": encoder.maxLength, "parameters": encoder.storedParameterCount,
                    "encoder_parameters": encoder.encoder.parameters.layout.count,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for (key, value) in fields { print(key.padding(toLength: 14, withPad: " ", startingAt: 0) + value) }
            }
        }
    }
}
