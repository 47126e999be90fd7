import ArgumentParser
import DensekitEncoder
import DensekitEvaluation
import DensekitTraining
import Foundation

/// `densekit train ...`: fine-tune encoders.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune dual encoders and cross-encoders on the CPU.",
        subcommands: [Dual.self, Cross.self, XMC.self, AR2.self])

    /// `densekit train dual`.
    struct Dual: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fine-tune a dual encoder (one encoder shared by queries and passages, or two towers) with a contrastive loss.",
            discussion: """
            Each step draws --batch-size training queries, one relevant passage each, and \
            --negatives-per-query hard negatives each from --negatives (a file of lines \
            qid<TAB>pid,pid,..., best first). Every other passage in the batch is an in-batch \
            negative, except known positives (other relevant passages of the query, or the same \
            text twice), which are never counted as negatives. \
            Losses: infonce (multiple-negatives ranking; --symmetric adds passage->query), \
            dcl (decoupled contrastive: positive removed from the denominator), \
            decoupled-softmax (DEXML: each positive competes only with negatives). \
            Batches larger than --chunk-size sequences per worker use GradCache: memory is \
            bounded by the chunk, not the batch; --gradient-checkpointing also recomputes each \
            layer in the backward pass, so a chunk holds one layer's activations, not all. \
            --separate-towers trains a query tower and a passage tower, both starting from --model. \
            --refresh-every N re-encodes the collection with the current weights into a fresh \
            index (in --refresh-index) before steps N, 2N, ... and mines the negatives again the \
            way --negatives were mined (ANCE); a killed refresh resumes with --resume. \
            --mix-hardest N with --mix-negatives S and/or --mix-query S2 adds MoCHi's synthetic \
            negatives to each query's row from step --mix-start on: mixes of its N hardest \
            negatives (and of itself with one of them), held constant in the backward pass. \
            Output: a sentence-transformers folder in --out (with --separate-towers, query_model/ \
            and passage_model/ folders and towers.json, which index build and search read as one \
            model), with checkpoint-STEP/ folders; --resume continues from the latest one.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var loopOptions: LoopOptionGroup

        @OptionGroup var trainingData: TrainingDataOptions
        @Option(name: .long, help: "Hard negatives: qid<TAB>pid,pid,... per line.")
        var negatives: String?
        @Option(name: .long, help: "Hard negatives per query (with --negatives).")
        var negativesPerQuery = TrainerOptions().negativesPerQuery
        @Option(name: .long, help: "Loss: infonce (multiple-negatives ranking), dcl or decoupled-softmax.")
        var loss = TrainerOptions().loss
        @Flag(name: .long, help: "InfoNCE: add the passage-to-query term.")
        var symmetric = TrainerOptions().symmetric
        @Option(name: .long, help: "Cosine similarity scale (1/temperature).")
        var scale = TrainerOptions().scale
        @Option(name: .long, help: "Sequences per forward/backward chunk and worker: a batch with more sequences than this per worker uses GradCache, whose memory is bounded by the chunk.")
        var chunkSize = TrainerOptions().chunkSize
        @Option(name: .long, help: "Query truncation in tokens.")
        var queryMaxLength = TrainerOptions().queryMaxLength
        @Option(name: .long, help: "Passage truncation in tokens.")
        var passageMaxLength = TrainerOptions().passageMaxLength
        @Option(name: .long, help: "Dev queries to report MRR@10 at checkpoints.")
        var evalQueries: String?
        @Option(name: .long, help: "Dev qrels (with --eval-queries); only the judgments of --eval-queries' queries count.")
        var evalQrels: String?
        @Option(name: .long, help: "Passages searched for evaluation (default: --collection).")
        var evalCollection: String?
        @Flag(name: .long, help: "Train separate query and passage towers (both start from --model).")
        var separateTowers = false
        @Flag(name: .long, help: "Recompute layer activations in the backward pass: less memory, about a third more compute.")
        var gradientCheckpointing = false
        @OptionGroup(title: "Hard-negative mixing (MoCHi)") var mixingOptions: MixingOptionGroup
        @OptionGroup(title: "Refreshed negatives (ANCE)") var refreshOptions: RefreshOptionGroup

        func validate() throws {
            guard (evalQueries == nil) == (evalQrels == nil) else { throw ValidationError("--eval-queries and --eval-qrels go together") }
            guard modelOptions.batchSize > 1 else { throw ValidationError("--batch-size must be at least 2") }
            guard scale.isFinite, scale > 0 else { throw ValidationError("--scale must be a positive number, not \(scale)") }
            guard negativesPerQuery >= 0 else { throw ValidationError("--negatives-per-query must be 0 or more") }
            guard chunkSize > 0 else { throw ValidationError("--chunk-size must be positive") }
        }

        func run() throws {
            try loopOptions.checkOut(base: modelOptions.directory)
            let base = try modelOptions.loadDualEncoder()
            let data = try trainingData.load(negatives: negatives)
            var options = TrainerOptions()
            let perEpoch = max(1, data.queryIds.count / modelOptions.batchSize)
            options.loop = loopOptions.loop(stepsPerEpoch: perEpoch, threads: modelOptions.threads)
            options.loss = loss
            options.symmetric = symmetric
            options.scale = scale
            options.batchSize = modelOptions.batchSize
            options.chunkSize = chunkSize
            options.negativesPerQuery = negatives == nil ? 0 : negativesPerQuery
            options.queryMaxLength = queryMaxLength
            options.passageMaxLength = passageMaxLength
            options.separateTowers = separateTowers
            options.gradientCheckpointing = gradientCheckpointing
            options.mixing = mixingOptions.schedule
            options.refreshEvery = refreshOptions.refreshEvery

            let trainer = try DualEncoderTrainer(base: base, data: data, options: options, output: URL(fileURLWithPath: loopOptions.out))
            trainer.task.negativeSource = try refreshOptions.makeSource(
                negatives: negatives, data: data, collection: trainingData.collection, out: loopOptions.out,
                encode: EncodeOptions(batchSize: 32, threads: modelOptions.threads, maxLength: passageMaxLength), quiet: loopOptions.quiet)
            var evaluate: ((DualEncoder) throws -> Evaluation)?
            if let evalQueries, let evalQrels {
                var evaluator = try RetrievalEvaluator(collection: evalCollection ?? trainingData.collection, queries: evalQueries, qrels: evalQrels,
                                                       metrics: try Metric.parseList("MRR@10,R@10,nDCG@10"))
                evaluator.queryMaxLength = queryMaxLength
                evaluator.passageMaxLength = passageMaxLength
                evaluate = { try evaluator.evaluate($0) }
            }
            warn("train: \(data.queryIds.count) training queries, \(data.passages.count) passages; \(options.totalSteps) steps of \(options.batchSize) (\(perEpoch) per epoch), loss \(loss.rawValue)")
            try loopOptions.run(trainer, evaluate: evaluate, evaluateFirst: true)
        }
    }
}

extension ContrastiveLossKind: ExpressibleByArgument {}
extension LearningRateSchedule.Decay: ExpressibleByArgument {}

extension Train {
    /// `densekit train cross`.
    struct Cross: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a cross-encoder (reranker) on queries, qrels and mined hard negatives.",
            discussion: """
            Each step draws --batch-size training queries; each gets a group of --group-size \
            passages: one relevant passage and --group-size - 1 negatives from --negatives (lines \
            qid<TAB>pid,pid,..., best first; relevant passages are never negatives; a short list is \
            drawn from with replacement, an empty one replaced by random passages). The model reads \
            query and passage together and gives one logit per pair. \
            Losses: listwise (softmax cross-entropy over each group, positive first: Tevatron's \
            reranker loss) or bce (binary cross-entropy on every pair, positive 1, negatives 0, \
            with --pos-weight). \
            --model is a cross-encoder folder to continue training, or a sentence-transformers / \
            BERT folder: its encoder (and pooler, when it has one) starts the new model and the \
            classifier is initialised from --seed. \
            Output: a sentence-transformers 6.x CrossEncoder folder in --out (which \
            sentence-transformers and Hugging Face load), with checkpoint-STEP/ folders; --resume \
            continues from the latest one. With --eval-queries, --eval-qrels and --eval-run, the \
            top --eval-depth of that run are reranked at each checkpoint and at the end, and \
            MRR@10, R@10 and nDCG@10 are reported before and after.
            """)

        @Option(name: .long, help: "Model folder: a cross-encoder, or a sentence-transformers / BERT folder to start one from.")
        var model: String
        @OptionGroup var trainingData: TrainingDataOptions
        @Option(name: .long, help: "Hard negatives: qid<TAB>pid,pid,... per line.")
        var negatives: String
        @Option(name: .long, help: "Loss: listwise or bce.")
        var loss = CrossEncoderOptions().loss
        @Option(name: .long, help: "Passages per query: one positive and group-size - 1 negatives.")
        var groupSize = CrossEncoderOptions().groupSize
        @Option(name: .long, help: "Queries per step.")
        var batchSize = CrossEncoderOptions().batchSize
        @Option(name: .long, help: "Truncate each (query, passage) pair to this many tokens.")
        var maxLength = CrossEncoderOptions().maxLength
        @Option(name: .long, help: "BCE: weight of the positive class.")
        var posWeight = CrossEncoderOptions().posWeight
        @Option(name: .long, help: "Pairs per forward/backward chunk and worker (whole groups): bounds activation memory.")
        var chunkSize = CrossEncoderOptions().chunkSize
        @Option(name: .long, help: "Worker threads (default: $DENSEKIT_THREADS, else one per core).")
        var threads: Int?
        @OptionGroup var loopOptions: LoopOptionGroup
        @Option(name: .long, help: "Dev queries to evaluate reranking at checkpoints.")
        var evalQueries: String?
        @Option(name: .long, help: "Dev qrels (with --eval-queries); only the judgments of --eval-queries' queries count.")
        var evalQrels: String?
        @Option(name: .long, help: "First-stage run of the dev queries to rerank (MS MARCO or TREC).")
        var evalRun: String?
        @Option(name: .long, help: "Passages of the dev run (default: --collection).")
        var evalCollection: String?
        @Option(name: .long, help: "Passages reranked per dev query.")
        var evalDepth = 20

        func validate() throws {
            let eval = [evalQueries, evalQrels, evalRun].filter { $0 != nil }.count
            guard eval == 0 || eval == 3 else { throw ValidationError("--eval-queries, --eval-qrels and --eval-run go together") }
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
            guard groupSize > 1 else { throw ValidationError("--group-size must be at least 2") }
            guard maxLength >= 3 else { throw ValidationError("--max-length must be at least 3") }
            guard evalDepth > 0 else { throw ValidationError("--eval-depth must be positive") }
            if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
            guard posWeight.isFinite, posWeight > 0 else { throw ValidationError("--pos-weight must be a positive number, not \(posWeight)") }
        }

        func run() throws {
            try loopOptions.checkOut(base: URL(fileURLWithPath: model))
            let folder = ModelFolder(URL(fileURLWithPath: model))
            let base = try CrossEncoder.starting(from: folder, seed: loopOptions.seed)
            if try folder.kind() != .crossEncoder { warn("train: \(model) is a \(try folder.kind().rawValue): new classifier on its encoder (seed \(loopOptions.seed))") }
            let data = try trainingData.load(negatives: negatives)
            var options = CrossEncoderOptions()
            let perEpoch = max(1, data.queryIds.count / batchSize)
            options.loop = loopOptions.loop(stepsPerEpoch: perEpoch, threads: threads)
            options.loss = loss
            options.groupSize = groupSize
            options.batchSize = batchSize
            options.maxLength = maxLength
            options.posWeight = posWeight
            options.chunkSize = chunkSize

            let task = try CrossEncoderTask(base: base, data: data, options: options)
            let trainer = try Trainer(task: task, output: URL(fileURLWithPath: loopOptions.out))
            var evaluate: ((CrossEncoder) throws -> Evaluation)?
            if let evalQueries, let evalQrels, let evalRun {
                var evaluator = try RerankEvaluator(run: evalRun, queries: evalQueries, qrels: evalQrels, collection: evalCollection ?? trainingData.collection,
                                                    depth: evalDepth, metrics: try Metric.parseList("MRR@10,R@10,nDCG@10"))
                evaluator.options = EncodeOptions(batchSize: 32, threads: threads, maxLength: maxLength)
                evaluate = { try evaluator.evaluate($0) }
                warn("train: first stage (top \(evalDepth) of \(evalRun)): \(evaluator.baseline().meansLine)")
            }
            warn("train: \(data.queryIds.count) training queries, \(data.passages.count) passages; \(options.totalSteps) steps of \(batchSize) queries x \(groupSize) passages (\(perEpoch) per epoch), loss \(loss.rawValue)")
            // A fresh classification head ranks at random: nothing to score before training.
            try loopOptions.run(trainer, evaluate: evaluate, evaluateFirst: try folder.kind() == .crossEncoder)
        }
    }
}

extension CrossEncoderLossKind: ExpressibleByArgument {}

/// The training set every `train` subcommand reads.
struct TrainingDataOptions: ParsableArguments {
    @Option(name: .long, help: "Passages (MS MARCO collection.tsv, BEIR corpus.jsonl, JSONL).")
    var collection: String
    @Option(name: .long, help: "Training queries.")
    var queries: String
    @Option(name: .long, help: "Training qrels.")
    var qrels: String
    @Flag(name: .long, help: "Train on the known ids when the negatives name unknown queries or passages, or more than 5% of the qrels do (otherwise an error).")
    var skipBadLines = false

    /// Reads the passages, queries, qrels and `negatives` (when given); says what they name
    /// that is unknown.
    func load(negatives: String?) throws -> TrainingData {
        warn("train: reading \(collection), \(queries), \(qrels)" + (negatives.map { ", \($0)" } ?? ""))
        let data = try TrainingData.load(collection: collection, queries: queries, qrels: qrels, negatives: negatives, allowUnknown: skipBadLines)
        if let summary = data.unknown.summary { warn("train: skipped unknown ids: \(summary)") }
        guard !data.queryIds.isEmpty else {
            throw ValidationErrorMessage("\(qrels): no training query has a text in \(queries) and a relevant passage in \(collection)")
        }
        return data
    }
}
