import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitIndex
import DensekitSearch
import Foundation

/// `densekit mine`: hard negatives from an index, for `train dual|cross --negatives`.
struct Mine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mine hard negatives: each query's top-ranked passages that are not relevant to it.",
        discussion: """
        With sentence-transformers' mine_hard_negatives semantics: the --retriever's top \
        --range-max passages per query (rescored by a cross-encoder with --rescore), without the \
        qrels' relevant passages and any passage whose text equals a relevant one (the same \
        package described twice); the first --range-min of the rest skipped (the likeliest false \
        negatives); candidates scoring within --margin (absolute) or --relative-margin of the \
        query's best positive, above --max-score or below --min-score dropped; then \
        --negatives-per-query taken, the first ones (--sampling top) or at random. Writes \
        qid<TAB>pid,pid,... best first, and statistics on stderr. -k, --skip and --keep are the \
        older names of --range-max, --range-min and --negatives-per-query.
        """)

    @Option(name: .long, help: "Index folder (built with the model to mine with, and BM25 for bm25 and hybrid).")
    var index: String
    @Option(name: .long, help: "Queries to mine for.")
    var queries: String
    @Option(name: .long, help: "Qrels of those queries (relevant passages are never negatives).")
    var qrels: String
    @Option(name: .long, help: "dense, bm25 or hybrid (RRF of both).")
    var retriever: RetrieverKind = .dense
    @Option(name: [.customLong("range-max"), .customShort("k")], help: "Candidates retrieved per query.")
    var rangeMax = HardNegativeMiner.Options().rangeMax
    @Option(name: [.customLong("range-min"), .customLong("skip")], help: "Candidates skipped at the top, after removing positives.")
    var rangeMin = HardNegativeMiner.Options().rangeMin
    @Option(name: [.customLong("negatives-per-query"), .customLong("keep")], help: "Negatives kept per query.")
    var negativesPerQuery = HardNegativeMiner.Options().negativesPerQuery
    @Option(name: .long, help: "top (the hardest) or random (a seeded sample of the candidates left).")
    var sampling: HardNegativeMiner.Sampling = .top
    @Option(name: .long, help: "Seed of --sampling random.")
    var seed: UInt64 = HardNegativeMiner.Options().seed
    @Option(name: .long, help: "Drop candidates scoring above the best positive's score minus this.")
    var margin: Float?
    @Option(name: .long, help: "Drop candidates scoring above positive - |positive| x this.")
    var relativeMargin: Float?
    @Option(name: .long, help: "Drop candidates scoring above this.")
    var maxScore: Float?
    @Option(name: .long, help: "Drop candidates scoring below this.")
    var minScore: Float?
    @Option(name: .long, help: "Cross-encoder folder: rescore the candidates and positives with it (its scores then decide order, margins and limits).")
    var rescore: String?
    @Option(name: [.short, .long], help: "Negatives file to write.")
    var output: String
    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard rangeMax > 0, rangeMax <= FaissIndex.maximumK else { throw ValidationError("--range-max must be between 1 and \(FaissIndex.maximumK), not \(rangeMax)") }
        guard rangeMin >= 0, rangeMin < rangeMax else { throw ValidationError("--range-min must be at least 0 and below --range-max") }
        guard negativesPerQuery > 0 else { throw ValidationError("--negatives-per-query must be positive") }
        guard margin == nil || relativeMargin == nil else { throw ValidationError("give --margin or --relative-margin, not both") }
        for (name, value) in [("--margin", margin), ("--relative-margin", relativeMargin), ("--max-score", maxScore), ("--min-score", minScore)] {
            if let value, !value.isFinite { throw ValidationError("\(name) must be a finite number") }
        }
        if retriever == .hybrid && rescore == nil && (margin != nil || relativeMargin != nil || maxScore != nil || minScore != nil) {
            throw ValidationError("hybrid retrieval gives fused ranks, not comparable scores: use margins and score limits with --retriever dense or bm25, or with --rescore")
        }
    }

    func run() throws {
        let folder = try IndexFolder(path: index, access: .readRepairingIfWritable, reads: .random)
        let judgments = try QrelsReader.read(path: qrels)
        // Opened first: an unwritable output is found before the searching, not after it.
        let sink = try OutputSink(path: output)
        let reader = try QueryReader(path: queries)
        var all: [(id: String, text: String)] = []
        while let (_, query) = try reader.nextRecord() { all.append((query.id, query.text)) }
        let crossEncoder = try rescore.map { try ModelFolder(URL(fileURLWithPath: $0)).loadCrossEncoder() }

        var options = HardNegativeMiner.Options()
        options.rangeMax = rangeMax
        options.rangeMin = rangeMin
        options.negativesPerQuery = negativesPerQuery
        options.sampling = sampling
        options.seed = seed
        options.absoluteMargin = margin
        options.relativeMargin = relativeMargin
        options.maxScore = maxScore
        options.minScore = minScore
        let miner = HardNegativeMiner(options: options)
        let judged = all.filter { judgments[$0.id]?.contains(where: { $0.value > 0 }) == true }.count
        let progress = Progress("mine", total: judged, unit: "queries", quiet: quiet)
        let result = try miner.mine(queries: all, qrels: judgments, folder: folder, retriever: retriever, rescore: crossEncoder?.rescorer(),
                                    log: { warn($0) }) { progress.update($0) }
        progress.finish()
        for (qid, negatives) in result.negatives { try sink.write(qid + "\t" + negatives.joined(separator: ",") + "\n") }
        try sink.close()
        // The recipe beside the file, for a training run that refreshes these negatives.
        if output != "-" {
            try MiningRecipe(retriever: retriever, options: options, rescore: rescore.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
                .write(besides: output)
        }
        let s = result.statistics
        warn(String(format: "mine: %d of %d queries got negatives (%.1f each; mean rank %.1f, mean score %.4f); a relevant passage was in the top %d for %.1f%% of queries",
                    s.queriesWithNegatives, s.queries, Double(s.negatives) / Double(max(1, s.queriesWithNegatives)), s.meanRank, s.meanScore, rangeMax,
                    100 * Double(s.queriesWithPositiveFound) / Double(max(1, s.queries))))
        warn("mine: dropped \(s.droppedAsPositive) known positives, \(s.droppedAsPositiveText) texts of positives, \(s.droppedByRangeMin) by --range-min, \(s.droppedByMargin) by the margin, \(s.droppedByMaxScore) by --max-score, \(s.droppedByMinScore) by --min-score, \(s.droppedBySampling) not sampled")
    }
}

extension HardNegativeMiner.Sampling: ExpressibleByArgument {}
