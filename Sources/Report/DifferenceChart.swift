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
        let plot = SVG.Plot(x: 68, y: 16, width: width - 88, height: height - 70)
        func px(_ i: Double) -> Double { plot.x + i / Double(max(1, sorted.count)) * plot.width }
        func py(_ y: Double) -> Double { plot.y + (1 - axis.fraction(y)) * plot.height }
        var out = SVG.open(figure: figure, width: width, height: height, title: "\(yLabel) per query, sorted")
        out += SVG.yGrid(axis.ticks(), plot: plot, at: py, emphasised: 0)
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
        out += SVG.frame(plot, xLabel: "queries (\(sorted.count)), sorted by difference", below: 20, yLabel: yLabel)
        return out + "</svg>"
    }
}
