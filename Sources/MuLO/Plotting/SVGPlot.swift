import Foundation

/// Line plots as standalone SVG, styled like figures in a paper: framed axes with ticks and
/// labels, optional logarithmic axes, a legend, optional error bars. No dependencies.
public struct Series: Sendable {
    public var label: String
    public var x: [Double]
    public var y: [Double]
    /// Half-widths of error bars (same count as y), if any.
    public var error: [Double]?
    public var markers: Bool
    /// Drawn thin and translucent under the others (e.g. single seeds under their mean).
    public var faint = false
    /// Points marked × (e.g. where a run diverged), y clamped into the panel.
    public var crosses: [(x: Double, y: Double)] = []
    /// Index into the palette and the marker shapes; nil: the label's place among the plot's labels.
    /// Set it to keep a curve's look from plot to plot when some plots leave series out.
    public var style: Int?

    public init(label: String, x: [Double], y: [Double], error: [Double]? = nil, markers: Bool = false,
                faint: Bool = false, crosses: [(x: Double, y: Double)] = [], style: Int? = nil) {
        self.label = label
        self.x = x
        self.y = y
        self.error = error
        self.markers = markers
        self.faint = faint
        self.crosses = crosses
        self.style = style
    }
}

public enum AxisScale: Sendable { case linear, log2, log10 }

public struct Panel: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: AxisScale = .linear
    public var yScale: AxisScale = .linear
    public var series: [Series]
    /// Clamp the y range (e.g. to the loss clip bound) so diverging curves do not flatten the rest.
    public var yMax: Double?
    /// A range the x axis covers whatever the data (e.g. a run's whole horizon, so curves that all
    /// stop at their first steps are drawn against it rather than stretched over a fraction of a step).
    public var xSpan: ClosedRange<Double>?

    public init(title: String, xLabel: String, yLabel: String, xScale: AxisScale = .linear, yScale: AxisScale = .linear,
                series: [Series], yMax: Double? = nil, xSpan: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.series = series
        self.yMax = yMax
        self.xSpan = xSpan
    }
}

public enum SVGPlot {
    /// A colour-blind-safe palette (Okabe–Ito).
    static let colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// Marker shapes, one per series label beside its colour, so series drawn on top of each other
    /// (two optimizers with the same final losses) stay told apart, in grey print too.
    enum Marker: CaseIterable { case circle, square, triangleUp, diamond, triangleDown, plus, cross, star }

    /// The marker of label `i` at (x, y), about 7 px across.
    static func marker(_ i: Int, _ x: Double, _ y: Double, _ c: String) -> String {
        func poly(_ pts: [(Double, Double)]) -> String {
            "<polygon points=\"\(pts.map { "\(fmt(x + $0.0)),\(fmt(y + $0.1))" }.joined(separator: " "))\" fill=\"\(c)\"/>\n"
        }
        func path(_ d: String) -> String { "<path d=\"\(d)\" stroke=\"\(c)\" stroke-width=\"2\" fill=\"none\"/>\n" }
        switch Marker.allCases[i % Marker.allCases.count] {
        case .circle: return "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"3.5\" fill=\"\(c)\"/>\n"
        case .square: return poly([(-3, -3), (3, -3), (3, 3), (-3, 3)])
        case .triangleUp: return poly([(0, -4.2), (3.8, 2.8), (-3.8, 2.8)])
        case .diamond: return poly([(0, -4.3), (3.5, 0), (0, 4.3), (-3.5, 0)])
        case .triangleDown: return poly([(0, 4.2), (3.8, -2.8), (-3.8, -2.8)])
        case .plus: return path("M\(fmt(x - 4)),\(fmt(y))H\(fmt(x + 4))M\(fmt(x)),\(fmt(y - 4))V\(fmt(y + 4))")
        case .cross: return path("M\(fmt(x - 3)),\(fmt(y - 3))L\(fmt(x + 3)),\(fmt(y + 3))M\(fmt(x - 3)),\(fmt(y + 3))L\(fmt(x + 3)),\(fmt(y - 3))")
        case .star:
            return poly((0..<10).map { k in
                let (r, a) = (k % 2 == 0 ? 4.5 : 1.9, Double(k) * .pi / 5 - .pi / 2)
                return (r * cos(a), r * sin(a))
            })
        }
    }

