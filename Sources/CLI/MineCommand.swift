import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitIndex
import DensekitSearch
import Foundation

/// `densekit mine`: hard negatives from an index, for `train dual --negatives`.
struct Mine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mine hard negatives: each query's top-ranked passages that are not relevant to it.",
        discussion: """
        Searches --index for every query, drops the passages the qrels mark relevant (and any \
        passage whose text equals a relevant one: the same package described twice is not a \
        negative), skips the first --skip ranks (the likeliest false negatives), and writes \
        qid<TAB>pid,pid,... best first, the format `train dual --negatives` reads.
        """)

    @Option(name: .long, help: "Index folder built with the model to mine with.")
    var index: String
    @Option(name: .long, help: "Queries to mine for.")
    var queries: String
    @Option(name: .long, help: "Qrels of those queries (relevant passages are never negatives).")
    var qrels: String
    @Option(name: .short, help: "Depth searched per query.")
    var k = 30
    @Option(name: .long, help: "Ranks skipped at the top, after removing positives.")
    var skip = 0
    @Option(name: .long, help: "Negatives kept per query.")
    var keep = 10
    @Option(name: [.short, .long], help: "Negatives file to write.")
    var output: String
    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        let folder = try IndexFolder(path: index)
        let searcher = try Searcher(folder: folder, log: { warn($0) })
        let judgments = try QrelsReader.read(path: qrels)
        let reader = try QueryReader(path: queries)
        var ids: [String] = [], texts: [String] = []
        while let (_, query) = try reader.nextRecord() {
            guard judgments[query.id]?.contains(where: { $0.value > 0 }) == true else { continue }
            ids.append(query.id)
            texts.append(query.text)
        }
        let progress = Progress("mine", total: texts.count, unit: "queries", quiet: quiet)
        let results = try searcher.search(texts, k: k, includeText: true) { progress.update($0) }
        progress.finish()
        let sink = try OutputSink(path: output)
        var written = 0, total = 0, positivesFound = 0
        for (qid, hits) in zip(ids, results) {
            let relevant = Set((judgments[qid] ?? [:]).filter { $0.value > 0 }.map(\.key))
            let relevantTexts = Set(hits.filter { relevant.contains($0.id) }.map(\.text))
            positivesFound += hits.contains { relevant.contains($0.id) } ? 1 : 0
            let negatives = hits.filter { !relevant.contains($0.id) && !relevantTexts.contains($0.text) }.dropFirst(skip).prefix(keep).map(\.id)
            guard !negatives.isEmpty else { continue }
            try sink.write(qid + "\t" + negatives.joined(separator: ",") + "\n")
            written += 1
            total += negatives.count
        }
        try sink.close()
        warn(String(format: "mine: %d of %d queries got negatives (%.1f each); a relevant passage was in the top %d for %.1f%% of queries",
                    written, ids.count, Double(total) / Double(max(1, written)), k, 100 * Double(positivesFound) / Double(max(1, ids.count))))
    }
}
