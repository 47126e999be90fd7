import ArgumentParser
import DensekitEvaluation

extension RunFormat: ExpressibleByArgument {}

/// Where and how a command writes its run file (`search --queries`, `rerank`, `fuse`); each
/// command names its own default format and tag.
struct RunOutputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Run file to write (default standard output).")
    var output = "-"
    @Option(name: .long, help: "Run file format: msmarco (qid<TAB>pid<TAB>rank) or trec (qid Q0 pid rank score tag); the default depends on the command.")
    var format: RunFormat?
    @Option(name: .long, help: "Run tag (trec format; the default names the command).")
    var tag: String?

    /// The run writer, opened now (so an unwritable output is found before any work).
    func writer(defaultFormat: RunFormat, defaultTag: String) throws -> RunWriter {
        try RunWriter(path: output, format: format ?? defaultFormat, tag: tag ?? defaultTag)
    }
}
