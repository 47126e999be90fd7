import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitTraining
import Foundation

extension Train {
    /// `densekit train xmc`.
    struct XMC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "xmc",
            abstract: "Train a dual encoder for extreme multi-label classification: documents in, labels out (DEXML).",
            discussion: """
            Documents (--train: JSON lines {"id", "text", "labels"}) are the queries and labels \
            (--labels: label<TAB>text lines; the encoder reads --label-text of each) the passages, \
            through one encoder (or, with --separate-towers, a document tower and a label tower: a \
            two-tower folder that xmc predict reads like any other model). Each step draws --batch-size documents and scores them against \
            every label, so a document's negatives are all the labels it does not carry (GradCache \
            chunks bound the memory); with --label-negatives shortlist, a step scores the batch's \
            own labels plus --hard-labels drawn per document from its --shortlist-depth nearest \
            labels, refreshed every --shortlist-every steps (DEXML's dist-de-hnm, for label sets \
            too large to score whole). Losses: decoupled-softmax (DEXML: each positive label \
            competes only with negatives), soft-topk (DEXML: the positives pushed into a soft \
            top --top-k of sharpness --top-k-alpha), infonce (one positive drawn per document and \
            step, the others masked). Output: a sentence-transformers folder in --out, with \
            checkpoint-STEP/ folders; --resume continues from the latest one.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var loopOptions: LoopOptionGroup
        @OptionGroup var data: XMCLabelOptions
        @Option(name: .long, help: "Training documents: JSON lines {\"id\", \"text\", \"labels\"} (with --format ecr: trn_X.txt, trn_X_Y.txt beside it).")
        var train: String
        @Option(name: .long, help: "Loss: decoupled-softmax, soft-topk or infonce.")
        var loss = XMCOptions().loss
        @Option(name: .long, help: "Soft top-k: k.")
        var topK = XMCOptions().topK
        @Option(name: .long, help: "Soft top-k: sharpness of the sigmoids.")
        var topKAlpha = XMCOptions().topKAlpha
        @Option(name: .long, help: "Cosine similarity scale (1/temperature).")
        var scale = XMCOptions().scale
        @Option(name: .long, help: "Sequences per forward/backward chunk and worker (GradCache beyond that).")
        var chunkSize = XMCOptions().chunkSize
        @Option(name: .long, help: "Labels scored per step: all, or shortlist (in-batch labels + hard ones from each document's nearest labels).")
        var labelNegatives = XMCOptions().labelNegatives
        @Option(name: .long, help: "Shortlist: nearest labels kept per document.")
        var shortlistDepth = XMCOptions().shortlistDepth
        @Option(name: .long, help: "Shortlist: hard negative labels drawn per document and step.")
        var hardLabels = XMCOptions().hardLabels
        @Option(name: .long, help: "Shortlist: steps between refreshes (kept in OUT/label-shortlists).")
        var shortlistEvery = XMCOptions().shortlistEvery
        @Flag(name: .long, help: "Train a label tower apart from the document tower (both start from --model).")
        var separateTowers = false
        @Flag(name: .long, help: "Skip (and count) bad document lines instead of stopping at the first.")
        var skipBadLines = false

        func validate() throws {
            guard topK >= 1 else { throw ValidationError("--top-k must be positive") }
            guard topKAlpha.isFinite, topKAlpha > 0 else { throw ValidationError("--top-k-alpha must be a positive number") }
            guard scale.isFinite, scale > 0 else { throw ValidationError("--scale must be a positive number, not \(scale)") }
            guard chunkSize > 0 else { throw ValidationError("--chunk-size must be positive") }
        }

        func run() throws {
            try loopOptions.checkOut(base: modelOptions.directory)
            let base = try modelOptions.loadDualEncoder()
            let labelSet = try data.labelSet()
            let (documents, report) = try data.format.documents(path: train, labels: labelSet, policy: skipBadLines ? .skip : .stop)
            if let warning = report.warning { warn("train: \(train): \(warning)") }
            var options = XMCOptions()
            let perEpoch = max(1, documents.count / modelOptions.batchSize)
            options.loop = loopOptions.loop(stepsPerEpoch: perEpoch, threads: modelOptions.threads)
            options.loss = loss
            options.topK = topK
            options.topKAlpha = topKAlpha
            options.scale = scale
            options.labelText = data.labelText
            options.batchSize = modelOptions.batchSize
            options.chunkSize = chunkSize
            options.documentMaxLength = data.documentMaxLength
            options.labelMaxLength = data.labelMaxLength
            options.separateTowers = separateTowers
            options.labelNegatives = labelNegatives
            options.shortlistDepth = shortlistDepth
            options.hardLabels = hardLabels
            options.shortlistEvery = shortlistEvery
            let task = try XMCTask(base: base, documents: documents, labels: labelSet, options: options,
                                   shortlistDirectory: URL(fileURLWithPath: loopOptions.out).appendingPathComponent("label-shortlists"))
            task.log = { warn($0) }
            let trainer = try Trainer(task: task, output: URL(fileURLWithPath: loopOptions.out))
            warn("train: \(documents.count) documents, \(labelSet.count) labels; \(options.totalSteps) steps of \(options.batchSize) documents (\(perEpoch) per epoch), loss \(loss.rawValue)")
            try loopOptions.run(trainer, evaluate: nil)
        }
    }
}

extension XMCLossKind: ExpressibleByArgument {}
extension LabelTextKind: ExpressibleByArgument {}
extension XMCDataFormat: ExpressibleByArgument {}
extension XMCLabelNegatives: ExpressibleByArgument {}
