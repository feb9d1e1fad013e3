// Line and scatter plots as standalone SVG (transfer curves, accuracy over time, sweeps).
// Deterministic: coordinates are printed with fixed decimals, series in the order added.

public struct SVGPlot: Sendable {
    public struct Series: Sendable {
        public var label: String
        public var points: [(Double, Double)]
        public var color: String
        public var dashed: Bool
        public var markers: Bool
        public var line: Bool
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var width = 720.0
    public var height = 440.0
    public private(set) var series: [Series] = []
    /// Horizontal reference lines (y, label, color).
    public var hLines: [(Double, String, String)] = []
    /// Vertical markers (x, label, color).
    public var vLines: [(Double, String, String)] = []

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    public mutating func add(_ label: String, _ points: [(Double, Double)], color: String? = nil,
                             dashed: Bool = false, markers: Bool = false, line: Bool = true) {
        let c = color ?? Self.palette[series.count % Self.palette.count]
        series.append(Series(label: label, points: points.filter { $0.0.isFinite && $0.1.isFinite },
                             color: c, dashed: dashed, markers: markers, line: line))
    }

    /// "Nice" tick values covering [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = span / Double(count)
        var mag = 1.0
        while mag * 10 <= raw { mag *= 10 }
        while mag > raw { mag /= 10 }
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = (lo / step).rounded(.up) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func num(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        var s = "\(r)"
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 || abs(v) < 1e-3 {
            var e = 0
            var m = v
            while abs(m) >= 10 { m /= 10; e += 1 }
            while abs(m) < 1 { m *= 10; e -= 1 }
            return num(m) + "e" + String(e)
        }
        let r = (v * 1e4).rounded() / 1e4
        var s = "\(r)"
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    public func render(xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) -> String {
        let all = series.flatMap(\.points)
        var x0 = all.map(\.0).min() ?? 0, x1 = all.map(\.0).max() ?? 1
        var y0 = min(all.map(\.1).min() ?? 0, hLines.map(\.0).min() ?? .infinity)
        var y1 = max(all.map(\.1).max() ?? 1, hLines.map(\.0).max() ?? -.infinity)
        if let xRange { x0 = xRange.lowerBound; x1 = xRange.upperBound }
        if let yRange { y0 = yRange.lowerBound; y1 = yRange.upperBound }
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        if yRange == nil { let pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad }
        let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + ph - (y - y0) / (y1 - y0) * ph }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.num(width))" height="\(Self.num(height))" viewBox="0 0 \(Self.num(width)) \(Self.num(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Self.num(width / 2))" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        // Grid and ticks.
        for t in Self.ticks(x0, x1) {
            s += "<line x1=\"\(Self.num(px(t)))\" y1=\"\(Self.num(top))\" x2=\"\(Self.num(px(t)))\" y2=\"\(Self.num(top + ph))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(Self.num(px(t)))\" y=\"\(Self.num(top + ph + 16))\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
        }
        for t in Self.ticks(y0, y1) {
            s += "<line x1=\"\(Self.num(left))\" y1=\"\(Self.num(py(t)))\" x2=\"\(Self.num(left + pw))\" y2=\"\(Self.num(py(t)))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(Self.num(left - 6))\" y=\"\(Self.num(py(t) + 4))\" text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        s += "<rect x=\"\(Self.num(left))\" y=\"\(Self.num(top))\" width=\"\(Self.num(pw))\" height=\"\(Self.num(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(Self.num(left + pw / 2))\" y=\"\(Self.num(height - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16 \(Self.num(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        s += "<clipPath id=\"plot\"><rect x=\"\(Self.num(left))\" y=\"\(Self.num(top))\" width=\"\(Self.num(pw))\" height=\"\(Self.num(ph))\"/></clipPath>\n"
        for (y, text, color) in hLines {
            s += "<line x1=\"\(Self.num(left))\" y1=\"\(Self.num(py(y)))\" x2=\"\(Self.num(left + pw))\" y2=\"\(Self.num(py(y)))\" stroke=\"\(color)\" stroke-dasharray=\"6 4\"/>"
            s += "<text x=\"\(Self.num(left + pw - 4))\" y=\"\(Self.num(py(y) - 4))\" text-anchor=\"end\" fill=\"\(color)\">\(Self.escape(text))</text>\n"
        }
        for (x, text, color) in vLines {
            s += "<line x1=\"\(Self.num(px(x)))\" y1=\"\(Self.num(top))\" x2=\"\(Self.num(px(x)))\" y2=\"\(Self.num(top + ph))\" stroke=\"\(color)\" stroke-dasharray=\"3 3\"/>"
            s += "<text x=\"\(Self.num(px(x) + 4))\" y=\"\(Self.num(top + ph / 2))\" fill=\"\(color)\">\(Self.escape(text))</text>\n"
        }
        s += "<g clip-path=\"url(#plot)\">\n"
        for se in series {
            if se.line && se.points.count > 1 {
                let pts = se.points.map { "\(Self.num(px($0.0))),\(Self.num(py($0.1)))" }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(se.color)\" stroke-width=\"2\"\(se.dashed ? " stroke-dasharray=\"6 3\"" : "") points=\"\(pts)\"/>\n"
            }
            if se.markers {
                for p in se.points {
                    s += "<circle cx=\"\(Self.num(px(p.0)))\" cy=\"\(Self.num(py(p.1)))\" r=\"3\" fill=\"\(se.color)\"/>"
                }
                s += "\n"
            }
        }
        s += "</g>\n"
        // Legend: lower right, on a white box.
        let legendW = 40 + 7.0 * Double(series.map(\.label.count).max() ?? 0)
        let legendH = 18.0 * Double(series.count) + 8
        let lx = left + pw - legendW - 10, ly = top + ph - legendH - 10
        if !series.isEmpty {
            s += "<rect x=\"\(Self.num(lx))\" y=\"\(Self.num(ly))\" width=\"\(Self.num(legendW))\" height=\"\(Self.num(legendH))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"
        }
        for (i, se) in series.enumerated() {
            let y = ly + 18 + Double(i) * 18
            if se.line {
                s += "<line x1=\"\(Self.num(lx + 8))\" y1=\"\(Self.num(y - 4))\" x2=\"\(Self.num(lx + 32))\" y2=\"\(Self.num(y - 4))\" stroke=\"\(se.color)\" stroke-width=\"2\"\(se.dashed ? " stroke-dasharray=\"6 3\"" : "")/>"
            } else {
                s += "<circle cx=\"\(Self.num(lx + 20))\" cy=\"\(Self.num(y - 4))\" r=\"3\" fill=\"\(se.color)\"/>"
            }
            s += "<text x=\"\(Self.num(lx + 38))\" y=\"\(Self.num(y))\">\(Self.escape(se.label))</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}

