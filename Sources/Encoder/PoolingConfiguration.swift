import Foundation

/// How token vectors become one sentence vector, as sentence-transformers configures it.
///
/// Read from `modules.json` (which modules run, in order) and the Pooling module's
/// `config.json`. Pooling is never guessed: a folder without `modules.json` needs an explicit
/// choice (`ModelFolder.loadDualEncoder(pooling:)`, `--pooling` on the command line).
public struct PoolingConfiguration: Sendable, Equatable {
    /// The reduction over a sequence's token vectors.
    public enum Mode: String, Sendable, CaseIterable {
        /// Average of all token vectors (incl. [CLS] and [SEP]).
        case mean
        /// The [CLS] token's vector.
        case cls
        /// Element-wise maximum over tokens.
        case max
        /// Sum of token vectors divided by sqrt(length).
        case meanSqrtLength = "mean_sqrt_len"
    }

    public var mode: Mode
    /// Whether a Normalize module follows pooling (unit L2 norm; cosine = dot product).
    public var normalize: Bool

    /// An explicit choice (for folders without modules.json, or tests).
    public init(mode: Mode, normalize: Bool) {
        self.mode = mode
        self.normalize = normalize
    }

    /// Reads `modules.json` in `directory` and the Pooling module's configuration.
    public init(directory: URL) throws(ModelError) {
        let modulesURL = directory.appendingPathComponent("modules.json")
        let data = try readJSONData(modulesURL, need: "sentence-transformers module list; without it, choose pooling explicitly")
        guard let modules = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
            throw .unreadable(path: modulesURL.path, reason: "expected a JSON array of module objects")
        }
        var mode: Mode?
        var normalize = false
        for (position, module) in modules.enumerated() {
            let type = module["type"] as? String ?? ""
            let shortType = type.split(separator: ".").last.map(String.init) ?? type
            switch shortType {
            case "Transformer":
                guard position == 0 else {
                    throw .unsupported(path: modulesURL.path, reason: "the Transformer module must come first")
                }
            case "Pooling":
                let folder = module["path"] as? String ?? ""
                mode = try Self.readPoolingMode(directory.appendingPathComponent(folder).appendingPathComponent("config.json"))
            case "Normalize":
                normalize = true
            default:
                throw .unsupported(path: modulesURL.path, reason: "module \(position) of type '\(type)'; densekit runs Transformer, Pooling and Normalize")
            }
        }
        guard let mode else {
            throw .invalidConfiguration(path: modulesURL.path, reason: "no sentence_transformers.models.Pooling module listed")
        }
        self.mode = mode
        self.normalize = normalize
    }

    private static func readPoolingMode(_ url: URL) throws(ModelError) -> Mode {
        let object = try readJSONObject(url)
        // sentence-transformers 6 writes one string, `"pooling_mode": "mean"`; earlier versions
        // one boolean per mode.
        if let named = object["pooling_mode"] as? String {
            switch named {
            case "mean": return .mean
            case "cls": return .cls
            case "max": return .max
            case "mean_sqrt_len", "mean_sqrt_len_tokens": return .meanSqrtLength
            default:
                throw .unsupported(path: url.path, reason: "pooling_mode '\(named)'; densekit implements cls, mean, max and mean_sqrt_len pooling")
            }
        }
        let fields = JSONFields(path: url.path, object: object)
        let flags: [(String, Mode?)] = [
            ("pooling_mode_cls_token", .cls), ("pooling_mode_mean_tokens", .mean),
            ("pooling_mode_max_tokens", .max), ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength),
            ("pooling_mode_weightedmean_tokens", nil), ("pooling_mode_lasttoken", nil),
        ]
        var chosen: [(String, Mode?)] = []
        for flag in flags where try fields.bool(flag.0, default: false) { chosen.append(flag) }
        guard chosen.count == 1, let only = chosen.first else {
            let names = chosen.map(\.0).joined(separator: ", ")
            throw .unsupported(path: url.path, reason: chosen.isEmpty ? "no pooling mode is enabled" : "several pooling modes enabled together (\(names))")
        }
        guard let mode = only.1 else {
            throw .unsupported(path: url.path, reason: "\(only.0); densekit implements cls, mean, max and mean_sqrt_len pooling")
        }
        return mode
    }
}
