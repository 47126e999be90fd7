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
        let folder = try IndexFolder(path: index, access: .readRepairingIfWritable)
        let searcher = try Searcher(folder: folder, log: { warn($0) })
        let judgments = try QrelsReader.read(path: qrels)
        // Opened first: an unwritable output is found before the searching, not after it.
        let sink = try OutputSink(path: output)
        let reader = try QueryReader(path: queries)
        var all: [(id: String, text: String)] = []
        while let (_, query) = try reader.nextRecord() { all.append((query.id, query.text)) }
        let miner = HardNegativeMiner(depth: k, skip: skip, keep: keep)
        let judged = all.filter { judgments[$0.id]?.contains(where: { $0.value > 0 }) == true }.count
        let progress = Progress("mine", total: judged, unit: "queries", quiet: quiet)
        let result = try miner.mine(queries: all, qrels: judgments, searcher: searcher) { progress.update($0) }
        progress.finish()
        for (qid, negatives) in result.negatives { try sink.write(qid + "\t" + negatives.joined(separator: ",") + "\n") }
        try sink.close()
        let written = result.negatives.count
        warn(String(format: "mine: %d of %d queries got negatives (%.1f each); a relevant passage was in the top %d for %.1f%% of queries",
                    written, result.queryCount, Double(result.negativeCount) / Double(max(1, written)), k,
                    100 * Double(result.queriesWithPositiveFound) / Double(max(1, result.queryCount))))
    }
}
