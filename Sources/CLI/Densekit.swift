import ArgumentParser
import DensekitStore
import Foundation

/// The `densekit` command: dense retrieval from the command line.
@main
struct Densekit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "densekit",
        abstract: "Dense retrieval and contrastive indexing: embed, index, search, evaluate, train.",
        discussion: """
        Models are sentence-transformers / Hugging Face folders (config.json, model.safetensors, \
        vocab.txt or tokenizer.json, modules.json + 1_Pooling/config.json). Without --model, \
        commands use $DENSEKIT_MODEL, else ~/.cache/densekit/models/all-MiniLM-L6-v2 \
        (scripts/fetch-model.sh puts it there).
        """,
        version: "0.1.0",
        subcommands: [Embed.self, Index.self, Search.self, Serve.self, Rerank.self, Fuse.self, Eval.self, Report.self, Mine.self, Train.self, Nearest.self, Model.self, Bench.self, SystemInfo.self, XMCCommand.self]
    )

    static func main() {
        // Before any file is opened: a closed stdin/stdout/stderr must not be handed to one.
        StandardDescriptors.reserve()
        ProcessSetup.apply()
        let arguments = CommandLineRepair.attachingNegativeValues(Array(CommandLine.arguments.dropFirst()))
        if let message = CommandLineRepair.unknownSubcommand(arguments, root: Densekit.self) {
            FileHandle.standardError.write(Data("Error: \(message)\n  See 'densekit --help' for more information.\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        main(arguments)
    }
}
