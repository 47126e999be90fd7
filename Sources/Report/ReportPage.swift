import DensekitEvaluation
import DensekitTraining
import Foundation

/// A `RetrievalReport` as one self-contained HTML file: inline CSS and SVG, no script, font or
/// network request, so it opens offline and can be mailed. The markup is also well-formed XML
/// (every element closed, text escaped), which is how the tests read it.
///
/// Figures, each a `<svg class="chart" data-figure="...">`: `recall` (R@k against k, log
/// scale, one line per run); per comparison `difference-A-B` (sorted per-query RR
/// differences); with training logs, `loss`, `learning-rate` and, when a log holds
/// evaluations, `dev-MRR@10`.
public enum ReportPage {
    public static func html(_ report: RetrievalReport, generated: Date = Date()) -> String {
        var body = "<h1>\(SVG.escape(report.title))</h1>"
        body += "<p class=\"meta\">\(report.scored.count) run\(report.scored.count == 1 ? "" : "s") against <code>\(SVG.escape(report.qrelsPath))</code> "
            + "(\(report.judgedQueries) queries with a relevant document); trec_eval's conventions (a judged query missing from a run scores 0). "
            + "Written by densekit on \(ISO8601DateFormatter().string(from: generated)).</p>"
        if !report.notes.isEmpty {
            body += "<section id=\"notes\"><h2>About the inputs</h2><ul>" + report.notes.map { "<li>\(SVG.escape($0))</li>" }.joined() + "</ul></section>"
        }
        if !report.scored.isEmpty { body += metricsTable(report) + recallFigure(report) }
        if !report.xmc.isEmpty { body += xmcTable(report) }
        for comparison in report.comparisons { body += comparisonSection(comparison) }
        if !report.logs.isEmpty { body += trainingSection(report.logs) }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>\
        <title>\(SVG.escape(report.title))</title><style>\(style)</style></head>
        <body>\(body)</body></html>

        """
    }

    static let style = """
    body{font-family:sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#111;line-height:1.4}\
    table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .7em;border-bottom:1px solid #ccc;text-align:right}\
    th:first-child,td:first-child{text-align:left}td.best{font-weight:bold;text-decoration:underline}\
    figure{margin:1em 0}figcaption{font-size:.9em;color:#333}svg.chart{max-width:100%;height:auto}\
    code{font-size:.9em}.meta{color:#333}
    """

    static func metricsTable(_ report: RetrievalReport) -> String {
        let rows = report.scored.map { run in
            (run.name, run.evaluation.means, [String(run.evaluation.queryCount - run.evaluation.queriesMissingFromRun)])
        }
        return "<section id=\"metrics\"><h2>Metrics</h2>"
            + table(rowLabel: "run", columns: RetrievalReport.metrics.map(\.description), extraColumns: ["judged queries ranked"], rows: rows)
            + "<p>Means over the \(report.judgedQueries) judged queries; the best value of each column is bold and underlined. "
            + "MAP reads the whole ranking, the others the cut-off given.</p></section>"
    }

    static func xmcTable(_ report: RetrievalReport) -> String {
        "<section id=\"labels\"><h2>Label predictions</h2>"
            + table(rowLabel: "predictions", columns: report.xmcMetrics.map(\.description), extraColumns: [], rows: report.xmc.map { ($0.name, $0.values, []) })
            + "<p>Over the \(report.xmcDocuments) documents with true labels, as <code>densekit eval --xmc</code> scores them (pyxclib's definitions"
            + (report.xmcMetrics.contains(where: \.needsPropensity) ? "; PSP@k with the training labels' propensities" : "") + ").</p></section>"
    }

    /// A table of 4-decimal values, one row per input (`data-run` = its name, each value's
    /// cell `data-metric` = its column), the best of each column marked when rows compete.
    static func table(rowLabel: String, columns: [String], extraColumns: [String], rows: [(name: String, values: [Double], extra: [String])]) -> String {
        func shown(_ value: Double) -> String { String(format: "%.4f", value) }
        // Marked by the value shown, so that equal-looking values are marked alike.
        let best = columns.indices.map { i in rows.map { shown($0.values[i]) }.max { Double($0) ?? 0 < Double($1) ?? 0 } }
        var out = "<table><thead><tr><th>\(SVG.escape(rowLabel))</th>" + (columns + extraColumns).map { "<th>\(SVG.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows {
            out += "<tr data-run=\"\(SVG.escape(row.name))\"><td>\(SVG.escape(row.name))</td>"
            for (i, column) in columns.enumerated() {
                let text = shown(row.values[i]), isBest = rows.count > 1 && text == best[i]
                out += "<td data-metric=\"\(SVG.escape(column))\"\(isBest ? " class=\"best\"" : "")>\(text)</td>"
            }
            out += row.extra.map { "<td>\(SVG.escape($0))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>"
    }

    static func recallFigure(_ report: RetrievalReport) -> String {
        var chart = LineChart(figure: "recall", xLabel: "cut-off k (log scale)", yLabel: "recall@k (mean over queries)",
                              series: report.scored.map { run in
                                  LineChart.Series(name: run.name, points: run.recallCurve.enumerated().map { (Double($0.offset + 1), $0.element) })
                              })
        chart.xScale = .logarithmic
        chart.yRange = 0...1
        return "<section id=\"recall\"><h2>Recall@k</h2><figure>\(chart.svg)<figcaption>Share of each query's relevant passages found "
            + "in the top k, for k = 1 to \(RetrievalReport.curveDepth), averaged over the judged queries.</figcaption></figure></section>"
    }

    static func comparisonSection(_ c: RetrievalReport.Comparison) -> String {
        let metric = RetrievalReport.comparisonMetric.description
        let chart = DifferenceChart(figure: "difference-\(c.a)-\(c.b)", differences: c.differences, yLabel: "\(metric): \(c.b) − \(c.a)")
        let t = c.tTest.map { String(format: "paired t-test t = %.3f, p = %@", $0.t, pValue($0.p)) } ?? "paired t-test: fewer than 2 queries"
        var out = "<section class=\"comparison\" data-a=\"\(SVG.escape(c.a))\" data-b=\"\(SVG.escape(c.b))\"><h2>\(SVG.escape(c.b)) against \(SVG.escape(c.a)), query by query</h2>"
        out += "<p>On \(metric) (reciprocal rank of the first relevant passage in the top 10): <strong>\(SVG.escape(c.b)) wins on \(c.wins)</strong>, "
            + "ties on \(c.ties), <strong>loses on \(c.losses)</strong> of \(c.differences.count) queries; mean difference \(String(format: "%+.4f", c.meanDifference)). "
            + "Two-sided paired randomization test (\(c.randomizationTrials) permutations): <span class=\"p-randomization\">p = \(pValue(c.randomizationP))"
            + (c.randomizationP * Double(c.randomizationTrials + 1) < 1.5 ? " (no permutation was as extreme: the smallest p this test gives)" : "") + "</span>; "
            + "<span class=\"p-t\">\(t)</span>.</p>"
        out += "<figure>\(chart.svg)<figcaption>Each query's \(metric) under \(SVG.escape(c.b)) minus under \(SVG.escape(c.a)), largest gain first; "
            + "above the line (dark) \(SVG.escape(c.b)) ranks the first relevant passage higher, below (light) lower, at zero the same.</figcaption></figure></section>"
        return out
    }

    static func pValue(_ p: Double) -> String { p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p) }

    static func trainingSection(_ logs: [RetrievalReport.NamedLog]) -> String {
        var out = "<section id=\"training\"><h2>Training</h2>"
        // One curve per log and model: a run that trains two models in turn (AR2) logs each
        // step's model, and their losses are on different scales.
        let steps = logs.flatMap { log in
            let records = log.value.filter { !$0.isEvaluation }
            return Set(records.map { $0.model ?? "" }).sorted().map { model in
                (name: model.isEmpty ? log.name : "\(log.name) (\(model))", records: records.filter { ($0.model ?? "") == model })
            }
        }
        let longest = steps.map(\.records.count).max() ?? 0
        let window = max(1, longest / 50)
        let loss = LineChart(figure: "loss", xLabel: "step", yLabel: window > 1 ? "training loss (mean of \(window) steps)" : "training loss",
                             series: steps.map { name, records in
                                 LineChart.Series(name: name, points: movingMean(records.compactMap { r in r.loss.map { (Double(r.step), Double($0)) } }, window: window))
                             })
        out += "<figure>\(loss.svg)<figcaption>The loss of each step\(window > 1 ? ", averaged over \(window) steps to show the trend" : "").</figcaption></figure>"
        let rate = LineChart(figure: "learning-rate", xLabel: "step", yLabel: "learning rate",
                             series: steps.map { name, records in
                                 LineChart.Series(name: name, points: records.compactMap { r in r.lr.map { (Double(r.step), Double($0)) } })
                             })
        out += "<figure>\(rate.svg)<figcaption>The peak-scheduled learning rate of each step (warm-up, then decay).</figcaption></figure>"
        let metric = RetrievalReport.comparisonMetric.description
        var dev: [LineChart.Series] = []
        for log in logs {
            let evaluations = log.value.filter { $0.evaluation?[metric] != nil }
            for model in Set(evaluations.map { $0.model ?? "" }).sorted() {
                let points = evaluations.filter { ($0.model ?? "") == model }.map { (Double($0.step), $0.evaluation?[metric] ?? 0) }
                dev.append(LineChart.Series(name: model.isEmpty ? log.name : "\(log.name) (\(model))", points: points))
            }
        }
        if !dev.isEmpty {
            let chart = LineChart(figure: "dev-\(metric)", xLabel: "step", yLabel: "dev \(metric)", series: dev)
            out += "<figure>\(chart.svg)<figcaption>Dev \(metric) at each evaluation (step 0: before training).</figcaption></figure>"
        }
        out += "<p>Logs: " + logs.map { "\(SVG.escape($0.name)) <code>\(SVG.escape($0.path))</code>" }.joined(separator: "; ") + ".</p></section>"
        return out
    }

    /// Each point's y replaced by the mean of the `window` points ending at it.
    static func movingMean(_ points: [(Double, Double)], window: Int) -> [(x: Double, y: Double)] {
        guard window > 1 else { return points.map { (x: $0.0, y: $0.1) } }
        var out: [(x: Double, y: Double)] = [], sum = 0.0
        for (i, point) in points.enumerated() {
            sum += point.1
            if i >= window { sum -= points[i - window].1 }
            if i + 1 >= window || i == points.count - 1 { out.append((point.0, sum / Double(min(i + 1, window)))) }
        }
        return out
    }
}
