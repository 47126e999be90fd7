import DensekitTensor
import DensekitTokenizer
import Foundation

/// A cross-encoder: reads a query and a passage together (`[CLS] q [SEP] p [SEP]`) and returns
/// one relevance score, `BertForSequenceClassification` with one label.
///
/// `score = activation(logit)`, `logit = ClassificationHead(BertEncoder(pair))`. The activation
/// is what sentence-transformers' `CrossEncoder.predict` applies: sigmoid by default for one
/// label, or identity when the folder says so. Ranking uses the logit (the same order).
/// Thread-safe; inference runs batches on one worker per core like `SentenceEncoder`.
public final class CrossEncoder: @unchecked Sendable {
    /// The function applied to the logit by `scores` (sentence-transformers' `activation_fn`).
    public enum Activation: String, Sendable, CaseIterable {
        case sigmoid, identity

        /// The PyTorch class sentence-transformers names in its configuration.
        public var torchName: String {
            switch self {
            case .sigmoid: "torch.nn.modules.activation.Sigmoid"
            case .identity: "torch.nn.modules.linear.Identity"
            }
        }

        /// The activation a sentence-transformers configuration names (by its class name, so
        /// `torch.nn.Sigmoid` and `torch.nn.modules.activation.Sigmoid` both count), or nil.
        public init?(torchName: String) {
            switch torchName.split(separator: ".").last {
            case "Sigmoid": self = .sigmoid
            case "Identity": self = .identity
            default: return nil
            }
        }
    }

    /// The folder the model was loaded from (nil for models built in memory).
    public let directory: URL?
    public let tokenizer: WordPieceTokenizer
    public let encoder: BertEncoder
    public let head: ClassificationHead
    /// Pairs are truncated (longest first) to this many tokens.
    public let maxLength: Int
    /// Lower-case texts before tokenizing (sentence-transformers' `do_lower_case`).
    public let lowercaseInput: Bool
    public let activation: Activation

    public var parameters: BertParameters { encoder.parameters }
    public var configuration: BertConfiguration { encoder.configuration }

    private let workspaces = WorkspacePool()

    /// A cross-encoder from parts; `parameters` must have a classification head of one label.
    public init(tokenizer: WordPieceTokenizer, parameters: BertParameters, maxLength: Int, lowercaseInput: Bool = false,
                activation: Activation = .sigmoid, directory: URL? = nil) {
        guard let head = ClassificationHead(parameters: parameters) else { preconditionFailure("a cross-encoder's parameters need a classification head") }
        self.tokenizer = tokenizer
        self.encoder = BertEncoder(parameters: parameters)
        self.head = head
        self.maxLength = min(maxLength, parameters.layout.configuration.maxPositions)
        self.lowercaseInput = lowercaseInput
        self.activation = activation
        self.directory = directory
    }

    /// The same model with other parameter values (training's copy) or settings.
    public func with(parameters: BertParameters? = nil, maxLength: Int? = nil) -> CrossEncoder {
        CrossEncoder(tokenizer: tokenizer, parameters: parameters ?? self.parameters, maxLength: maxLength ?? self.maxLength,
                     lowercaseInput: lowercaseInput, activation: activation, directory: directory)
    }

    /// `[CLS] query [SEP] passage [SEP]` with segment ids 0 then 1, truncated longest-first to
    /// `maxLength` (default: the model's), as Hugging Face's tokenizer does for pairs.
    public func tokenize(pairs: [(query: String, passage: String)], maxLength: Int? = nil) -> [Encoding] {
        let limit = min(maxLength ?? self.maxLength, configuration.maxPositions)
        return pairs.map { pair in
            lowercaseInput ? tokenizer.encodePair(pair.query.lowercased(), pair.passage.lowercased(), maxLength: limit)
                : tokenizer.encodePair(pair.query, pair.passage, maxLength: limit)
        }
    }

    /// The logit of each tokenized pair (`labelCount` per pair, in input order).
    public func logits(tokenized: [Encoding], options: EncodeOptions = EncodeOptions(),
                       progress: (@Sendable (Int) -> Void)? = nil) -> [Float] {
        let encoder = self.encoder, head = self.head
        return BatchRunner.run(tokenized, options: options, width: head.labelCount, workspaces: workspaces, progress: progress) { batch, workspace, rows in
            let hidden = encoder.forward(batch, workspace: workspace)
            head.forward(hidden: hidden, batch: batch, activations: workspace.head, into: rows)
        }
    }

    /// The score of each (query, passage) pair: `activation(logit)`, what
    /// sentence-transformers' `CrossEncoder.predict` returns.
    public func scores(_ pairs: [(query: String, passage: String)], options: EncodeOptions = EncodeOptions(),
                       progress: (@Sendable (Int) -> Void)? = nil) -> [Double] {
        logits(tokenized: tokenize(pairs: pairs, maxLength: options.maxLength), options: options, progress: progress).map(score(logit:))
    }
}
