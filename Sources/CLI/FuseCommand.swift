import ArgumentParser
import DensekitCorpus
import DensekitEvaluation
import DensekitIndex
import DensekitSearch
import Foundation

/// Fusion options shared by `search --retriever hybrid` and `fuse`.
struct FusionOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Fusion: rrf (reciprocal rank fusion) or linear (weighted sum of min-max-normalised scores).")
    var fusion: FusionMethod = .rrf
    @Option(name: .long, help: "RRF's constant k in 1 / (k + rank).")
    var rrfK = RankFusion().rrfK
    @Option(name: .long, help: "Linear fusion: weight of the first ranking (the dense one in search; the first --run in fuse), the second gets 1 - alpha.")
    var alpha: Double?
    @Option(name: .long, help: "Candidates taken from each ranking.")
    var depth = RankFusion().depth

    enum FusionMethod: String, ExpressibleByArgument { case rrf, linear }

    func validate() throws {
        guard rrfK.isFinite, rrfK >= 0 else { throw ValidationError("--rrf-k must be 0 or a positive number, not \(rrfK)") }
        if let alpha { guard alpha.isFinite, (0...1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1, not \(alpha)") } }
        guard depth > 0, depth <= FaissIndex.maximumK else { throw ValidationError("--depth must be between 1 and \(FaissIndex.maximumK), not \(depth)") }
    }

    func fusion(alphaDefault: Double?) -> RankFusion {
        RankFusion(method: fusion == .rrf ? .rrf : .linear, rrfK: rrfK, alpha: alpha ?? alphaDefault, depth: depth)
    }
}

/// `densekit fuse`: fuse run files (Pyserini's `pyserini.fusion`).
struct Fuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fuse run files of the same queries: reciprocal rank fusion or a linear combination of normalised scores.",
        discussion: """
        RRF scores each document sum 1 / (--rrf-k + rank) over the runs that rank it (ranks as \
        eval reads them: MS MARCO by rank, TREC by score). Linear fusion min-max normalises each \
        run's scores per query and adds them, weighted alpha and 1 - alpha for two runs (equal \
        weights otherwise); it needs TREC runs, which carry scores. Each run is cut to --depth \
        first; the fused run keeps -k documents per query.
        """)

    @Option(name: .customLong("run"), help: "A run file (MS MARCO or TREC); give two or more.")
    var runs: [String] = []
    @OptionGroup var fusion: FusionOptionGroup
    @Option(name: .short, help: "Documents per query in the fused run.")
    var k = 1_000
    @OptionGroup var runOutput: RunOutputOptions

    func validate() throws {
        guard runs.count >= 2 else { throw ValidationError("give two or more --run files") }
        guard k > 0, k <= FaissIndex.maximumK else { throw ValidationError("-k must be between 1 and \(FaissIndex.maximumK), not \(k)") }
        if fusion.alpha != nil && (fusion.fusion != .linear || runs.count != 2) { throw ValidationError("--alpha weighs two runs in linear fusion") }
    }

    func run() throws {
        let fuser = fusion.fusion(alphaDefault: nil)
        var rankings: [Run] = []
        for path in runs {
            let (run, format) = try RunReader.read(path: path)
            if fuser.method == .linear && format == .msmarco {
                throw ValidationErrorMessage("\(path): an MS MARCO run has no scores; linear fusion needs TREC runs (or use --fusion rrf)")
            }
            rankings.append(run)
        }
        let writer = try runOutput.writer(defaultFormat: .trec, defaultTag: "densekit-fused")
        let queries = Set(rankings.flatMap { $0.rankings.keys }).sorted()
        for query in queries {
            let lists = rankings.map { run in (run.rankings[query] ?? []).map { (id: $0.docId, score: $0.score ?? 0) } }
            let fused = fuser.fuse(lists, k: k)
            try writer.write(queryId: query, ranking: fused.map { RankedDoc(docId: $0.id, score: $0.score) })
        }
        try writer.close()
    }
}
