import DensekitCorpus
import DensekitEncoder
import DensekitIndex
import DensekitStore
import Foundation

/// Hard negatives refreshed during training (ANCE, Xiong et al. 2021): the collection
/// re-encoded with the model as it is now into a fresh index, and the training queries mined
/// again from it with the run's `MiningRecipe`.
///
/// Refresh `r` lives in `directory/step-r/`: `model/` (the weights it encoded with), `index/`
/// (an index folder, built by `IndexBuilder`, so a refresh killed while encoding resumes from
/// its last commit), then `negatives.tsv` and, last, `refresh.json` (which marks it complete and
/// records the weights' fingerprint). Asked again for a step whose refresh is complete with the
/// same weights (a resumed run replaying its steps exactly), it reuses it; a partial index of
/// other weights is started over.
public final class NegativeRefresh: @unchecked Sendable {
    /// Where each refresh goes.
    public let directory: URL
    /// The passages to encode (any format `PassageReader` reads).
    public let collection: String
    public let queries: [(id: String, text: String)]
    public let qrels: Qrels
    public let recipe: MiningRecipe
    /// How passages are encoded (batch, threads, truncation).
    public let encode: EncodeOptions
    /// Cross-encoder scores for `recipe.rescore`, when the recipe rescored.
    public let rescore: HardNegativeMiner.Rescore?
    /// Progress lines.
    public let log: (String) -> Void
    /// Called with (what, done, total) while encoding ("passages") and mining ("queries"); done
    /// is 0 when a phase starts.
    public let progress: (String, Int, Int) -> Void

    /// What the last refresh did.
    public private(set) var lastReport: Report?

    /// The cost of one refresh.
    public struct Report: Sendable, Codable, Equatable {
        public var step: Int
        public var weightsFingerprint: String
        public var passages = 0
        /// Passages already encoded by an interrupted attempt (0 for a clean refresh).
        public var resumedAfterPassages = 0
        public var encodeSeconds = 0.0
        public var mineSeconds = 0.0
        public var queriesWithNegatives = 0
        public var negatives = 0
        /// Whether a complete earlier refresh with the same weights was reused.
        public var reused = false
    }

    public init(directory: URL, collection: String, queries: [(id: String, text: String)], qrels: Qrels, recipe: MiningRecipe,
                encode: EncodeOptions, rescore: HardNegativeMiner.Rescore? = nil,
                log: @escaping (String) -> Void = { _ in }, progress: @escaping (String, Int, Int) -> Void = { _, _, _ in }) throws {
        guard recipe.retriever != .bm25 else {
            throw IndexError.invalid("BM25 negatives do not change with the model: refresh negatives mined with --retriever dense or hybrid")
        }
        self.directory = directory
        self.collection = collection
        self.queries = queries
        self.qrels = qrels
        self.recipe = recipe
        self.encode = encode
        self.rescore = rescore
        self.log = log
        self.progress = progress
    }

    /// The folder of refresh `step`.
    public func folder(step: Int) -> URL { directory.appendingPathComponent(String(format: "step-%06d", step)) }
    /// The negatives file of refresh `step`.
    public func negativesFile(step: Int) -> URL { folder(step: step).appendingPathComponent("negatives.tsv") }
    private func marker(step: Int) -> URL { folder(step: step).appendingPathComponent("refresh.json") }

    /// The index folder of refresh `step`.
    public func indexFolder(step: Int) -> URL { folder(step: step).appendingPathComponent("index") }

