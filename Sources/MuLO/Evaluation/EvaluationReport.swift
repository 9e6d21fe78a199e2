import Foundation

/// Aggregates of an evaluation: per optimizer and width, the final loss over seeds (mean ±
/// standard error), divergences, test metrics, ranks; written as HDF5, CSV, a table and plots.
public struct EvaluationReport {
    public struct Cell: Sendable {
        public let optimizer: String
        public let width: Int
        public let finalLoss: (mean: Double, se: Double)
        /// The same over the seeds that did not diverge (NaN when none survived), for plots.
        public let survivingLoss: (mean: Double, se: Double)
        public let diverged: Int
        public let seeds: Int
        public let testLoss: Double
        public let testAccuracy: Double
        public var rank: Double = .nan
    }

    public let spec: EvaluationSpec
    public let optimizers: [any ReportedOptimizer]
    public let runs: [EvaluationRun]
    public private(set) var cells: [Cell] = []
    /// Notes for the report, e.g. where baselines were tuned.
    public var notes: [String] = []

    public init(spec: EvaluationSpec, optimizers: [any ReportedOptimizer], runs: [EvaluationRun], notes: [String] = []) {
        self.spec = spec
        self.optimizers = optimizers
        self.runs = runs
        self.notes = notes
        for o in optimizers {
            for w in spec.widths {
                let rs = runs.filter { $0.optimizer == o.key && $0.width == w }
                let ok = rs.filter { $0.divergedAt == nil }
                let diverged = rs.count - ok.count
                let surviving = Statistics.meanSE(ok.map(\.finalLoss))
                // A diverged seed makes the mean +∞: the optimizer failed at this width.
                cells.append(Cell(optimizer: o.key, width: w, finalLoss: diverged > 0 ? (.infinity, 0) : surviving, survivingLoss: surviving,
                                  diverged: diverged, seeds: rs.count,
                                  testLoss: Self.mean(ok.compactMap { $0.testLoss.last.map(Double.init) }),
                                  testAccuracy: Self.mean(ok.compactMap { $0.testAccuracy.last.map(Double.init) })))
            }
        }
        for w in spec.widths {
            let idx = cells.indices.filter { cells[$0].width == w }
            let r = Statistics.ranks(idx.map { cells[$0].finalLoss.mean })
            for (k, i) in idx.enumerated() { cells[i].rank = r[k] }
        }
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

    public func averageRank(_ key: String) -> Double { Self.mean(cells.filter { $0.optimizer == key }.map(\.rank)) }

    func label(_ key: String) -> String { optimizers.first { $0.key == key }?.label ?? key }

    func isBest(_ c: Cell) -> Bool {
        c.finalLoss.mean.isFinite && c.rank == cells.filter { $0.width == c.width }.map(\.rank).min()
    }

    var header: [String] { ["optimizer"] + spec.widths.map { "w\($0)" } + ["avg rank"] }

    /// Per optimizer: its label, one cell per width, its average rank (the columns of `header`).
    func rows(_ cell: (Cell) -> String) -> [[String]] {
        optimizers.map { o in
            [o.label] + spec.widths.map { w in cell(cells.first { $0.optimizer == o.key && $0.width == w }!) }
                + [String(format: "%.2f", averageRank(o.key))]
        }
    }

    /// "mean ± SE", or the mean alone for one seed (no spread to show).
    static func meanSE(_ c: Cell) -> String {
        c.seeds - c.diverged > 1 ? "\(lossText(c.finalLoss.mean)) ± \(lossText(c.finalLoss.se, as: c.finalLoss.mean))"
            : lossText(c.finalLoss.mean)
    }

    /// Four decimals, or three significant digits in exponent form below 0.001 (a memorised
    /// training set's loss would otherwise print as 0.0000); an SE follows its mean's form.
    static func lossText(_ x: Double, as reference: Double? = nil) -> String {
        let r = abs(reference ?? x)
        return r >= 1e-3 || r == 0 ? String(format: "%.4f", x) : String(format: "%.2e", x)
    }

    /// Final loss mean ± SE per optimizer (rows) and width (columns); * marks the best per width.
    public var table: String {
        let rows = [header] + rows { c in
            c.diverged > 0 ? "diverged \(c.diverged)/\(c.seeds)"
                : Self.meanSE(c) + (isBest(c) ? " *" : "")
        }
        let widths = header.indices.map { col in rows.map { $0[col].count }.max()! }
        let lines = rows.map { r in r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        return ([lines[0], String(repeating: "-", count: lines[0].count)] + lines.dropFirst()).joined(separator: "\n")
    }

    /// The same as Markdown, best per width in bold, with the final test accuracy: for READMEs.
    public var markdownTable: String {
        let rows = rows { c in
            if c.diverged > 0 { return "diverged \(c.diverged)/\(c.seeds)" }
            let loss = Self.meanSE(c)
            return (isBest(c) ? "**\(loss)**" : loss) + String(format: " (%.1f%%)", 100 * c.testAccuracy)
        }
        return Self.markdown([header] + rows)
    }

    /// A markdown table of a header row and the rows beneath it.
    static func markdown(_ rows: [[String]]) -> String {
        ([rows[0], rows[0].map { _ in "---" }] + rows.dropFirst()).map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
    }

    /// Per optimizer and width, the median over seeds of `Statistics.rebound` ("diverged n/N"
    /// where seeds diverged), as markdown: stability once fitted, for the long studies.
    public var reboundTable: String {
        let rows = rows { c in
            if c.diverged > 0 { return "diverged \(c.diverged)/\(c.seeds)" }
            let r = Statistics.median(runs.filter { $0.optimizer == c.optimizer && $0.width == c.width }.compactMap { Statistics.rebound($0.trainLoss) })
            return r.isNaN ? "—" : r.isInfinite ? "∞" : String(format: "×%.2f", r)
        }
        return Self.markdown(([header] + rows).map { Array($0.dropLast()) })  // no average-rank column
    }

    /// What `writeAll` writes: the vs-width plot only for two widths or more.
    public var fileNames: [String] {
        ["results.h5", "summary.csv", "table.txt", "table.md", "loss_curves.svg"] + (spec.widths.count > 1 ? ["final_loss_vs_width.svg"] : [])
    }

    /// The evaluation's title: the tasks as run, steps, batch and seeds.
    public var title: String {
        "\(taskTitle), \(spec.steps) steps, batch \(spec.batch), \(spec.seeds) seed\(spec.seeds == 1 ? "" : "s")"
    }

    /// Every output in `dir` (`fileNames`).
    public func writeAll(in dir: String, title: String) throws {
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        try writeHDF5(to: path("results.h5"),
                      settings: Dictionary(uniqueKeysWithValues: optimizers.map { ($0.key, $0.settingsDescription) }))
        try writeCSV(to: path("summary.csv"))
        try writePlots(in: dir, title: title)
        try AtomicFile.write(table + "\n", to: path("table.txt"))
        try AtomicFile.write(markdownTable + "\n", to: path("table.md"))
    }

    public func writeCSV(to path: String) throws {
        var out = "optimizer,label,width,seeds,diverged,final_loss_mean,final_loss_se,test_loss_mean,test_accuracy_mean,rank\n"
        for c in cells {
            out += "\(c.optimizer),\"\(label(c.optimizer))\",\(c.width),\(c.seeds),\(c.diverged),\(c.finalLoss.mean),\(c.finalLoss.se),"
            out += "\(c.testLoss),\(c.testAccuracy),\(c.rank)\n"
        }
        try AtomicFile.write(out, to: path)
    }

    /// results.h5: `runs/<optimizer>/w<W>/s<seed>/{train_loss, test_step, test_loss, test_accuracy}`
    /// with `task`, `diverged_at`, `final_loss` attributes (and `config`, `wall_time_s`, `cpu_time_s`
    /// where known); `summary/<optimizer>` tables by width.
    public func writeHDF5(to path: String, settings: [String: [String: String]]) throws {
        let f = try HDF5File.create(path)
        try f.setAttribute("kind", "mulo-width-evaluation")
        try f.setAttribute("template", spec.template.template)
        try f.setAttribute("widths", spec.widths)
        try f.setAttribute("steps", spec.steps)
        try f.setAttribute("batch", spec.batch)
        try f.setAttribute("seeds", spec.seeds)
        try f.setAttribute("depth", spec.depth ?? -1)
        if let p = spec.taskParametrization { try f.setAttribute("task_parametrization", p.rawValue) }
        try f.setAttribute("optimizer_settings", String(decoding: try JSONEncoder.sorted.encode(settings), as: UTF8.self))
        try f.setAttribute("notes", notes.isEmpty ? [""] : notes)
        try f.setAttribute("optimizers", optimizers.map(\.key))  // the rows' order
        for r in runs {
            let g = "runs/\(r.optimizer)/w\(r.width)/s\(r.seed)"
            try f.write("\(g)/train_loss", shape: [r.trainLoss.count], r.trainLoss)
            try f.write("\(g)/test_step", shape: [r.testStep.count], r.testStep)
            try f.write("\(g)/test_loss", shape: [r.testLoss.count], r.testLoss)
            try f.write("\(g)/test_accuracy", shape: [r.testAccuracy.count], r.testAccuracy)
            try f.setAttribute("task", r.task, on: g)
            try f.setAttribute("diverged_at", r.divergedAt ?? -1, on: g)
            try f.setAttribute("final_loss", r.finalLoss, on: g)
            if let bound = r.lossBound { try f.setAttribute("loss_bound", Double(bound), on: g) }
            if let config = r.config { try f.setAttribute("config", config, on: g) }
            if let seconds = r.wallTime { try f.setAttribute("wall_time_s", seconds, on: g) }
            if let seconds = r.cpuTime { try f.setAttribute("cpu_time_s", seconds, on: g) }
        }
        for o in optimizers {
            let cs = cells.filter { $0.optimizer == o.key }
            let g = "summary/\(o.key)"
            try f.write("\(g)/width", shape: [cs.count], cs.map { Int64($0.width) })
            try f.write("\(g)/final_loss_mean", shape: [cs.count], cs.map(\.finalLoss.mean))
            try f.write("\(g)/final_loss_se", shape: [cs.count], cs.map(\.finalLoss.se))
            try f.write("\(g)/diverged", shape: [cs.count], cs.map { Int64($0.diverged) })
            try f.setAttribute("label", o.label, on: g)
            // The root's `template` is the one given; SP optimizers ran its SP twin.
            try f.setAttribute("template", spec.template.template(depth: spec.depth, parametrization: spec.parametrization(of: o)), on: g)
        }
        try f.commit()
    }

    /// The tasks as run: the template with the evaluation's depth, and its SP twin when SP
    /// optimizers took part (they run it), e.g. "mumlp-w{W}-d16_… (SP: mlp-w{W}-d16_…)"; a
    /// cross-check says that every optimizer kept its own update rule there.
    public var taskTitle: String {
        let templates = Array(Set(optimizers.map { spec.template.template(depth: spec.depth, parametrization: spec.parametrization(of: $0)) })).sorted { $0.hasPrefix("mu") && !$1.hasPrefix("mu") }
        let title = templates.count == 1 ? templates[0] : "\(templates[0]) (SP: \(templates[1]))"
        return spec.taskParametrization == nil ? title : "\(title), each optimizer with its own update scales s_W"
    }

    /// One smoothed, subsampled curve: ≤ 1000 points (smoothed over n/50 steps, so nothing visible is lost).
    static func curve(_ y: [Float], label: String, faint: Bool = false, style: Int? = nil) -> Series {
        let sm = Statistics.smooth(y, window: max(1, y.count / 50))
        let kept = Array(stride(from: 0, to: y.count, by: max(1, y.count / 1000)))
        return Series(label: label, x: kept.map(Double.init), y: kept.map { sm[$0] }, faint: faint, style: style)
    }

    /// The optimizers of the full studies, in their order, by what they are (the paper's rows,
    /// `PaperComparison.counterpart`): a study or finding that runs some of them draws each in the
    /// colour and marker it has in the full ones.
    static let plotKinds = ["μLO_M", "LO_M (SP)", "μVeLO_M", "VeLO_M (SP)", "μAdam", "AdamW"]

    /// Plot style per optimizer key: its kind's place in `plotKinds`; empty (the plot's own order)
    /// when an optimizer is of another kind or two share one, so that no two share a style.
    var plotStyles: [String: Int] {
        let kinds = optimizers.map { o in PaperComparison.counterpart(o).flatMap(Self.plotKinds.firstIndex(of:)) }
        guard kinds.allSatisfy({ $0 != nil }), Set(kinds).count == kinds.count else { return [:] }
        return Dictionary(uniqueKeysWithValues: zip(optimizers.map(\.key), kinds.compactMap { $0 }))
    }

    /// Linear unless the finite positive losses span more than a decade: a fitted run's ~1e-6 beside
    /// another's ~1e-2 must not both be drawn as 0.
    static func lossScale(_ losses: [Double]) -> AxisScale {
        let v = losses.filter { $0.isFinite && $0 > 0 }
        guard let lo = v.min(), let hi = v.max() else { return .linear }
        return hi > 10 * lo ? .log10 : .linear
    }

    /// loss_curves.svg: one panel per width over the whole run's steps, each seed faint under the
    /// mean of the seeds still running, × where a run diverged; final_loss_vs_width.svg (≥ 2 widths
    /// only; the tables hold a single width): mean ± SE over the seeds that did not diverge,
    /// divergences in the legend.
    public func writePlots(in dir: String, title: String) throws {
        let bound = runs.compactMap(\.lossBound).max().map(Double.init)
        let styles = plotStyles
        let curves = spec.widths.map { w in
            Panel(title: "width \(w)", xLabel: "step", yLabel: "training loss", yScale: .log10,
                  series: optimizers.flatMap { o -> [Series] in
                      let rs = runs.filter { $0.optimizer == o.key && $0.width == w }
                      guard let n = rs.map(\.trainLoss.count).max(), n > 0 else { return [] }
                      let mean = (0..<n).map { s -> Float in
                          let vals = rs.compactMap { s < $0.trainLoss.count ? $0.trainLoss[s] : nil }
                          return vals.reduce(0, +) / Float(vals.count)
                      }
                      var m = Self.curve(mean, label: o.label, style: styles[o.key])
                      m.crosses = rs.compactMap { r in r.divergedAt.map { (Double($0), Double(r.trainLoss[$0])) } }
                      return (rs.count > 1 ? rs.map { Self.curve($0.trainLoss, label: o.label, faint: true, style: styles[o.key]) } : []) + [m]
                  }, yMax: bound.map { $0 * 1.2 }, xSpan: 0...Double(spec.steps))
        }
        let single = curves.count == 1
        try AtomicFile.write(SVGPlot.render(curves, columns: min(3, curves.count), panelWidth: single ? 600 : 360,
                                            panelHeight: single ? 400 : 270,
                                            title: "\(title): training loss" + (runs.contains { $0.divergedAt != nil } ? " (× diverged)" : "")),
                             to: (dir as NSString).appendingPathComponent("loss_curves.svg"))
        let vsWidth = (dir as NSString).appendingPathComponent("final_loss_vs_width.svg")
        guard spec.widths.count >= 2 else {
            try? FileManager.default.removeItem(atPath: vsWidth)
            return
        }
        let final = Panel(title: "final training loss vs width", xLabel: "width (log₂)", yLabel: "final training loss",
                          xScale: .log2, yScale: Self.lossScale(cells.map(\.survivingLoss.mean)),
                          series: optimizers.map { o in
                              let cs = cells.filter { $0.optimizer == o.key }
                              let diverged = cs.filter { $0.diverged > 0 }.map { "\($0.diverged)/\($0.seeds) at w\($0.width)" }
                              let label = o.label + (diverged.isEmpty ? "" : " (diverged: \(diverged.joined(separator: ", ")))")
                              return Series(label: label, x: cs.map { Double($0.width) }, y: cs.map(\.survivingLoss.mean),
                                            error: cs.map(\.survivingLoss.se), markers: true, style: styles[o.key])
                          })
        try AtomicFile.write(SVGPlot.render([final], columns: 1, panelWidth: 520, panelHeight: 380, title: title), to: vsWidth)
    }
}
