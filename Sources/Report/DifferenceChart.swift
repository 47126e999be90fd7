import Foundation

/// Per-query differences between two runs, sorted from B's largest gain to its largest loss,
/// as one `<svg>`: the area above the zero line is where B wins, below where it loses, and
/// the flat stretch at zero the ties (the "sorted difference plot" of TREC papers).
public struct DifferenceChart: Sendable {
    public var figure: String
    /// The values drawn, any order (sorted here).
    public var differences: [Double]
    public var yLabel: String
    public var width = 720.0, height = 300.0

    public init(figure: String, differences: [Double], yLabel: String) {
        self.figure = figure
        self.differences = differences
        self.yLabel = yLabel
    }

    public var svg: String {
        let sorted = differences.filter(\.isFinite).sorted(by: >)
        let bound = max(sorted.map(abs).max() ?? 0, 1e-9)
        var axis = Axis(low: -bound, high: bound, scale: .linear)
        axis.widenIfFlat()
        let plot = (x: 68.0, y: 16.0, width: width - 88, height: height - 70)
        func px(_ i: Double) -> Double { plot.x + i / Double(max(1, sorted.count)) * plot.width }
        func py(_ y: Double) -> Double { plot.y + (1 - axis.fraction(y)) * plot.height }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-figure=\"\(SVG.escape(figure))\" role=\"img\" "
            + "viewBox=\"0 0 \(SVG.coordinate(width)) \(SVG.coordinate(height))\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" "
            + "font-family=\"sans-serif\" font-size=\"12\">"
        out += "<title>\(SVG.escape(yLabel)) per query, sorted</title>"
        for tick in axis.ticks() {
            let y = SVG.coordinate(py(tick))
            out += "<line x1=\"\(SVG.coordinate(plot.x))\" x2=\"\(SVG.coordinate(plot.x + plot.width))\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"\(tick == 0 ? "#444" : "#e4e4e4")\"/>"
            out += "<text x=\"\(SVG.coordinate(plot.x - 6))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(SVG.tick(tick))</text>"
        }
        // One step per query: a filled outline from the zero line (dark above, light below, so the two read apart in grey).
        if !sorted.isEmpty {
            var above = "M\(SVG.coordinate(px(0))) \(SVG.coordinate(py(0)))", below = above
            for (i, d) in sorted.enumerated() {
                let (x0, x1) = (SVG.coordinate(px(Double(i))), SVG.coordinate(px(Double(i + 1))))
                let (up, down) = (SVG.coordinate(py(max(d, 0))), SVG.coordinate(py(min(d, 0))))
                above += "L\(x0) \(up)L\(x1) \(up)"
                below += "L\(x0) \(down)L\(x1) \(down)"
            }
            let close = "L\(SVG.coordinate(px(Double(sorted.count)))) \(SVG.coordinate(py(0)))Z"
            out += "<path class=\"wins\" d=\"\(above + close)\" fill=\"#0072b2\" stroke=\"none\"/>"
            out += "<path class=\"losses\" d=\"\(below + close)\" fill=\"#e69f00\" stroke=\"none\"/>"
        }
        out += "<rect x=\"\(SVG.coordinate(plot.x))\" y=\"\(SVG.coordinate(plot.y))\" width=\"\(SVG.coordinate(plot.width))\" height=\"\(SVG.coordinate(plot.height))\" fill=\"none\" stroke=\"#444\"/>"
        out += "<text x=\"\(SVG.coordinate(plot.x + plot.width / 2))\" y=\"\(SVG.coordinate(plot.y + plot.height + 20))\" text-anchor=\"middle\">queries (\(sorted.count)), sorted by difference</text>"
        out += "<text transform=\"translate(16 \(SVG.coordinate(plot.y + plot.height / 2))) rotate(-90)\" text-anchor=\"middle\">\(SVG.escape(yLabel))</text>"
        return out + "</svg>"
    }
}
