import DensekitEncoder
import DensekitTensor
import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// XMC's hard-negative labels (DEXML's dist-de-hnm): the shortlist is each document's exact
/// nearest labels, it survives a round trip through its file, and a step's candidates hold every
/// document's positives plus hard labels drawn from its own shortlist, never from its positives.
@Suite struct LabelShortlistTests {
    @Test func candidatesAreThePositivesAndHardLabelsFromEachDocumentsOwnShortlist() {
        var random = RandomSource(seed: 3)
        let positives = [[4, 1], [1], [7, 8, 9]]
        let shortlists: [ArraySlice<Int32>] = [[4, 2, 3, 5, 6, 10], [1, 0, 11, -1, -1, -1], [12, 7, 8, 13, 14, 15]]
        for hard in [0, 2, 3, 10] {
            let (labels, mapped) = LabelShortlistTests.draw(positives, shortlists, hard, &random)
            #expect(Set(labels).count == labels.count, "each label once")
            #expect(zip(positives, mapped).allSatisfy { own, candidates in candidates.map { labels[$0] } == own })
            // Every label beyond the positives came from some document's shortlist, not from its positives.
            let positiveSet = Set(positives.joined())
            let drawn = labels.filter { !positiveSet.contains($0) }
            #expect(drawn.allSatisfy { label in shortlists.contains { $0.contains(Int32(label)) } })
            // Document 1's pool is {0, 11}: with hard >= 2 both are drawn; padding (-1) never is.
            if hard >= 2 { #expect(labels.contains(0) && labels.contains(11)) }
            #expect(!labels.contains(-1))
            let expectedMax = positiveSet.count + min(hard, 5) + min(hard, 2) + min(hard, 4)
            #expect(labels.count <= expectedMax && (hard > 0 || labels.count == positiveSet.count))
        }
        // Document 0's positives (4, 1) are never among its hard labels, whatever the draw.
        for seed in 0..<50 {
            var r = RandomSource(seed: UInt64(seed))
            let (labels, _) = LabelShortlistTests.draw([[4, 1]], [[4, 1, 2, 3]], 2, &r)
            #expect(Set(labels) == [4, 1, 2, 3])
        }
    }

    static func draw(_ positives: [[Int]], _ shortlists: [ArraySlice<Int32>], _ hard: Int, _ random: inout RandomSource) -> ([Int], [[Int]]) {
        let result = XMCTask.shortlistCandidates(positives: positives, shortlists: shortlists, hard: hard, random: &random)
        return (result.labels, result.positives)
    }

    @Test func theShortlistIsTheExactNearestLabelsAndSurvivesItsFile() throws {
        let folder = try TinyModel.temporaryFolder()
        try TinyModel.writeFolder(at: folder)
        let model = try DualEncoder.load(directory: folder)
        let words = TinyModel.words.filter { !$0.hasPrefix("##") && $0.first?.isLetter == true }
        let labels = (0..<9).map { "\(words[$0 % words.count]) \(words[($0 * 4 + 1) % words.count])" }
        let documents = (0..<5).map { i in (0..<4).map { words[(i * 3 + $0) % words.count] }.joined(separator: " ") }
        let shortlist = LabelShortlist.compute(step: 6, model: model, documents: documents, labels: labels, depth: 4,
                                               documentMaxLength: 16, labelMaxLength: 16, threads: 1)
        #expect(shortlist.documentCount == 5 && shortlist.depth == 4)
        let d = model.query.encode(documents, options: EncodeOptions(threads: 1, maxLength: 16))
        let l = model.passage.encode(labels, options: EncodeOptions(threads: 1, maxLength: 16))
        for i in 0..<5 {
            let scores = (0..<9).map { j in zip(d[i], l[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
            let best = scores.enumerated().sorted { $0.element > $1.element }.prefix(4).map { Int32($0.offset) }
            #expect(Array(shortlist.labels(of: i)) == best)
        }
        let file = folder.appendingPathComponent("step-000006.shortlist")
        try shortlist.save(to: file)
        #expect(try LabelShortlist.load(from: file) == shortlist)
        let data = try Data(contentsOf: file)
        try data.prefix(data.count - 2).write(to: file)
        #expect(throws: TrainingError.self) { try LabelShortlist.load(from: file) }
        // Deeper than the label set: the whole set, nearest first.
        #expect(LabelShortlist.compute(step: 0, model: model, documents: documents, labels: labels, depth: 50,
                                       documentMaxLength: 16, labelMaxLength: 16, threads: 1).depth == 9)
    }
}
