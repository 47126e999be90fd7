import ArgumentParser
import Foundation

/// The `densekit` command: dense retrieval from the command line.
@main
struct Densekit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "densekit",
        abstract: "Dense retrieval and contrastive indexing: embed, index, search, evaluate, train.",
        discussion: """
        Models are sentence-transformers / Hugging Face folders (config.json, model.safetensors,
        vocab.txt or tokenizer.json, modules.json + 1_Pooling/config.json). Without --model,
        commands use $DENSEKIT_MODEL, else ~/.cache/densekit/models/all-MiniLM-L6-v2
        (scripts/fetch-model.sh puts it there).
        """,
        version: "0.1.0",
        subcommands: [Embed.self, Index.self, Search.self, Eval.self, Mine.self, Train.self, Nearest.self, Model.self, Bench.self]
    )

    static func main() {
        passiveOpenMP()
        main(nil)
    }

    /// Makes FAISS's OpenMP threads sleep instead of spinning when idle.
    ///
    /// GNU OpenMP spin-waits by default; between FAISS calls its spinning threads take the
    /// cores from OpenBLAS's threads (measured here: exact search at 1,811 queries/s with
    /// spinning, 3,345 with passive waiting). libgomp reads OMP_WAIT_POLICY once, when it is
    /// loaded, before `main` runs, so when the user has not chosen a policy the process sets
    /// it and re-executes itself once.
    private static func passiveOpenMP() {
        guard getenv("OMP_WAIT_POLICY") == nil else { return }
        setenv("OMP_WAIT_POLICY", "passive", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed (no /proc): carry on with the default policy.
    }
}
