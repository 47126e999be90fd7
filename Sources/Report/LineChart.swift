import Foundation

/// A line chart as one `<svg>` element: labelled axes with ticks, one line per series (each
/// with its own colour, dash and marker: `SVG.Style`), and a legend.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public enum Scale: Sendable { case linear, logarithmic }

    /// What the chart shows, for tests and the page: `data-figure` of the element.
    public var figure: String
    public var xLabel: String
    public var yLabel: String
    public var xScale = Scale.linear
    /// The y range; nil: from the data (0 included when all values are positive and near it).
    public var yRange: ClosedRange<Double>?
    public var series: [Series]
    public var width = 720.0, height = 400.0

    public init(figure: String, xLabel: String, yLabel: String, series: [Series]) {
        self.figure = figure
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Plot area margins: left holds the y ticks and label, bottom the x ticks, label and legend.
    private var margin: (left: Double, right: Double, top: Double, bottom: Double) {
        (68, 20, 16, 64 + 20 * Double((series.count + 2) / 3))
    }

    public var svg: String {
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (xScale == .linear || $0.x > 0) }
        let xs = points.map(\.x), ys = points.map(\.y)
        var xAxis = Axis(low: xs.min() ?? 0, high: xs.max() ?? 1, scale: xScale)
        var yAxis = Axis(low: yRange?.lowerBound ?? (ys.min() ?? 0), high: yRange?.upperBound ?? (ys.max() ?? 1), scale: .linear)
        if yRange == nil { yAxis.pad() }
        xAxis.widenIfFlat()
        yAxis.widenIfFlat()
        let m = margin
        let plot = SVG.Plot(x: m.left, y: m.top, width: width - m.left - m.right, height: height - m.top - m.bottom)
        func px(_ x: Double) -> Double { plot.x + xAxis.fraction(x) * plot.width }
        func py(_ y: Double) -> Double { plot.y + (1 - yAxis.fraction(y)) * plot.height }
        var out = SVG.open(figure: figure, width: width, height: height, title: "\(yLabel) against \(xLabel)")
        out += SVG.yGrid(yAxis.ticks(), plot: plot, at: py)
        for tick in xAxis.ticks() {
            let x = SVG.coordinate(px(tick))
            out += "<line x1=\"\(x)\" x2=\"\(x)\" y1=\"\(SVG.coordinate(plot.y))\" y2=\"\(SVG.coordinate(plot.y + plot.height))\" stroke=\"#e4e4e4\"/>"
            out += "<text x=\"\(x)\" y=\"\(SVG.coordinate(plot.y + plot.height + 16))\" text-anchor=\"middle\">\(SVG.tick(tick))</text>"
        }
        out += SVG.frame(plot, xLabel: xLabel, below: 36, yLabel: yLabel)
        // Lines, each with a few markers.
        for (index, line) in series.enumerated() {
            let style = SVG.Style.of(index)
            let kept = line.points.filter { $0.x.isFinite && $0.y.isFinite && (xScale == .linear || $0.x > 0) }
            guard !kept.isEmpty else { continue }
            let path = kept.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(SVG.coordinate(px($0.element.x))) \(SVG.coordinate(py($0.element.y)))" }.joined()
            out += "<g class=\"series\" data-name=\"\(SVG.escape(line.name))\">"
            out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(style.colour)\" stroke-width=\"2\"\(style.dashAttribute)/>"
            // Markers evenly spaced across the plot's width (not by point index, which a log axis would crowd to the right).
            var nextMarker = -Double.infinity
            for point in kept where px(point.x) >= nextMarker {
                out += style.marker.draw(x: px(point.x), y: py(point.y), colour: style.colour)
                nextMarker = px(point.x) + plot.width / 8
            }
            out += "</g>"
        }
        // Legend: three entries a row under the x label.
        for (index, line) in series.enumerated() {
            let style = SVG.Style.of(index)
            let x = plot.x + Double(index % 3) * (plot.width / 3), y = plot.y + plot.height + 58 + Double(index / 3) * 20
            out += "<line x1=\"\(SVG.coordinate(x))\" x2=\"\(SVG.coordinate(x + 34))\" y1=\"\(SVG.coordinate(y))\" y2=\"\(SVG.coordinate(y))\" stroke=\"\(style.colour)\" stroke-width=\"2\"\(style.dashAttribute)/>"
            out += style.marker.draw(x: x + 17, y: y, colour: style.colour)
            out += "<text x=\"\(SVG.coordinate(x + 40))\" y=\"\(SVG.coordinate(y))\" dominant-baseline=\"middle\">\(SVG.escape(line.name))</text>"
        }
        return out + "</svg>"
    }
}

/// One axis: its range, where a value falls on it, and round tick values.
struct Axis {
    var low: Double, high: Double
    let scale: LineChart.Scale

    init(low: Double, high: Double, scale: LineChart.Scale) {
        self.low = scale == .logarithmic ? max(low, 1e-12) : low
        self.high = high
        self.scale = scale
    }

    /// Where `value` falls, 0 at `low` and 1 at `high`.
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: (value - low) / (high - low)
        case .logarithmic: (log10(max(value, 1e-12)) - log10(low)) / (log10(high) - log10(low))
        }
    }

    /// A range that starts at 0 when the data is positive and near it (scores, recall, rates),
    /// with a little room above.
    mutating func pad() {
        if low > 0 && low < (high - low) { low = 0 }
        let room = (high - low) * 0.05
        high += room
        if low < 0 { low -= room }
    }

    /// A single value (or none) still gets an axis.
    mutating func widenIfFlat() {
        guard high <= low else { return }
        if scale == .logarithmic { (low, high) = (low / 10, high * 10) } else { (low, high) = (low - 1, high + 1) }
    }

    /// Powers of ten on a log axis; 1, 2 or 5 times a power of ten on a linear one, about 6.
    func ticks() -> [Double] {
        switch scale {
        case .logarithmic:
            return (Int(floor(log10(low)))...Int(ceil(log10(high)))).map { pow(10, Double($0)) }.filter { $0 >= low * 0.999 && $0 <= high * 1.001 }
        case .linear:
            let raw = (high - low) / 6, power = pow(10, floor(log10(raw)))
            let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? raw
            var ticks: [Double] = [], value = ceil(low / step) * step
            while value <= high + step * 1e-9 {
                ticks.append(abs(value) < step * 1e-9 ? 0 : value)
                value += step
            }
            return ticks
        }
    }
}
