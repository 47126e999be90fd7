import DensekitCorpus
import DensekitLosses

/// The loss of an XMC run (its raw value is the CLI's and the checkpoint's name).
public enum XMCLossKind: String, Codable, Sendable, CaseIterable {
    /// DEXML's decoupled softmax: every positive label competes only with negatives.
    case decoupledSoftmax = "decoupled-softmax"
    /// DEXML's soft top-k: the positives pushed into a soft top `topK`.
    case softTopK = "soft-topk"
    /// InfoNCE on one positive drawn per document and step, the others masked.
    case infonce
}

/// Which labels a step scores its documents against.
public enum XMCLabelNegatives: String, Codable, Sendable, CaseIterable {
    /// Every label (DEXML's dist-de-all): exact, for label sets up to some thousands.
    case all
    /// The batch's own positive labels, plus hard negatives drawn from each document's
    /// shortlist, its nearest labels under the model as it was at the last refresh (DEXML's
    /// dist-de-hnm): for label sets too large to score whole.
    case shortlist
}

/// Settings of an XMC training run (documents as queries, labels as passages, DEXML's setting);
/// saved with every checkpoint, and checked on resume. The CLI's defaults, declared once.
@dynamicMemberLookup
public struct XMCOptions: TaskOptions {
    public var loop = LoopOptions()
    public var loss = XMCLossKind.decoupledSoftmax
    /// Cosine similarity scale (DEXML: 1 / 0.05).
    public var scale: Float = 20
    /// Soft top-k's k and sharpness (DEXML's defaults 5 and 2).
    public var topK = 5
    public var topKAlpha = 2.0
    /// Documents per step; every label is a candidate of every step.
    public var batchSize = 32
    /// Sequences per forward/backward chunk and worker (GradCache beyond that).
    public var chunkSize = 64
    public var documentMaxLength = 128
    public var labelMaxLength = 32
    public var labelText = LabelTextKind.nameAndText
    /// A label tower apart from the document tower (both start as the base model).
    public var separateTowers = false
    public var labelNegatives = XMCLabelNegatives.all
    /// Shortlist: nearest labels kept per document (DEXML: 100).
    public var shortlistDepth = 100
    /// Shortlist: hard negative labels drawn per document and step.
    public var hardLabels = 4
    /// Shortlist: steps between refreshes (the first is made before step 0).
    public var shortlistEvery = 1000

    public init() {}

    public subscript<Value>(dynamicMember path: WritableKeyPath<LoopOptions, Value>) -> Value {
        get { loop[keyPath: path] }
        set { loop[keyPath: path] = newValue }
    }

    /// The loss these options name.
    public func makeLoss() -> any ContrastiveLoss {
        let similarity = Similarity.cosine(scale: scale)
        switch loss {
        case .decoupledSoftmax: return DecoupledSoftmaxLoss(similarity: similarity)
        case .softTopK: return SoftTopKLoss(similarity: similarity, k: topK, alpha: topKAlpha)
        case .infonce: return InfoNCELoss(similarity: similarity)
        }
    }
}
