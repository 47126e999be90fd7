import DensekitEncoder
import DensekitSearch
import DensekitTestSupport
import Foundation
import Testing

/// XMC prediction through a stored label index: built once and reused, refused when built for
/// other texts; its top k is the exact top k of the inner products; kNN voting fuses as its
/// formula says, including labels outside the label search's shortlist.
@Suite struct LabelPredictorTests {
    static let words = TinyModel.words.filter { !$0.hasPrefix("##") && $0.first?.isLetter == true }

    /// `count` labels of three tiny-model words each.
    func labels(_ count: Int) -> [(id: String, text: String, line: Int)] {
        (0..<count).map { i in ("l\(i)", (0..<3).map { Self.words[(i * 5 + $0 * (i % 4 + 1)) % Self.words.count] }.joined(separator: " "), i + 1) }
    }

    func model() throws -> DualEncoder {
        let folder = try TinyModel.temporaryFolder().appendingPathComponent("model")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try TinyModel.writeFolder(at: folder)
        return try DualEncoder.load(directory: folder)
    }

    func open(_ path: String, _ records: [(id: String, text: String, line: Int)], _ model: DualEncoder, kind: String = "xmc-labels",
              progress: @escaping (Int) -> Void = { _ in }) throws -> Searcher {
        try TextIndex.open(path: path, records: records, source: "/data/labels.tsv", contents: .init(kind: kind, tower: .passage, maxLength: 16),
                           model: model, encode: EncodeOptions(batchSize: 8, threads: 1), progress: progress)
    }

    @Test func theLabelIndexIsBuiltOnceAndRefusedForOtherTexts() throws {
        let model = try model(), records = labels(20)
        let path = try TinyModel.temporaryFolder().appendingPathComponent("labels.index").path
        var stored: [Int] = []
        let first = try open(path, records, model) { stored.append($0) }
        let count = try first.folder.store.count()
        #expect(stored.last == 20 && count == 20)
        stored = []
        let second = try open(path, records, model) { stored.append($0) }
        #expect(stored.isEmpty, "nothing encoded again")
        #expect(try second.search(["cat sat"], k: 3).first?.map(\.id) == first.search(["cat sat"], k: 3).first?.map(\.id))
        #expect(throws: (any Error).self, "built for other contents") { try open(path, records, model, kind: "xmc-documents") }
        var changed = records
        changed[4].text = "red dog"
        #expect(throws: (any Error).self, "a label file that changed since") { try open(path, changed, model) }
    }

    /// Brute force: every label's inner product with every document.
    func scores(_ model: DualEncoder, documents: [String], labels: [String]) -> [[Float]] {
        let d = model.query.encode(documents, options: EncodeOptions(batchSize: 8, threads: 1, maxLength: 16))
        let l = model.passage.encode(labels, options: EncodeOptions(batchSize: 8, threads: 1, maxLength: 16))
        return (0..<d.count).map { i in (0..<l.count).map { j in zip(d[i], l[j]).reduce(0) { $0 + $1.0 * $1.1 } } }
    }

    @Test func predictionsAreTheExactTopK() throws {
        let model = try model(), records = labels(30)
        let searcher = try open(try TinyModel.temporaryFolder().appendingPathComponent("labels.index").path, records, model)
        let documents = ["the cat sat on a mat", "a big red dog ran", "dog"]
        let predicted = try LabelPredictor(labels: searcher).predict(documents, k: 4, options: EncodeOptions(batchSize: 8, threads: 1, maxLength: 16))
        let exact = scores(model, documents: documents, labels: records.map(\.text))
        for (row, predictions) in predicted.enumerated() {
            let best = exact[row].enumerated().sorted { $0.element > $1.element }.prefix(4)
            #expect(predictions.map(\.label) == best.map { "l\($0.offset)" })
            for (p, b) in zip(predictions, best) { #expect(abs(p.score - b.element) < 1e-4) }
        }
    }

    /// A shortlist of 5 of 130 labels: labels only the neighbours vote for are scored from
    /// their stored vectors.
    @Test func votesFuseWithLabelScoresAsTheFormulaSays() throws {
        let model = try model(), records = labels(130)
        let folder = try TinyModel.temporaryFolder()
        let labelIndex = try open(folder.appendingPathComponent("labels.index").path, records, model)
        // Training documents, each carrying two labels.
        let training = (0..<12).map { i in (id: "t\(i)", text: (0..<4).map { Self.words[(i * 3 + $0 * 2) % Self.words.count] }.joined(separator: " "),
                                            labels: ["l\(i * 10 % 130)", "l\((i * 7 + 3) % 130)"]) }
        let documentIndex = try TextIndex.open(path: folder.appendingPathComponent("train.index").path,
                                               records: training.enumerated().map { ($1.id, $1.text, $0 + 1) }, source: "/data/train.jsonl",
                                               contents: .init(kind: "xmc-documents", tower: .query, maxLength: 16), model: model,
                                               encode: EncodeOptions(batchSize: 8, threads: 1))
        let labelsOf = Dictionary(uniqueKeysWithValues: training.map { ($0.id, $0.labels) })
        let documents = ["the cat sat on a mat", "a big red dog ran"]
        let exact = scores(model, documents: documents, labels: records.map(\.text))
        let neighbourScores = scores(model, documents: documents, labels: training.map(\.text))
        for weight: Float in [1, 0.7] {
            let voting = KNNVoting(documents: documentIndex, labelsOf: labelsOf, k: 3, weight: weight)
            let predicted = try LabelPredictor(labels: labelIndex, voting: voting, shortlist: 5)
                .predict(documents, k: 5, options: EncodeOptions(batchSize: 8, threads: 1, maxLength: 16))
            for row in documents.indices {
                // vote_l = (1/k) sum over the 3 nearest training documents carrying l of their score.
                let nearest = neighbourScores[row].enumerated().sorted { $0.element > $1.element }.prefix(3)
                var votes: [String: Float] = [:]
                for neighbour in nearest { for label in training[neighbour.offset].labels { votes[label, default: 0] += neighbour.element / 3 } }
                for prediction in predicted[row] {
                    let label = Int(prediction.label.dropFirst())!
                    let expected = (1 - weight) * exact[row][label] + weight * (votes[prediction.label] ?? 0)
                    #expect(abs(prediction.score - expected) < 1e-4, "\(prediction)")
                }
                if weight == 1 {
                    // Votes alone: the voted labels first, by their votes.
                    let voted = votes.sorted { $0.value > $1.value }.prefix(5).map(\.value)
                    for (p, v) in zip(predicted[row], voted) { #expect(abs(p.score - v) < 1e-4) }
                } else {
                    let fused = (0..<130).map { (1 - weight) * exact[row][$0] + weight * (votes["l\($0)"] ?? 0) }.sorted(by: >).prefix(5)
                    for (p, f) in zip(predicted[row], fused) { #expect(abs(p.score - f) < 1e-4) }
                }
            }
        }
    }
}
