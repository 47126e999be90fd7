import DensekitCorpus
import DensekitEvaluation
import DensekitReport
import DensekitTraining
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The page as a browser and a reader get it: well-formed markup, one chart per figure asked
/// for, the evaluator's numbers in the table, notes about odd inputs.
struct ReportPageTests {
    static let qrels: Qrels = ["1": ["a": 1], "2": ["b": 1, "c": 1], "3": ["d": 2], "4": ["e": 1]]
    static func run(_ rankings: [String: [String]]) -> Run { Run(rankings: rankings.mapValues { $0.map { RankedDoc(docId: $0) } }) }
    static let baseline = run(["1": ["x", "a"], "2": ["b", "y", "z", "c"], "3": ["q", "r", "s"], "4": ["e"]])
    static let better = run(["1": ["a"], "2": ["c", "b"], "3": ["d"], "4": ["y", "e"], "99": ["a"]])

    /// Elements, attributes and text of a well-formed document (nil when it is not).
    final class Outline: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        var cells: [String: String] = [:]  // "run|metric" -> text
        private var cell: String?, run: String?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append((name, attributes))
            if name == "tr" { run = attributes["data-run"] }
            if name == "td", let metric = attributes["data-metric"], let run { cell = "\(run)|\(metric)"; cells[cell!] = "" }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if let cell { cells[cell, default: ""] += string } }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { if name == "td" { cell = nil } }

        static func of(_ html: String) -> Outline? {
            let outline = Outline()
            // The DOCTYPE line is HTML's; the rest must parse as XML.
            let parser = XMLParser(data: Data(html.replacingOccurrences(of: "<!DOCTYPE html>", with: "").utf8))
            parser.delegate = outline
            return parser.parse() ? outline : nil
        }
        func figures() -> [String] { elements.filter { $0.name == "svg" }.compactMap { $0.attributes["data-figure"] } }
    }

    func log() -> RetrievalReport.NamedLog {
        var records = (1...120).map { TrainingLog.Record(step: $0, loss: 2 / Float($0), lr: 1e-5, gradNorm: 1, seconds: 0.1, itemsPerSecond: 80) }
        records += [TrainingLog.Record(step: 0, evaluation: ["MRR@10": 0.3]), TrainingLog.Record(step: 120, evaluation: ["MRR@10": 0.6])]
        return RetrievalReport.NamedLog(name: "tuned", path: "tuned/train.jsonl", value: records)
    }

    @Test func aReportOfTwoRunsAndALog() throws {
        let report = try RetrievalReport(title: "Zero-shot <vs> tuned", qrels: Self.qrels, qrelsPath: "qrels.tsv",
                                         runs: [.init(name: "zero-shot", path: "a.tsv", value: Self.baseline), .init(name: "tuned", path: "b.tsv", value: Self.better)],
                                         logs: [log()])
        let html = ReportPage.html(report)
        let outline = try #require(Outline.of(html), "not well-formed")
        #expect(outline.figures() == ["recall", "difference-zero-shot-tuned", "loss", "learning-rate", "dev-MRR@10"])
        #expect(!html.contains("<script"))
        #expect(html.components(separatedBy: "://").count - 1 == outline.figures().count, "no URL besides each svg's xmlns")
        // The table holds the evaluator's means, to 4 decimals.
        for (name, run) in [("zero-shot", Self.baseline), ("tuned", Self.better)] {
            let evaluation = Evaluator(qrels: Self.qrels, metrics: RetrievalReport.metrics).evaluate(run)
            for (metric, mean) in zip(RetrievalReport.metrics, evaluation.means) {
                #expect(outline.cells["\(name)|\(metric)"] == String(format: "%.4f", mean), "\(name) \(metric)")
            }
        }
        // tuned: RR 1, 1, 1, 0.5 against 0.5, 1, 0, 1: two wins, a tie, a loss.
        let comparison = try #require(report.comparisons.first)
        #expect((comparison.wins, comparison.ties, comparison.losses) == (2, 1, 1))
        #expect(html.contains("tuned wins on 2</strong>, ties on 1, <strong>loses on 1</strong> of 4 queries"))
        // The run's query 99 is not in the qrels: said, not silently dropped.
        #expect(report.notes.count == 1 && report.notes[0].contains("tuned (b.tsv): 1 of its 5 queries are not judged"))
        #expect(html.contains("About the inputs") && html.contains("Zero-shot &lt;vs&gt; tuned"))
        // Best values marked: tuned has the higher MRR@10.
        #expect(outline.elements.contains { $0.name == "td" && $0.attributes["data-metric"] == "MRR@10" && $0.attributes["class"] == "best" })
    }

    @Test func onlyALogOrOnlyOneRun() throws {
        let logOnly = try RetrievalReport(title: "t", qrels: [:], qrelsPath: "", runs: [], logs: [log()])
        #expect(try #require(Outline.of(ReportPage.html(logOnly))).figures() == ["loss", "learning-rate", "dev-MRR@10"])
        let one = try RetrievalReport(title: "t", qrels: Self.qrels, qrelsPath: "q", runs: [.init(name: "a", path: "a", value: Self.baseline)], logs: [])
        #expect(try #require(Outline.of(ReportPage.html(one))).figures() == ["recall"])
        #expect(one.notes.isEmpty)
    }

    /// A run that trains two models in turn (AR2) names each step's model: each model's loss,
    /// learning rate and dev score is a line of its own.
    @Test func aLogOfTwoModelsDrawsALinePerModel() throws {
        let records = (1...40).map { step in
            TrainingLog.Record(step: step, loss: step % 4 == 0 ? 0.7 : 2.5, lr: 1e-5, gradNorm: 1, seconds: 0.1, itemsPerSecond: 8,
                               model: step % 4 == 0 ? "ranker" : "retriever")
        } + ["retriever", "ranker"].map { TrainingLog.Record(step: 40, evaluation: ["MRR@10": 0.5], model: $0) }
        let report = try RetrievalReport(title: "t", qrels: [:], qrelsPath: "", runs: [],
                                         logs: [RetrievalReport.NamedLog(name: "ar2", path: "ar2/train.jsonl", value: records)])
        let outline = try #require(Outline.of(ReportPage.html(report)))
        for figure in ["loss", "learning-rate", "dev-MRR@10"] {
            let start = try #require(outline.elements.firstIndex { $0.name == "svg" && $0.attributes["data-figure"] == figure })
            let names = outline.elements[start...].dropFirst().prefix { $0.name != "svg" }
                .filter { $0.name == "g" && $0.attributes["class"] == "series" }.compactMap { $0.attributes["data-name"] }
            #expect(names == ["ar2 (ranker)", "ar2 (retriever)"], "\(figure): \(names)")
        }
    }

    @Test func twoInputsWithOneNameAreRefused() {
        #expect(throws: ReportError.duplicateName("a")) {
            try RetrievalReport(title: "t", qrels: Self.qrels, qrelsPath: "q",
                                runs: [.init(name: "a", path: "x", value: Self.baseline), .init(name: "a", path: "y", value: Self.better)], logs: [])
        }
    }

    /// Judged queries a run lacks are said too (they score 0).
    @Test func aRunMissingJudgedQueriesIsNoted() throws {
        let report = try RetrievalReport(title: "t", qrels: Self.qrels, qrelsPath: "q", runs: [.init(name: "a", path: "x", value: Self.run(["1": ["a"]]))], logs: [])
        #expect(report.notes == ["a (x): 3 of the 4 judged queries have no ranking in the run; each scores 0 and counts in the means"])
    }
}
