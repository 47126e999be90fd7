import ArgumentParser
import DensekitEncoder
import DensekitEvaluation
import DensekitTraining
import Foundation

/// `densekit train ...`: fine-tune encoders.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune encoders with contrastive losses on the CPU.",
        subcommands: [Dual.self])

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
            Output: a sentence-transformers folder in --out (with --separate-towers, query_model/ \
            and passage_model/ folders and towers.json, which index build and search read as one \
            model), with checkpoint-STEP/ folders; --resume continues from the latest one.
            """)

        @OptionGroup var modelOptions: ModelOptions

        @Option(name: .long, help: "Passages (MS MARCO collection.tsv, BEIR corpus.jsonl, JSONL).")
        var collection: String
        @Option(name: .long, help: "Training queries.")
        var queries: String
        @Option(name: .long, help: "Training qrels.")
        var qrels: String
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
        @Option(name: .long, help: "Peak learning rate.")
        var lr = TrainerOptions().learningRate
        @Option(name: .long, help: "Training steps.")
        var steps: Int?
        @Option(name: .long, help: "Epochs over the training queries (instead of --steps).")
        var epochs: Int?
        @Option(name: .long, help: "Warm-up steps (linear from 0).")
        var warmup = TrainerOptions().warmupSteps
        @Option(name: .long, help: "Decay after warm-up: linear, cosine or constant.")
        var decay = TrainerOptions().decay
        @Option(name: .long, help: "AdamW weight decay (not on biases and layer norms).")
        var weightDecay = TrainerOptions().weightDecay
        @Option(name: .long, help: "Clip the global gradient norm to this (0: no clipping).")
        var maxGradNorm = TrainerOptions().maxGradientNorm
        @Option(name: .long, help: "Random seed (batches, sampling).")
        var seed = TrainerOptions().seed
        @Option(name: .long, help: "Query truncation in tokens.")
        var queryMaxLength = TrainerOptions().queryMaxLength
        @Option(name: .long, help: "Passage truncation in tokens.")
        var passageMaxLength = TrainerOptions().passageMaxLength
        @Option(name: .long, help: "Save a checkpoint (and evaluate) every this many steps.")
        var checkpointEvery = TrainerOptions().checkpointEvery
        @Option(name: .long, help: "Output folder.")
        var out: String
        @Flag(name: .long, help: "Continue from the latest checkpoint in --out.")
        var resume = false
        @Option(name: .long, help: "Dev queries to report MRR@10 at checkpoints.")
        var evalQueries: String?
        @Option(name: .long, help: "Dev qrels (with --eval-queries).")
        var evalQrels: String?
        @Option(name: .long, help: "Passages searched for evaluation (default: --collection).")
        var evalCollection: String?
        @Option(name: .long, help: "Stop after this many minutes of training (then save and evaluate).")
        var timeBudget: Double?
        @Option(name: .long, help: "Stop after this many steps, although the schedule plans --steps (then save and evaluate).")
        var stopAfter: Int?
        @Flag(name: .long, help: "Train separate query and passage towers (both start from --model).")
        var separateTowers = false
        @Flag(name: .long, help: "Recompute layer activations in the backward pass: less memory, about a third more compute.")
        var gradientCheckpointing = false
        @Flag(name: .long, help: "No progress on stderr.")
        var quiet = false

        func validate() throws {
            guard (steps == nil) != (epochs == nil) else { throw ValidationError("give --steps or --epochs (one of them)") }
            guard (evalQueries == nil) == (evalQrels == nil) else { throw ValidationError("--eval-queries and --eval-qrels go together") }
            guard modelOptions.batchSize > 1 else { throw ValidationError("--batch-size must be at least 2") }
            if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be positive") }
        }

        func run() throws {
            let base = try modelOptions.loadDualEncoder()
            warn("train: reading \(collection), \(queries), \(qrels)")
            let data = try TrainingData.load(collection: collection, queries: queries, qrels: qrels, negatives: negatives)
            var options = TrainerOptions()
            options.loss = loss
            options.symmetric = symmetric
            options.scale = scale
            options.batchSize = modelOptions.batchSize
            options.chunkSize = chunkSize
            options.negativesPerQuery = negatives == nil ? 0 : negativesPerQuery
            options.learningRate = lr
            options.warmupSteps = warmup
            options.decay = decay
            options.weightDecay = weightDecay
            options.maxGradientNorm = maxGradNorm
            options.seed = seed
            options.queryMaxLength = queryMaxLength
            options.passageMaxLength = passageMaxLength
            options.checkpointEvery = checkpointEvery
            options.threads = modelOptions.threads ?? EncodeOptions.defaultThreads
            options.timeBudgetSeconds = (timeBudget ?? 0) * 60
            options.stopAfterSteps = stopAfter ?? 0
            options.separateTowers = separateTowers
            options.gradientCheckpointing = gradientCheckpointing
            let perEpoch = max(1, data.queryIds.count / options.batchSize)
            options.totalSteps = steps ?? (epochs ?? 1) * perEpoch

            let trainer = try DualEncoderTrainer(base: base, data: data, options: options, output: URL(fileURLWithPath: out))
            if resume {
                if let step = try trainer.resume() { warn("train: resuming from step \(step)") } else { warn("train: no checkpoint in \(out); starting fresh") }
            }
            var evaluate: ((DualEncoder) throws -> String)?
            if let evalQueries, let evalQrels {
                var evaluator = try RetrievalEvaluator(collection: evalCollection ?? collection, queries: evalQueries, qrels: evalQrels,
                                                       metrics: try Metric.parseList("MRR@10,R@10,nDCG@10"))
                evaluator.queryMaxLength = queryMaxLength
                evaluator.passageMaxLength = passageMaxLength
                evaluate = { try evaluator.evaluate($0) }
                warn("train: before training: \(try evaluator.evaluate(base))")
            }
            warn("train: \(data.queryIds.count) training queries, \(data.passages.count) passages; \(options.totalSteps) steps of \(options.batchSize) (\(perEpoch) per epoch), loss \(loss.rawValue)")
            let started = Date()
            let interactive = isatty(STDERR_FILENO) != 0
            var lastPrinted = Date.distantPast
            try trainer.train(progress: { report in
                guard !quiet else { return }
                let now = Date()
                guard now.timeIntervalSince(lastPrinted) >= (interactive ? 0.5 : 10) || report.step == report.totalSteps else { return }
                lastPrinted = now
                let elapsed = now.timeIntervalSince(started)
                let rate = Double(report.step) / max(elapsed, 1e-9)
                let line = String(format: "train: step %d/%d  loss %.4f  |grad| %.3f  lr %.2e  %.3f steps/s  %.1f pairs/s  ETA %@",
                                  report.step, report.totalSteps, report.loss, report.gradientNorm, report.learningRate, rate,
                                  rate * Double(options.batchSize), Progress.clock(Double(report.totalSteps - report.step) / max(rate, 1e-9)))
                FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + (interactive ? "" : "\n")).utf8))
            }, evaluate: evaluate, log: { warn(($0.isEmpty ? "" : "\n") + "train: " + $0) })
            print("\(out): trained model after \(trainer.step) of \(options.totalSteps) steps (\(String(format: "%.0f", Date().timeIntervalSince(started))) s)")
        }
    }
}

extension ContrastiveLossKind: ExpressibleByArgument {}
extension LearningRateSchedule.Decay: ExpressibleByArgument {}
