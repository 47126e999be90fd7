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
            through one encoder. Each step draws --batch-size documents and scores them against \
            every label, so a document's negatives are all the labels it does not carry (GradCache \
            chunks bound the memory). Losses: decoupled-softmax (DEXML: each positive label \
            competes only with negatives), soft-topk (DEXML: the positives pushed into a soft \
            top --top-k of sharpness --top-k-alpha), infonce (one positive drawn per document and \
            step, the others masked). Output: a sentence-transformers folder in --out, with \
            checkpoint-STEP/ folders; --resume continues from the latest one.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var loopOptions: LoopOptionGroup
        @Option(name: .long, help: "Training documents: JSON lines {\"id\", \"text\", \"labels\"}.")
        var train: String
        @Option(name: .long, help: "Labels: label<TAB>text lines.")
        var labels: String
        @Option(name: .long, help: "Loss: decoupled-softmax, soft-topk or infonce.")
        var loss = XMCOptions().loss
        @Option(name: .long, help: "Soft top-k: k.")
        var topK = XMCOptions().topK
        @Option(name: .long, help: "Soft top-k: sharpness of the sigmoids.")
        var topKAlpha = XMCOptions().topKAlpha
        @Option(name: .long, help: "Cosine similarity scale (1/temperature).")
        var scale = XMCOptions().scale
        @Option(name: .long, help: "What the encoder reads for a label: name-and-text, text or name.")
        var labelText = XMCOptions().labelText
        @Option(name: .long, help: "Document truncation in tokens.")
        var documentMaxLength = XMCOptions().documentMaxLength
        @Option(name: .long, help: "Label truncation in tokens.")
        var labelMaxLength = XMCOptions().labelMaxLength
        @Option(name: .long, help: "Sequences per forward/backward chunk and worker (GradCache beyond that).")
        var chunkSize = XMCOptions().chunkSize
        @Flag(name: .long, help: "Skip (and count) bad document lines instead of stopping at the first.")
        var skipBadLines = false

        func validate() throws {
            guard topK >= 1 else { throw ValidationError("--top-k must be positive") }
            guard topKAlpha.isFinite, topKAlpha > 0 else { throw ValidationError("--top-k-alpha must be a positive number") }
            guard scale.isFinite, scale > 0 else { throw ValidationError("--scale must be a positive number, not \(scale)") }
            guard chunkSize > 0 else { throw ValidationError("--chunk-size must be positive") }
            guard documentMaxLength >= 2, labelMaxLength >= 2 else { throw ValidationError("--document-max-length and --label-max-length must be at least 2") }
        }

        func run() throws {
            try loopOptions.checkOut(base: modelOptions.directory)
            let base = try modelOptions.loadEncoder()
            let labelSet = try LabelSet(path: labels)
            let (documents, report) = try LabeledDocumentReader.readAll(path: train, labels: labelSet, policy: skipBadLines ? .skip : .stop)
            if let warning = report.warning { warn("train: \(train): \(warning)") }
            var options = XMCOptions()
            let perEpoch = max(1, documents.count / modelOptions.batchSize)
            options.loop = loopOptions.loop(stepsPerEpoch: perEpoch, threads: modelOptions.threads)
            options.loss = loss
            options.topK = topK
            options.topKAlpha = topKAlpha
            options.scale = scale
            options.labelText = labelText
            options.batchSize = modelOptions.batchSize
            options.chunkSize = chunkSize
            options.documentMaxLength = documentMaxLength
            options.labelMaxLength = labelMaxLength
            let task = try XMCTask(base: base, documents: documents, labels: labelSet, options: options)
            let trainer = try Trainer(task: task, output: URL(fileURLWithPath: loopOptions.out))
            warn("train: \(documents.count) documents, \(labelSet.count) labels; \(options.totalSteps) steps of \(options.batchSize) documents (\(perEpoch) per epoch), loss \(loss.rawValue)")
            try loopOptions.run(trainer, evaluate: nil)
        }
    }
}

extension XMCLossKind: ExpressibleByArgument {}
extension LabelTextKind: ExpressibleByArgument {}
