import Foundation

/// The few pieces of SVG and HTML text a report is made of: escaping, numbers written short,
/// and the series styles that stay apart in grey scale.
///
/// Hand-written rather than a package: no Swift package on this machine draws charts on Linux
/// (Swift Charts is Apple-only, and the SVG packages found write shapes, not axes), and a
/// report needs three kinds of chart of a hundred lines each.
enum SVG {
    /// `text` safe inside an element or a double-quoted attribute (XML's five characters).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A coordinate with one decimal (a tenth of a pixel is below what a screen shows).
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// An axis label: up to 4 significant digits, no trailing zeros, exponent for the very small or large.
    static func tick(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.0e", value) }
        var text = String(format: "%.4g", value)
        if text.contains(".") && !text.contains("e") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// A plot area inside a chart, in pixels.
    struct Plot {
        let x: Double, y: Double, width: Double, height: Double
    }

    /// A chart's opening `<svg>` tag (with `class="chart"` and `data-figure`) and its title.
    static func open(figure: String, width: Double, height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-figure=\"\(escape(figure))\" role=\"img\" "
            + "viewBox=\"0 0 \(coordinate(width)) \(coordinate(height))\" width=\"\(coordinate(width))\" height=\"\(coordinate(height))\" "
            + "font-family=\"sans-serif\" font-size=\"12\"><title>\(escape(title))</title>"
    }

    /// Horizontal grid lines with their labels at `ticks` (`emphasised` drawn dark, as a zero line).
    static func yGrid(_ ticks: [Double], plot: Plot, at py: (Double) -> Double, emphasised: Double? = nil) -> String {
        ticks.map { tick in
            let y = coordinate(py(tick))
            return "<line x1=\"\(coordinate(plot.x))\" x2=\"\(coordinate(plot.x + plot.width))\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"\(tick == emphasised ? "#444" : "#e4e4e4")\"/>"
                + "<text x=\"\(coordinate(plot.x - 6))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(SVG.tick(tick))</text>"
        }.joined()
    }

    /// The plot's frame, the x label `below` pixels under it and the y label turned along the left edge.
    static func frame(_ plot: Plot, xLabel: String, below: Double, yLabel: String) -> String {
        "<rect x=\"\(coordinate(plot.x))\" y=\"\(coordinate(plot.y))\" width=\"\(coordinate(plot.width))\" height=\"\(coordinate(plot.height))\" fill=\"none\" stroke=\"#444\"/>"
            + "<text x=\"\(coordinate(plot.x + plot.width / 2))\" y=\"\(coordinate(plot.y + plot.height + below))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
            + "<text transform=\"translate(16 \(coordinate(plot.y + plot.height / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
    }

    /// How the i-th series is drawn: colour, dash pattern and marker differ together, so that
    /// series stay apart in grey scale (the colours also differ in lightness) and for readers
    /// who do not see colour.
    struct Style {
        let colour: String
        let dash: String?
        let marker: Marker

        static let all: [Style] = [
            Style(colour: "#000000", dash: nil, marker: .circle),
            Style(colour: "#0072b2", dash: "7 4", marker: .square),
            Style(colour: "#d55e00", dash: "2 3", marker: .triangle),
            Style(colour: "#999999", dash: "9 3 2 3", marker: .diamond),
            Style(colour: "#009e73", dash: "4 2", marker: .cross),
            Style(colour: "#cc79a7", dash: "1 2", marker: .circle),
        ]

        static func of(_ index: Int) -> Style { all[index % all.count] }

        var dashAttribute: String { dash.map { " stroke-dasharray=\"\($0)\"" } ?? "" }
    }

    enum Marker {
        case circle, square, triangle, diamond, cross

        /// The marker centred at (x, y), about 7 px across.
        func draw(x: Double, y: Double, colour: String) -> String {
            let (cx, cy) = (coordinate(x), coordinate(y))
            switch self {
            case .circle: return "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"3.5\" fill=\"\(colour)\"/>"
            case .square: return "<rect x=\"\(coordinate(x - 3.5))\" y=\"\(coordinate(y - 3.5))\" width=\"7\" height=\"7\" fill=\"\(colour)\"/>"
            case .triangle:
                return "<path d=\"M\(cx) \(coordinate(y - 4.5))L\(coordinate(x + 4)) \(coordinate(y + 3))L\(coordinate(x - 4)) \(coordinate(y + 3))Z\" fill=\"\(colour)\"/>"
            case .diamond:
                return "<path d=\"M\(cx) \(coordinate(y - 4.5))L\(coordinate(x + 4.5)) \(cy)L\(cx) \(coordinate(y + 4.5))L\(coordinate(x - 4.5)) \(cy)Z\" fill=\"\(colour)\"/>"
            case .cross:
                return "<path d=\"M\(coordinate(x - 4)) \(coordinate(y - 4))L\(coordinate(x + 4)) \(coordinate(y + 4))M\(coordinate(x - 4)) \(coordinate(y + 4))L\(coordinate(x + 4)) \(coordinate(y - 4))\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
            }
        }
    }
}
