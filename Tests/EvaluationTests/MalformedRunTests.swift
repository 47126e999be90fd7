import DensekitCorpus
import DensekitEvaluation
import DensekitTestSupport
import Foundation
import Testing

/// Run files damaged by mutation: `RunReader` ends in a `CorpusError` naming the file and line,
/// or reads the run; it never crashes.
@Suite struct MalformedRunTests {
    static let trec = "q1 Q0 a 1 2.5 run\nq1 Q0 b 2 1.25 run\nq2 Q0 c 1 0.5 run\n"
    static let msmarco = "q1\ta\t1\nq1\tb\t2\nq2\tc\t1\n"

    @Test(arguments: [trec, msmarco])
    func runMutantsFailWithFileAndLine(text: String) throws {
        var mutator = InputMutator(seed: 46)
        var rejected = 0
        for iteration in 0..<InputMutator.iterations {
            let path = try Toy.file(String(decoding: mutator.mutate(Array(text.utf8)), as: UTF8.self), name: "run.txt")
            do { _ = try RunReader.read(path: path) } catch {
                rejected += 1
                #expect("\(error)".contains(path), "mutant \(iteration): \(error)")
            }
        }
        #expect(rejected > 0)
    }

    /// trec_eval stores scores as 32-bit floats: scores equal as floats tie, and ties go by
    /// docid descending, whatever the 64-bit values say.
    @Test func scoresEqualAsFloatsTieAsInTrecEval() throws {
        // 0.49936226452359056 and 0.4993622676667991 are the same Float (0.49936226).
        let path = try Toy.file("q1 Q0 a 1 0.4993622676667991 run\nq1 Q0 b 2 0.49936226452359056 run\n", name: "run.trec")
        let (run, _) = try RunReader.read(path: path)
        #expect(run.rankings["q1"]?.map(\.docId) == ["b", "a"])
    }
}