    /// Panels laid out in a grid of `columns`, sharing one legend.
    public static func render(_ panels: [Panel], columns: Int = 3, panelWidth: Double = 360, panelHeight: Double = 270,
                              title: String? = nil) -> String {
        let cols = max(1, min(columns, panels.count))
        let rows = (panels.count + cols - 1) / cols
        let labels = panels.flatMap { $0.series.map(\.label) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let marked = Set(panels.flatMap { $0.series.filter(\.markers).map(\.label) })
        let series = panels.flatMap(\.series)
        let styles = Dictionary(uniqueKeysWithValues: labels.enumerated().map { i, label in
            (label, series.first { $0.label == label }?.style ?? i)
        })
        // Legend entries in as many columns as the longest label allows.
        let entryWidth = 44 + 7.2 * Double(labels.map(\.count).max() ?? 0)
        let perRow = max(1, min(labels.count, Int((Double(cols) * panelWidth - 40) / entryWidth)))
        let legendHeight = 22.0 * Double((labels.count + perRow - 1) / perRow) + 10
        let top = title == nil ? 0.0 : 30.0
        // Wide enough for the title (≈ 9 px a character at 15 px bold); panels centred beneath it.
        let width = max(Double(cols) * panelWidth, 9 * Double(title?.count ?? 0) + 40)
        let left = (width - Double(cols) * panelWidth) / 2
        let height = top + Double(rows) * panelHeight + legendHeight
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>

            """
        if let title { out += text(width / 2, 20, title, size: 15, anchor: "middle", weight: "bold") }
        for (i, p) in panels.enumerated() {
            let ox = left + Double(i % cols) * panelWidth, oy = top + Double(i / cols) * panelHeight
            out += panel(p, ox: ox, oy: oy, w: panelWidth, h: panelHeight, styles: styles)
        }
        let ly = top + Double(rows) * panelHeight + 8
        for (i, label) in labels.enumerated() {
            let x = 20 + Double(i % perRow) * entryWidth, y = ly + 22 * Double(i / perRow)
            let style = styles[label] ?? i
            let c = colors[style % colors.count]
            out += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y + 6))\" x2=\"\(fmt(x + 24))\" y2=\"\(fmt(y + 6))\" stroke=\"\(c)\" stroke-width=\"2.5\"/>\n"
            if marked.contains(label) { out += marker(style, x + 12, y + 6, c) }
            out += text(x + 30, y + 10, label, size: 12, anchor: "start")
        }
        return out + "</svg>\n"
    }

    private static func panel(_ p: Panel, ox: Double, oy: Double, w: Double, h: Double, styles: [String: Int]) -> String {
        let (left, right, topPad, bottom) = (62.0, 14.0, 28.0, 46.0)
        let (pw, ph) = (w - left - right, h - topPad - bottom)
        let (x0, y0) = (ox + left, oy + topPad)
        func tx(_ v: Double) -> Double? { transform(v, p.xScale) }
        func ty(_ v: Double) -> Double? { transform(v, p.yScale) }
        let xs = (p.series.flatMap(\.x) + (p.xSpan.map { [$0.lowerBound, $0.upperBound] } ?? [])).compactMap(tx)
        var ys: [Double] = []
        for s in p.series {
            for (k, v) in s.y.enumerated() where v.isFinite {
                let e = s.error?[k] ?? 0
                // Both ends of the error bar under the cap (a diverged run's last loss must not stretch the axis).
                func capped(_ y: Double) -> Double { p.yMax.map { min(y, $0) } ?? y }
                if let a = ty(capped(v + e)) { ys.append(a) }
                if let b = ty(capped(max(v - e, p.yScale == .linear ? -Double.infinity : v / 10))) { ys.append(b) }
            }
        }
        var out = "<g>\n" + text(x0 + pw / 2, oy + 18, p.title, size: 13, anchor: "middle", weight: "bold")
        out += "<rect x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(pw))\" height=\"\(fmt(ph))\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n"
        out += text(x0 + pw / 2, oy + h - 8, p.xLabel, size: 12, anchor: "middle")
        out += "<text x=\"\(fmt(ox + 14))\" y=\"\(fmt(y0 + ph / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 \(fmt(ox + 14)) \(fmt(y0 + ph / 2)))\">\(escape(p.yLabel))</text>\n"
        guard let xmin = xs.min(), let xmax = xs.max(), let yminRaw = ys.min(), let ymaxRaw = ys.max() else {
            // Series whose every value is non-finite (runs that all diverged) are not "no data".
            let empty = p.series.isEmpty ? "no data" : "no finite values"
            return out + text(x0 + pw / 2, y0 + ph / 2, empty, size: 12, anchor: "middle") + "</g>\n"
        }
        let (xa, xb) = pad(xmin, xmax, 0.03)
        // Log axes end on 1-2-5 values, so the ticks cover the data to both ends.
        let (ya, yb) = p.yScale == .log10 ? snapLog10(yminRaw, ymaxRaw) : pad(yminRaw, ymaxRaw, 0.06)
        func px(_ v: Double) -> Double { x0 + (v - xa) / (xb - xa) * pw }
        func py(_ v: Double) -> Double { y0 + ph - (v - ya) / (yb - ya) * ph }
        for t in ticks(xa, xb, p.xScale) {
            let x = px(t.0)
            out += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y0 + ph))\" x2=\"\(fmt(x))\" y2=\"\(fmt(y0 + ph + 4))\" stroke=\"#333\"/>\n"
            out += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y0))\" x2=\"\(fmt(x))\" y2=\"\(fmt(y0 + ph))\" stroke=\"#e5e5e5\"/>\n"
            out += text(x, y0 + ph + 16, t.1, size: 10.5, anchor: "middle")
        }
        for t in ticks(ya, yb, p.yScale) {
            let y = py(t.0)
            out += "<line x1=\"\(fmt(x0 - 4))\" y1=\"\(fmt(y))\" x2=\"\(fmt(x0))\" y2=\"\(fmt(y))\" stroke=\"#333\"/>\n"
            out += "<line x1=\"\(fmt(x0))\" y1=\"\(fmt(y))\" x2=\"\(fmt(x0 + pw))\" y2=\"\(fmt(y))\" stroke=\"#e5e5e5\"/>\n"
            out += text(x0 - 7, y + 3.5, t.1, size: 10.5, anchor: "end")
        }
        out += "<clipPath id=\"c\(Int(ox))_\(Int(oy))\"><rect x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(pw))\" height=\"\(fmt(ph))\"/></clipPath>\n"
        out += "<g clip-path=\"url(#c\(Int(ox))_\(Int(oy)))\">\n"
        for s in p.series.filter(\.faint) + p.series.filter({ !$0.faint }) {
            let index = styles[s.label] ?? 0
            let c = colors[index % colors.count]
            var points: [String] = [], marks = ""   // marks over the line
            for (xv, yv) in s.crosses {
                guard let a = tx(xv), let b = ty(p.yMax.map { min(yv, $0) } ?? yv) else { continue }
                let (cx, cy) = (px(a), min(max(py(b), y0 + 5), y0 + ph - 5))
                out += "<path d=\"M\(fmt(cx - 5)),\(fmt(cy - 5))L\(fmt(cx + 5)),\(fmt(cy + 5))M\(fmt(cx - 5)),\(fmt(cy + 5))L\(fmt(cx + 5)),\(fmt(cy - 5))\" stroke=\"\(c)\" stroke-width=\"2.2\"/>\n"
            }
            for (k, (xv, yv)) in zip(s.x, s.y).enumerated() {
                guard yv.isFinite, let a = tx(xv), let b = ty(p.yMax.map { min(yv, $0) } ?? yv) else {
                    if points.count > 1 { out += polyline(points, c, faint: s.faint) }
                    points = []
                    continue
                }
                points.append("\(fmt(px(a))),\(fmt(py(b)))")
                if s.markers { marks += marker(index, px(a), py(b), c) }
                if let e = s.error?[k], e > 0, let lo = ty(max(yv - e, p.yScale == .linear ? -Double.infinity : yv / 10)), let hi = ty(yv + e) {
                    out += "<line x1=\"\(fmt(px(a)))\" y1=\"\(fmt(py(lo)))\" x2=\"\(fmt(px(a)))\" y2=\"\(fmt(py(hi)))\" stroke=\"\(c)\" stroke-width=\"1.2\"/>\n"
                }
            }
            if points.count > 1 { out += polyline(points, c, faint: s.faint) }
            out += marks
        }
        return out + "</g>\n</g>\n"
    }

    private static func polyline(_ pts: [String], _ c: String, faint: Bool) -> String {
        let style = faint ? "stroke-width=\"0.8\" stroke-opacity=\"0.3\"" : "stroke-width=\"1.8\""
        return "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(c)\" \(style) stroke-linejoin=\"round\"/>\n"
    }

    /// [a, b] (log10 units) widened to the nearest 1-2-5 values outside it (decades for wide ranges).
    static func snapLog10(_ a: Double, _ b: Double) -> (Double, Double) {
        let offsets: [Double] = [0, Foundation.log10(2), Foundation.log10(5), 1]
        let lowDecade = floor(a), highDecade = floor(b)
        let below = offsets.map { lowDecade + $0 }.filter { $0 <= a + 1e-12 }.max() ?? lowDecade
        let up = offsets.map { highDecade + $0 }.filter { $0 >= b - 1e-12 }.min() ?? highDecade + 1
        if below == up { return (below - 0.15, up + 0.15) }
        // Beyond a few decades the ticks are decades only: end on decades then.
        return up - below > 2.5 ? (floor(a), ceil(b)) : (below, up)
    }

    static func transform(_ v: Double, _ s: AxisScale) -> Double? {
        switch s {
        case .linear: return v.isFinite ? v : nil
        case .log2: return v > 0 && v.isFinite ? Foundation.log2(v) : nil
        case .log10: return v > 0 && v.isFinite ? Foundation.log10(v) : nil
        }
    }

    private static func pad(_ a: Double, _ b: Double, _ f: Double) -> (Double, Double) {
        if a == b { return (a - 0.5, b + 0.5) }
        let d = (b - a) * f
        return (a - d, b + d)
    }

    /// Tick positions (in transformed units) and their labels.
    static func ticks(_ a: Double, _ b: Double, _ s: AxisScale) -> [(Double, String)] {
        switch s {
        case .log2:
            return stride(from: ceil(a), through: floor(b), by: max(1, ((b - a) / 7).rounded(.up))).map { ($0, number(pow(2, $0))) }
        case .log10:
            // Decades, then 1-2-5 within them, then every integer multiple, until there are 3+ ticks.
            for multipliers in [[1.0], [1, 2, 5], Array(stride(from: 1.0, through: 9, by: 1))] {
                let t = stride(from: floor(a), through: ceil(b), by: 1).flatMap { d in multipliers.map { pow(10, d) * $0 } }
                    .map { (Foundation.log10($0), $0) }.filter { $0.0 >= a && $0.0 <= b }
                if t.count >= 3 || multipliers.count == 9 { return t.map { ($0.0, number($0.1)) } }
            }
            return []
        case .linear:
            let raw = (b - a) / 5
            let mag = pow(10, floor(Foundation.log10(raw)))
            let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
            return stride(from: ceil(a / step) * step, through: b, by: step).map { ($0, number($0)) }
        }
    }

    static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v) }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: a < 1 ? "%.3g" : "%.4g", v)
    }

    private static func text(_ x: Double, _ y: Double, _ s: String, size: Double, anchor: String, weight: String = "normal") -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(fmt(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\">\(escape(s))</text>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}
