import DensekitEncoder
import Foundation

/// XMC prediction with a dual encoder (DEXML): the labels are an index folder (`TextIndex`,
/// embedded once by the label tower) searched with the documents' embeddings (document tower),
/// one FAISS search per block of documents, not a loop over labels; optionally fused with kNN
/// label voting from training documents (`KNNVoting`).
public final class LabelPredictor {
    /// The label index; its hits' ids are label names.
    public let labels: Searcher
    public let labelCount: Int
    public let voting: KNNVoting?
    /// Labels scored exactly outside the label search's shortlist (voted for by neighbours).
    private var labelVectors: [String: [Float]] = [:]

    public struct Prediction: Sendable, Equatable {
        public var label: String
        public var score: Float
    }

    /// Labels searched per document before fusion with the votes (at least k): deep enough
    /// that the fused top k rarely needs a label outside it (those are scored exactly anyway).
    public let shortlist: Int

    public init(labels: Searcher, voting: KNNVoting? = nil, shortlist: Int = 100) throws {
        self.labels = labels
        labelCount = try labels.folder.store.count()
        self.voting = voting
        self.shortlist = shortlist
    }

    /// Each text's `k` best labels, best first: by the label score (the inner product of the
    /// document's and the label's embeddings: cosine for a normalising model), or, with
    /// `voting`, by `(1 - w) label score + w vote`.
    public func predict(_ texts: [String], k: Int, options: EncodeOptions = EncodeOptions(), progress: (Int) -> Void = { _ in }) throws -> [[Prediction]] {
        var results: [[Prediction]] = []
        results.reserveCapacity(texts.count)
        let k = min(k, labelCount), chunk = 256
        let depth = voting == nil ? k : min(labelCount, max(k, shortlist))
        var start = 0
        while start < texts.count {
            let end = min(start + chunk, texts.count)
            let embedded = labels.encoder.encode(Array(texts[start..<end]), options: options)
            try embedded.values.withUnsafeBufferPointer { buffer in
                let vectors = buffer.baseAddress!
                let labelHits = try labels.search(embedded: vectors, count: end - start, k: depth)
                guard let voting else {
                    results += labelHits.map { $0.map { Prediction(label: $0.id, score: $0.score) } }
                    return
                }
                let votes = try voting.votes(embedded: vectors, count: end - start)
                for row in 0..<(end - start) {
                    let vector = UnsafeBufferPointer(start: vectors + row * embedded.dimension, count: embedded.dimension)
                    var labelScores = Dictionary(uniqueKeysWithValues: labelHits[row].map { ($0.id, $0.score) })
                    for label in votes[row].keys where labelScores[label] == nil {
                        labelScores[label] = try score(label, vector)
                    }
                    let fused = labelScores.map { label, score in
                        Prediction(label: label, score: (1 - voting.weight) * score + voting.weight * (votes[row][label] ?? 0))
                    }
                    results.append(Array(fused.sorted { $0.score > $1.score || ($0.score == $1.score && $0.label < $1.label) }.prefix(k)))
                }
            }
            start = end
            progress(start)
        }
        return results
    }

    /// The label score of a label outside the shortlist: its stored vector against the document's.
    private func score(_ label: String, _ document: UnsafeBufferPointer<Float>) throws -> Float {
        let vector: [Float]
        if let cached = labelVectors[label] {
            vector = cached
        } else {
            guard let id = try labels.folder.store.internalId(of: label) else { return 0 }
            var read = [Float](repeating: 0, count: document.count)
            try read.withUnsafeMutableBufferPointer { try labels.folder.store.readVectors(id..<(id + 1), dimension: document.count, into: $0.baseAddress!) }
            labelVectors[label] = read
            vector = read
        }
        return zip(vector, document).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

/// kNN label voting, the classic XMC baseline and a fusion partner for the label scores: a
/// document's `k` nearest training documents vote for their labels with their similarity,
///
///     vote_l(d) = (1/k) sum over j in N_k(d) of s(d, j) [l in Y_j]
///
/// (s: inner product of the embeddings, the cosine for a normalising model). Fused with the
/// label score s(d, l) as `(1 - weight) s(d, l) + weight vote_l(d)`: weight 1 ranks by the vote
/// alone (the "MiniLM kNN-20" baseline), weight 0 by the label scores alone.
public struct KNNVoting {
    /// The training documents' index (embedded by the document tower, like the queries).
    public let documents: Searcher
    /// Each training document's labels, by id.
    public let labelsOf: [String: [String]]
    public let k: Int
    public let weight: Float

    public init(documents: Searcher, labelsOf: [String: [String]], k: Int, weight: Float) {
        self.documents = documents
        self.labelsOf = labelsOf
        self.k = k
        self.weight = weight
    }

    /// Each document's votes, by label.
    public func votes(embedded vectors: UnsafePointer<Float>, count: Int) throws -> [[String: Float]] {
        try documents.search(embedded: vectors, count: count, k: k).map { neighbours in
            var votes: [String: Float] = [:]
            for neighbour in neighbours {
                for label in labelsOf[neighbour.id] ?? [] { votes[label, default: 0] += neighbour.score / Float(k) }
            }
            return votes
        }
    }
}