    /// Refresh `step` with the model as it is: `saveModel` writes it into the (existing) folder
    /// it is given.
    /// Returns the negatives file.
    public func refresh(step: Int, saveModel: (URL) throws -> Void) throws -> String {
        let started = Date()
        let fingerprint = try saveWeights(step: step, saveModel: saveModel)
        if let done = try completed(step: step), done.weightsFingerprint == fingerprint {
            var report = done
            report.reused = true
            lastReport = report
            log("refresh at step \(step): reusing \(negativesFile(step: step).path) (mined with these weights before)")
            return negativesFile(step: step).path
        }
        try? FileManager.default.removeItem(at: marker(step: step))
        var report = Report(step: step, weightsFingerprint: fingerprint)
        let built = try encodeCollection(step: step, fingerprint: fingerprint)
        let indexPath = indexFolder(step: step).path
        report.passages = built.total
        report.resumedAfterPassages = built.total - built.stored
        report.encodeSeconds = Date().timeIntervalSince(started)

        // Mine with the recipe, then write the negatives and, last, the marker.
        let mined = Date()
        let miner = HardNegativeMiner(options: recipe.options)
        let judged = queries.filter { qrels[$0.id]?.contains(where: { $0.value > 0 }) == true }.count
        progress("queries", 0, judged)
        let result = try miner.mine(queries: queries, qrels: qrels, folder: try IndexFolder(path: indexPath, access: .readOnly, reads: .random),
                                    retriever: recipe.retriever, rescore: rescore, log: log) { self.progress("queries", $0, judged) }
        var lines = ""
        for (qid, negatives) in result.negatives { lines += qid + "\t" + negatives.joined(separator: ",") + "\n" }
        try Data(lines.utf8).write(to: negativesFile(step: step), options: .atomic)
        report.mineSeconds = Date().timeIntervalSince(mined)
        report.queriesWithNegatives = result.statistics.queriesWithNegatives
        report.negatives = result.statistics.negatives
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: marker(step: step), options: .atomic)
        lastReport = report
        log(String(format: "refresh at step %d: %d passages encoded in %.1f s%@, %d queries mined in %.1f s: %d negatives for %d queries (%@)",
                   step, report.passages, report.encodeSeconds, report.resumedAfterPassages > 0 ? " (resumed after \(report.resumedAfterPassages))" : "",
                   judged, report.mineSeconds, report.negatives, report.queriesWithNegatives, negativesFile(step: step).path))
        return negativesFile(step: step).path
    }

    /// The collection encoded with the model as it is into refresh `step`'s index folder, and
    /// nothing mined (a final evaluation needs only the index); a complete index of the same
    /// weights is reused. Returns the index folder.
    public func encodeOnly(step: Int, saveModel: (URL) throws -> Void) throws -> URL {
        let fingerprint = try saveWeights(step: step, saveModel: saveModel)
        let index = indexFolder(step: step)
        if (try? IndexFolder(path: index.path, access: .readOnly)).map({ (try? $0.store.progress().complete) == true
            && (try? $0.manifest().model.weightsFingerprint) == fingerprint }) != true {
            _ = try encodeCollection(step: step, fingerprint: fingerprint)
        }
        return index
    }

    /// Writes the model into refresh `step`'s `model/` folder; returns its weights' fingerprint.
    private func saveWeights(step: Int, saveModel: (URL) throws -> Void) throws -> String {
        let modelFolder = folder(step: step).appendingPathComponent("model")
        try FileManager.default.createDirectory(at: modelFolder, withIntermediateDirectories: true)
        try saveModel(modelFolder)
        return try ModelFolder(modelFolder).weightsFingerprint()
    }

    /// Encodes the collection with refresh `step`'s saved model into its index folder: a
    /// partial index of these weights is resumed, one of other weights started over. The
    /// folder's build lock is released on return, so the index can be searched at once.
    private func encodeCollection(step: Int, fingerprint: String) throws -> IndexBuilder.Report {
        let indexPath = indexFolder(step: step).path
        if FileManager.default.fileExists(atPath: indexPath),
           (try? IndexFolder(path: indexPath, access: .readOnly).manifest().model.weightsFingerprint) != fingerprint {
            try FileManager.default.removeItem(atPath: indexPath)
        }
        let model = try ModelFolder(folder(step: step).appendingPathComponent("model")).loadDualEncoder()
        let index = try IndexFolder(path: indexPath, access: .create)
        var options = IndexBuilder.Options()
        options.encode = encode
        options.lexical = recipe.retriever == .hybrid ? LexicalSettings() : nil
        let builder = IndexBuilder(folder: index, encoder: model.passage, options: options)
        let source = try PassageReader(path: collection)
        try builder.prepare(source: URL(fileURLWithPath: collection).standardizedFileURL.path, format: source.format.rawValue,
                            model: try model.identity(), log: log)
        let total = lineCount(ofRegularFile: collection) ?? 0
        progress("passages", 0, total)
        return try builder.build(sourcePath: collection,
                                 next: { try source.nextRecord().map { SourcePassage(id: $0.record.id, text: $0.record.text, line: $0.line) } },
                                 progress: { self.progress("passages", $0, total) }, log: log)
    }

    /// Removes the refreshes made before step `step` but the newest `keeping` of them (disk:
    /// each holds a model and an index of the whole collection). Call it once the refresh at
    /// `step` is complete and a checkpoint at or after the older ones' steps exists, so a
    /// resumed run never needs one that is gone.
    public func removeRefreshes(before step: Int, keeping: Int) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let older = names.compactMap { name -> Int? in
            guard name.hasPrefix("step-"), let s = Int(name.dropFirst(5)), s < step else { return nil }
            return s
        }.sorted()
        for old in older.dropLast(max(0, keeping)) {
            try FileManager.default.removeItem(at: folder(step: old))
            log("removed the refresh at step \(old) (\(folder(step: old).path)): --keep-cycles keeps \(keeping) before the current one")
        }
    }

    /// The report of refresh `step` when it is complete; nil otherwise.
    public func completed(step: Int) throws -> Report? {
        let url = marker(step: step)
        guard FileManager.default.fileExists(atPath: url.path), FileManager.default.fileExists(atPath: negativesFile(step: step).path) else { return nil }
        return try JSONDecoder().decode(Report.self, from: Data(contentsOf: url))
    }

    /// The negatives file of a complete refresh `step` (a run resumed after it).
    /// - Throws: when that refresh is not complete in `directory`.
    public func negatives(completedAt step: Int) throws -> String {
        guard try completed(step: step) != nil else {
            throw IndexError.invalid("\(folder(step: step).path): the refresh at step \(step) is not there or not complete; resume with the same --refresh-index")
        }
        return negativesFile(step: step).path
    }
}
