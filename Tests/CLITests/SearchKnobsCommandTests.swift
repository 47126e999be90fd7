import DensekitTestSupport
import Foundation
import Testing

/// `search --nprobe/--ef-search/--refine` on a tiny model: the setting reaches the search (nprobe =
/// every list, or refining every candidate, is the exact search) and one the index has no part
/// for is a clear error.
@Suite struct SearchKnobsCommandTests {
    @Test func nprobeReachesTheSearchAndAWrongKnobIsRefused() throws {
        let (collection, queries, _) = try RefreshCommandTests().corpus(120)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("model"), withIntermediateDirectories: true)
        let model = try TinyModel.writeFolder(at: folder.appendingPathComponent("model")).path
        for (name, factory) in [("flat", "Flat"), ("ivf", "IVF4,Flat"), ("pq", "PQ1x2")] {
            let build = try CommandRunner.run(["index", "build", "--model", model, "--index", folder.path + "/" + name, "--collection", collection,
                                               "--factory", factory, "--quiet"])
            #expect(build.status == 0, "\(build.stderr)")
        }
        func search(_ name: String, _ extra: [String]) throws -> CommandRunner.Result {
            try CommandRunner.run(["search", "--index", folder.path + "/" + name, "--queries", queries, "-k", "5", "--format", "trec", "--quiet"] + extra)
        }
        /// (query, rank, score) of each line: the tiny model ties many passages, which the two
        /// index types may order differently, and they sum in different orders.
        func scores(_ run: CommandRunner.Result) -> [(query: String, rank: String, score: Double)] {
            run.stdout.split(separator: "\n").map { line in
                let f = line.split(separator: " ")
                return f.count == 6 ? (String(f[0]), String(f[3]), Double(f[4]) ?? .nan) : (String(line), "", .nan)
            }
        }
        func same(_ a: CommandRunner.Result, _ b: CommandRunner.Result) -> Bool {
            let x = scores(a), y = scores(b)
            return !x.isEmpty && x.count == y.count && zip(x, y).allSatisfy { $0.query == $1.query && $0.rank == $1.rank && abs($0.score - $1.score) < 1e-5 }
        }
        let exact = try search("flat", [])
        let all = try search("ivf", ["--nprobe", "4"])
        #expect(exact.status == 0 && all.status == 0, "\(exact.stderr) \(all.stderr)")
        #expect(same(all, exact), "nprobe 4 of 4 lists is the exact search")
        #expect(!all.stderr.contains("inverted lists"), "\(all.stderr)")
        // Above the number of lists: the same exact search, with a warning saying so.
        let above = try search("ivf", ["--nprobe", "9"])
        #expect(above.status == 0 && same(above, exact) && above.stderr.contains("--nprobe 9 is above the 4 inverted lists"), "\(above.stderr)")
        let one = try search("ivf", ["--nprobe", "1"])
        #expect(one.status == 0 && !same(one, all), "nprobe 1 visits one list of 4")
        let wrong = try search("flat", ["--nprobe", "2"])
        #expect(wrong.status != 0 && wrong.stderr.contains("nprobe") && wrong.stderr.contains("Flat"), "\(wrong.stderr)")
        // --refine reaches the search: a PQ index's best 30 x 5 candidates (all 120 passages)
        // re-scored with the stored vectors are the exact search (ExactRefineTests shows a
        // coarse index's own ranking differing; this corpus's passages are near one another).
        let refined = try search("pq", ["--refine", "30"])
        #expect(refined.status == 0 && same(refined, exact), "\(refined.stderr)")
        let badRefine = try search("pq", ["--refine", "0"])
        #expect(badRefine.status != 0 && badRefine.stderr.contains("--refine must be between 1 and 1000"), "\(badRefine.stderr)")
    }
}
