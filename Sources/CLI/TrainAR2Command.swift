import ArgumentParser
import DensekitEncoder
import DensekitSearch
import DensekitTraining
import Foundation

extension Train {
    /// `densekit train ar2`.
    struct AR2: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ar2",
            abstract: "AR2: train a dual-encoder retriever and a cross-encoder ranker against each other, in cycles.",
            discussion: """
            Each cycle encodes --collection with the current retriever into a fresh index (kept \
            in --cycles-dir, default OUT/cycles) and retrieves every training query's top \
            --candidate-depth; each step then draws --batch-size queries, each with a relevant \
            passage and --candidates - 1 of its retrieved passages. The cycle's --ranker-steps \
            train the ranker (listwise cross-entropy over the group, positive first) with the \
            retriever frozen; its --retriever-steps train the retriever, ranker frozen, with \
            lambda x adversarial term + (1 - lambda) x distillation from the ranker's softmax at \
            --temperature (AR2RetrieverLoss; lambda = --adv-lambda). Each model has its own \
            learning rate, linear with 10% warm-up over its own steps. Defaults are AR2's MS MARCO \
            setting (SimXNS's train_MS_Pas_AR2.sh: lr 5e-6 and 5e-7, 15 negatives, 500 ranker \
            steps per cycle; 1,500 retriever steps where it runs 5,000); on a CPU, scale batch, \
            candidates and steps down. --ranker is a cross-encoder folder, or a \
            sentence-transformers / BERT folder whose encoder starts a new ranker (its classifier \
            from --seed), which --ranker-warmup steps (default: --ranker-steps) train on the first \
            cycle's candidates at --ranker-warmup-lr (AR2's warm_rank.sh: 1e-5) before the first \
            cycle. With --eval-queries and --eval-qrels, both models are scored before training \
            and after each cycle from the next cycle's index (retriever MRR@10, R@10, R@50, \
            R@100; ranker reranking its top --eval-rerank-depth), one line each, kept in \
            CYCLES/step-N.evaluation.json; the last cycle's end encodes the collection once more \
            for it. Older cycle folders are removed once a new one is complete (--keep-cycles). \
            Output: --out/retriever and --out/ranker, with a checkpoint-STEP/ folder where the \
            warm-up and each cycle end; --resume continues exactly, a refresh included.
            """)

        @Option(name: .long, help: "The retriever to start from (sentence-transformers or two-tower folder).")
        var retriever: String
        @Option(name: .long, help: "The ranker to start from (cross-encoder folder, or an encoder folder to start one).")
        var ranker: String
        @OptionGroup var trainingData: TrainingDataOptions
        @Option(name: .long, help: "Cycles (retrieve, ranker steps, retriever steps).")
        var cycles = AR2Options().cycles
        @Option(name: .long, help: "Ranker steps before the first cycle (default: 0 for a cross-encoder --ranker, else --ranker-steps).")
        var rankerWarmup: Int?
        @Option(name: .long, help: "Peak learning rate of the ranker's warm-up.")
        var rankerWarmupLr = AR2Options().rankerWarmupLearningRate
        @Option(name: .long, help: "Ranker steps per cycle.")
        var rankerSteps = AR2Options().rankerSteps
        @Option(name: .long, help: "Retriever steps per cycle.")
        var retrieverSteps = AR2Options().retrieverSteps
        @Option(name: .long, help: "Passages per query and step: one positive and candidates - 1 retrieved negatives.")
        var candidates = AR2Options().candidates
        @Option(name: .long, help: "Retrieved passages per query that the negatives are drawn from.")
        var candidateDepth = AR2Options().candidateDepth
        @Option(name: .long, help: "Weight of the adversarial term in the retriever's loss (the ranker's distillation gets 1 - this).")
        var advLambda = AR2Options().adversarialWeight
        @Option(name: .long, help: "Temperature of the ranker's softmax in the retriever's loss.")
        var temperature = AR2Options().temperature
        @Option(name: .long, help: "Peak learning rate of the retriever.")
        var retrieverLr = AR2Options().retrieverLearningRate
        @Option(name: .long, help: "Peak learning rate of the ranker.")
        var rankerLr = AR2Options().rankerLearningRate
        @Option(name: .long, help: "Cosine similarity scale of the retriever's softmax.")
        var retrieverScale = AR2Options().retrieverScale
        @Option(name: .long, help: "Queries per step.")
        var batchSize = AR2Options().batchSize
        @Option(name: .long, help: "Query truncation in tokens (retriever).")
        var queryMaxLength = AR2Options().queryMaxLength
        @Option(name: .long, help: "Passage truncation in tokens (retriever).")
        var passageMaxLength = AR2Options().passageMaxLength
        @Option(name: .long, help: "Pair truncation in tokens (ranker).")
        var pairMaxLength = AR2Options().pairMaxLength
        @Option(name: .long, help: "Sequences per forward/backward chunk and worker.")
        var chunkSize = AR2Options().chunkSize
        @Flag(name: .long, help: "Train separate query and passage towers of the retriever.")
        var separateTowers = false
        @Option(name: .long, help: "Worker threads (default: $DENSEKIT_THREADS, else one per core).")
        var threads: Int?
        @Option(name: .long, help: "Folder of each cycle's index and candidates (default: OUT/cycles).")
        var cyclesDir: String?
        @Option(name: .long, help: "Cycle folders kept, the current one included; older ones are removed once a new one is complete.")
        var keepCycles = 1
        @Option(name: .long, help: "Dev queries: evaluate both models before training and after each cycle.")
        var evalQueries: String?
        @Option(name: .long, help: "Qrels of --eval-queries.")
        var evalQrels: String?
        @Option(name: .long, help: "Passages of the retriever's ranking the ranker reranks in evaluations.")
        var evalRerankDepth = 20
        @OptionGroup var control: RunOptionGroup

        func validate() throws {
            guard cycles >= 1 else { throw ValidationError("--cycles must be positive") }
            guard rankerSteps >= 0, retrieverSteps >= 0, rankerSteps + retrieverSteps >= 1 else {
                throw ValidationError("--ranker-steps and --retriever-steps must be 0 or more, and not both 0")
            }
            guard candidates >= 2 else { throw ValidationError("--candidates must be at least 2 (a positive and a negative)") }
            guard candidateDepth >= candidates - 1 else { throw ValidationError("--candidate-depth must be at least --candidates - 1") }
            guard advLambda.isFinite, (0...1).contains(advLambda) else { throw ValidationError("--adv-lambda must be between 0 and 1") }
            guard temperature.isFinite, temperature > 0 else { throw ValidationError("--temperature must be a positive number") }
            guard retrieverLr.isFinite, retrieverLr > 0, rankerLr.isFinite, rankerLr > 0 else { throw ValidationError("--retriever-lr and --ranker-lr must be positive numbers") }
            guard retrieverScale.isFinite, retrieverScale > 0 else { throw ValidationError("--retriever-scale must be a positive number") }
            guard batchSize >= 1, chunkSize >= 1 else { throw ValidationError("--batch-size and --chunk-size must be positive") }
            if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
            if let rankerWarmup, rankerWarmup < 0 { throw ValidationError("--ranker-warmup must be 0 or more") }
            guard rankerWarmupLr.isFinite, rankerWarmupLr > 0 else { throw ValidationError("--ranker-warmup-lr must be a positive number") }
            guard keepCycles >= 1 else { throw ValidationError("--keep-cycles must be at least 1 (the current cycle's folder is needed to resume)") }
            guard (evalQueries == nil) == (evalQrels == nil) else { throw ValidationError("--eval-queries and --eval-qrels go together") }
            guard evalRerankDepth >= 1 else { throw ValidationError("--eval-rerank-depth must be positive") }
        }

        func run() throws {
            let retrieverURL = URL(fileURLWithPath: retriever)
            try control.checkOut(base: retrieverURL)
            let seed = control.seed, out = control.out
            let retrieverModel = try DualEncoder.load(directory: retrieverURL)
            let rankerFolder = ModelFolder(URL(fileURLWithPath: ranker))
            let rankerModel = try CrossEncoder.starting(from: rankerFolder, seed: seed)
            let newRanker = try rankerFolder.kind() != .crossEncoder
            let warmup = rankerWarmup ?? (newRanker ? rankerSteps : 0)
            if newRanker { warn("train: \(ranker) is a \(try rankerFolder.kind().rawValue): new ranker head (seed \(seed)), warmed up for \(warmup) steps") }
            let evaluation = try evalQueries.map { try AR2Evaluation(queries: $0, qrels: evalQrels ?? "", rerankDepth: evalRerankDepth,
                                                                       threads: threads ?? EncodeOptions.defaultThreads) }
            let data = try trainingData.load(negatives: nil)
            var options = AR2Options()
            options.cycles = cycles
            options.rankerWarmupSteps = warmup
            options.rankerWarmupLearningRate = rankerWarmupLr
            options.rankerSteps = rankerSteps
            options.retrieverSteps = retrieverSteps
            options.candidates = candidates
            options.candidateDepth = candidateDepth
            options.adversarialWeight = advLambda
            options.temperature = temperature
            options.retrieverLearningRate = retrieverLr
            options.rankerLearningRate = rankerLr
            options.retrieverScale = retrieverScale
            options.batchSize = batchSize
            options.queryMaxLength = queryMaxLength
            options.passageMaxLength = passageMaxLength
            options.pairMaxLength = pairMaxLength
            options.chunkSize = chunkSize
            options.separateTowers = separateTowers
            control.apply(to: &options.loop)
            options.loop.threads = threads ?? EncodeOptions.defaultThreads
            options.loop.totalSteps = options.totalSteps
            options.loop.checkpointEvery = 0  // AR2Task asks for one where the warm-up and each cycle end
            let task = try AR2Task(retriever: retrieverModel, ranker: rankerModel, data: data, options: options)
            var mining = HardNegativeMiner.Options()
            mining.rangeMax = candidateDepth
            mining.negativesPerQuery = candidateDepth
            let refresh = try RefreshOptionGroup.source(
                recipe: MiningRecipe(retriever: .dense, options: mining), data: data, collection: trainingData.collection,
                directory: cyclesDir ?? out + "/cycles", encode: EncodeOptions(batchSize: 32, threads: threads, maxLength: passageMaxLength), quiet: control.quiet)
            let cycleSource = AR2Cycles(refresh: refresh, options: options, evaluation: evaluation, keepCycles: keepCycles, log: { warn("train: " + $0) })
            cycleSource.ranker = { [unowned task] in task.ranker }
            task.candidateSource = cycleSource
            let trainer = try Trainer(task: task, output: URL(fileURLWithPath: out))
            cycleSource.record = { [unowned trainer] step, result in
                try trainer.trainingLog?.append(TrainingLog.Record(step: step, evaluation: result.retriever, model: "retriever"))
                try trainer.trainingLog?.append(TrainingLog.Record(step: step, evaluation: result.ranker.filter { $0.key != "depth" }, model: "ranker"))
            }
            warn("train: AR2, \(data.queryIds.count) training queries, \(data.passages.count) passages; \(warmup > 0 ? "\(warmup) ranker warm-up steps, then " : "")\(cycles) cycles of \(rankerSteps) ranker + \(retrieverSteps) retriever steps, \(batchSize) queries x \(candidates) passages")
            let progress = AR2ProgressLine(options: options, finalRetrieval: evaluation != nil)
            try control.run(trainer, evaluate: nil, observe: { progress.record($0) }, line: { progress.line($0) })
            // The run's end is a cycle's end: score the final models (a stop inside a cycle is not).
            if options.endsWarmupOrCycle(afterSteps: trainer.step) && trainer.step > options.rankerWarmupSteps {
                try cycleSource.evaluateFinal(step: trainer.step, saveRetriever: { try task.retriever.save(to: ModelFolder($0)) })
            }
        }
    }
}

