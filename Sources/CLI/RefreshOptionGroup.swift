import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitSearch
import DensekitTraining
import Foundation

/// `train dual`'s ANCE-style refresh flags: re-encode the collection with the current weights
/// every N steps and mine the training queries' negatives again.
struct RefreshOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Re-encode the collection with the current weights into a fresh index every N steps and mine the negatives again, as --negatives were mined (their .mining.json, written by densekit mine).")
    var refreshEvery: Int?
    @Option(name: .long, help: "Folder of the refreshed indexes and negatives (default: OUT/refresh).")
    var refreshIndex: String?

    func validate() throws {
        if let refreshEvery, refreshEvery < 1 { throw ValidationError("--refresh-every must be positive, not \(refreshEvery)") }
        if refreshIndex != nil, refreshEvery == nil { throw ValidationError("--refresh-index goes with --refresh-every N") }
    }

    /// The refresh these flags ask for, mining as `negatives` were mined; nil when off.
    func makeSource(negatives: String?, data: TrainingData, collection: String, out: String, encode: EncodeOptions,
                    quiet: Bool) throws -> NegativeRefresh? {
        guard refreshEvery != nil else { return nil }
        let recipe: MiningRecipe
        if let negatives, let recorded = try MiningRecipe.read(besides: negatives) {
            recipe = recorded
        } else {
            recipe = MiningRecipe(retriever: .dense, options: HardNegativeMiner.Options())
            let why = negatives.map { "\($0) has no \(MiningRecipe.path(besides: $0))" } ?? "no --negatives"
            warn("train: \(why): refreshes mine with densekit mine's defaults (dense, top \(recipe.options.rangeMax), \(recipe.options.negativesPerQuery) per query)")
        }
        return try Self.source(recipe: recipe, data: data, collection: collection, directory: refreshIndex ?? out + "/refresh", encode: encode, quiet: quiet)
    }

    /// A refresh of `data`'s training queries over `collection` into `directory`, mining with `recipe`.
    static func source(recipe: MiningRecipe, data: TrainingData, collection: String, directory: String, encode: EncodeOptions,
                       quiet: Bool) throws -> NegativeRefresh {
        let rescore = try recipe.rescore.map { try ModelFolder(URL(fileURLWithPath: $0)).loadCrossEncoder().rescorer() }
        let queries = data.queryIds.compactMap { id in data.queries[id].map { (id: id, text: $0) } }
        let qrels = data.relevant.mapValues { Dictionary(uniqueKeysWithValues: $0.map { ($0, 1) }) }
        let phases = PhaseProgress(quiet: quiet)
        return try NegativeRefresh(directory: URL(fileURLWithPath: directory), collection: collection,
                                   queries: queries, qrels: qrels, recipe: recipe, encode: encode, rescore: rescore,
                                   log: { warn("train: \($0)") }, progress: { phases.update($0, $1, $2) })
    }
}

extension NegativeRefresh: NegativeSource {}

/// One progress line per phase of a multi-phase job (a refresh: passages, then queries).
final class PhaseProgress: @unchecked Sendable {
    private var current: (phase: String, progress: Progress)?
    private let quiet: Bool

    init(quiet: Bool) { self.quiet = quiet }

    /// `done` 0 starts a phase (its clock), so its first rate is not that of a moment.
    func update(_ phase: String, _ done: Int, _ total: Int) {
        if current?.phase != phase {
            current?.progress.finish()
            current = (phase, Progress("train: refresh", total: total > 0 ? total : nil, unit: phase, quiet: quiet))
        }
        guard done > 0 else { return }
        current?.progress.update(done)
        if done >= total, total > 0 {
            current?.progress.finish()
            current = nil
        }
    }
}
