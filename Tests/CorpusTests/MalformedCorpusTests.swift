import DensekitCorpus
import DensekitTestSupport
import Foundation
import Testing

/// Corpus, queries and qrels files damaged by mutation: every reader ends in a `CorpusError`
/// naming the file and a line, or reads what is readable; none crashes.
@Suite struct MalformedCorpusTests {
    static let tsv = "1\tGNU Emacs is the extensible self-documenting text editor.\n2\tVim is a highly configurable text editor.\n3\tnano is a small, friendly text editor.\n"
    static let beir = #"{"_id": "d1", "title": "emacs", "text": "GNU Emacs editor"}"# + "\n" + #"{"_id": "d2", "title": "vim", "text": "Vi IMproved"}"# + "\n"
    static let qrels = "q1\t0\t1\t1\nq2\t0\t2\t1\nq3\t0\t3\t2\n"

    func readAll(_ path: String, format: CorpusFormat, policy: BadLinePolicy) throws -> Int {
        let reader = try PassageReader(path: path, format: format, policy: policy)
        var count = 0
        while try reader.nextRecord() != nil { count += 1 }
        return count
    }

    @Test(arguments: [(tsv, CorpusFormat.msmarcoTSV, "c.tsv"), (beir, CorpusFormat.beirJSONL, "c.jsonl")])
    func corpusMutantsFailWithFileAndLine(text: String, format: CorpusFormat, name: String) throws {
        var mutator = InputMutator(seed: 44)
        for iteration in 0..<InputMutator.iterations {
            let path = try Fixture.file(bytes: mutator.mutate(Array(text.utf8)), name: name)
            for policy in [BadLinePolicy.stop, .skip] {
                do { _ = try readAll(path, format: format, policy: policy) } catch {
                    #expect("\(error)".contains(path), "mutant \(iteration): \(error)")  // typed: a CorpusError
                }
            }
        }
    }

    @Test func qrelsMutantsFailWithFileAndLine() throws {
        var mutator = InputMutator(seed: 45)
        var rejected = 0
        for iteration in 0..<InputMutator.iterations {
            let path = try Fixture.file(bytes: mutator.mutate(Array(Self.qrels.utf8)), name: "qrels.tsv")
            do { _ = try QrelsReader.read(path: path) } catch {
                rejected += 1
                #expect("\(error)".contains(path), "mutant \(iteration): \(error)")  // typed: a CorpusError
            }
        }
        #expect(rejected > 0)
    }

    /// A byte-order mark is not part of the first id, in any line-based file.
    @Test func byteOrderMarkIsSkipped() throws {
        let path = try Fixture.file(bytes: [0xEF, 0xBB, 0xBF] + Array(Self.tsv.utf8), name: "bom.tsv")
        let reader = try PassageReader(path: path, format: .msmarcoTSV)
        #expect(try reader.nextRecord()?.record.id == "1")
        let qrelsPath = try Fixture.file(bytes: [0xEF, 0xBB, 0xBF] + Array(Self.qrels.utf8), name: "qrels.tsv")
        #expect(try QrelsReader.read(path: qrelsPath)["q1"] == ["1": 1])
    }
}

/// Ids are checked where they enter; a query id read twice is an error naming both lines.
@Suite struct RecordIdTests {
    @Test func idsThatNoOutputFormatCanHoldAreRefused() throws {
        #expect(RecordId.problem("p1") == nil && RecordId.problem("doc-7/é") == nil)
        for bad in ["", " p1", "p1 ", "p\u{0B}1", "p\r", "a\u{7F}b"] { #expect(RecordId.problem(bad) != nil, "\(bad.debugDescription)") }
        let path = try Fixture.file("ok\tfine\n p2\tleading space\n", name: "c.tsv")
        let reader = try PassageReader(path: path)
        #expect(try reader.nextRecord()?.record.id == "ok")
        #expect { try reader.nextRecord() } throws: { "\($0)".contains(":2:") && "\($0)".contains("begins or ends with a space") }
        let jsonl = try Fixture.file(#"{"_id": "a\tb", "text": "x"}"# + "\n", name: "c.jsonl")
        #expect { try PassageReader(path: jsonl).nextRecord() } throws: { "\($0)".contains("control character") }
    }

    @Test func duplicateQueryIdsAreAnErrorWithBothLines() throws {
        let path = try Fixture.file("q1\tfirst\nq2\tsecond\nq1\tagain\n", name: "queries.tsv")
        let reader = try QueryReader(path: path)
        _ = try reader.nextRecord()
        _ = try reader.nextRecord()
        #expect { try reader.nextRecord() } throws: { "\($0)".contains(":3:") && "\($0)".contains("duplicate query id 'q1' (first at line 1)") }
        // Passages are not refused here: the store's --on-duplicate policy decides.
        let passages = try PassageReader(path: try Fixture.file("p1\ta\np1\tb\n", name: "c.tsv"))
        #expect(try passages.nextRecord() != nil && passages.nextRecord() != nil)
    }
}