/// AR2's progress line: where the run is (cycle, stage, step in the stage), the step's loss,
/// and ETAs of the stage and of the whole run, each from the rate of its own kind of step
/// (ranker steps and retriever steps cost differently). A cycle's first step also retrieves
/// (encodes the collection, mines, evaluates): that time is kept apart and counted once per
/// retrieval still to come.
final class AR2ProgressLine {
    let options: AR2Options
    /// Whether the run's end encodes the collection once more (for the last evaluation).
    let finalRetrieval: Bool
    private var seconds: [Bool: Double] = [:], steps: [Bool: Int] = [:]
    private var retrievalSeconds: Double?

    init(options: AR2Options, finalRetrieval: Bool) {
        self.options = options
        self.finalRetrieval = finalRetrieval
    }

    /// Counts one step's time: towards its kind's rate, or as the retrieval a cycle's first step does.
    func record<Task>(_ report: Trainer<Task>.StepReport) {
        let index = report.step - 1, done = options.position(atStep: index)
        let ranker = done.stage.trainsRanker
        if index == options.cycleStart(done.cycle) {
            retrievalSeconds = max(0, report.seconds - (perStep(ranker) ?? 0))
        } else {
            seconds[ranker, default: 0] += report.seconds
            steps[ranker, default: 0] += 1
        }
    }

