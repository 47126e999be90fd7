import DensekitCorpus
import DensekitEncoder
import DensekitTensor

/// XMC prediction with a dual encoder: every label embedded once, each document's top k labels
/// by cosine (inner product of the normalised embeddings) — one GEMM per block of documents
/// (`ExactSearch`), not a loop over labels.
public struct LabelPredictor {
    public let encoder: SentenceEncoder
    public let labels: LabelSet
    private let index: ExactSearch

    /// Embeds every label as `labelText` says (as the model was trained).
    public init(encoder: SentenceEncoder, labels: LabelSet, labelText: LabelTextKind, labelMaxLength: Int, options: EncodeOptions = EncodeOptions()) {
        self.encoder = encoder
        self.labels = labels
        var labelOptions = options
        labelOptions.maxLength = labelMaxLength
        let embedded = encoder.encode((0..<labels.count).map { labels.text($0, as: labelText) }, options: labelOptions)
        index = ExactSearch(dimension: embedded.dimension)
        embedded.values.withUnsafeBufferPointer { index.add($0.baseAddress!, count: embedded.count) }
    }

    /// Each text's `k` best labels, best first, with their scores.
    public func predict(_ texts: [String], k: Int, options: EncodeOptions = EncodeOptions(), progress: (Int) -> Void = { _ in }) -> [[(label: String, score: Float)]] {
        var results: [[(label: String, score: Float)]] = []
        results.reserveCapacity(texts.count)
        let k = min(k, labels.count), chunk = 1024
        var start = 0
        while start < texts.count {
            let end = min(start + chunk, texts.count)
            let embedded = encoder.encode(Array(texts[start..<end]), options: options)
            let (scores, ids) = embedded.values.withUnsafeBufferPointer { index.search($0.baseAddress!, count: end - start, k: k) }
            for row in 0..<(end - start) {
                results.append((0..<k).map { (labels.labels[Int(ids[row * k + $0])], scores[row * k + $0]) })
            }
            start = end
            progress(start)
        }
        return results
    }
}