    private func perStep(_ ranker: Bool) -> Double? { steps[ranker].map { seconds[ranker, default: 0] / Double($0) } }

    /// The line after step `report.step` (recorded before).
    func line<Task>(_ report: Trainer<Task>.StepReport) -> String {
        let done = options.position(atStep: report.step - 1)
        let ranker = done.stage.trainsRanker
        let fallback = perStep(ranker) ?? perStep(!ranker) ?? report.seconds
        let rankerLeft = options.rankerSteps(before: report.totalSteps) - options.rankerSteps(before: report.step)
        let retrieverLeft = report.totalSteps - report.step - rankerLeft
        let retrievals = (1..<max(1, options.cycles)).filter { options.cycleStart($0) >= report.step }.count + (finalRetrieval ? 1 : 0)
        let run = Double(rankerLeft) * (perStep(true) ?? fallback) + Double(retrieverLeft) * (perStep(false) ?? fallback)
            + Double(retrievals) * (retrievalSeconds ?? 0)
        let stage = Double(done.stageSteps - done.step - 1) * (perStep(ranker) ?? fallback)
        let cycle = done.stage == .rankerWarmup ? "warm-up" : "cycle \(done.cycle + 1)/\(options.cycles)"
        return String(format: "train: %@ %@ step %d/%d  loss %.4f  |grad| %.3f  lr %.2e  %.1f queries/s  ETA stage %@, run %@",
                      cycle, done.stage == .rankerWarmup ? "ranker" : done.stage.rawValue, done.step + 1, done.stageSteps, report.loss,
                      report.gradientNorm, report.learningRate, Double(report.examplesPerStep) / max(report.seconds, 1e-9),
                      Progress.clock(stage), Progress.clock(run))
    }
}
