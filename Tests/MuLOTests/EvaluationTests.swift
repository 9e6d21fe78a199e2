import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import MuLO
import Testing

@Suite("Evaluation")
struct EvaluationTests {
    /// A real check of the parametrization: with one learning rate, μAdam moves every layer's
    /// pre-activations by the same amount at every width, SP Adam by more as width grows.
    @Test func muPCoordinateCheckIsFlatAndSPGrows() throws {
        let template = try TaskTemplate("mumlp-w{W}-d3_synthetic-16x16x1")
        let widths = [64, 128, 256, 512, 1024]
        let mu = try CoordinateCheck.run(template: template, widths: widths, depth: nil, parametrization: .mup,
                                         optimizer: { Adam.muAdam(schedule: .constant(1e-3)) }, steps: 10, logSteps: [2, 10], batch: 64)
        let sp = try CoordinateCheck.run(template: template, widths: widths, depth: nil, parametrization: .standard,
                                         optimizer: { Adam(schedule: .constant(1e-3)) }, steps: 10, logSteps: [2, 10], batch: 64)
        for k in 0..<2 {
            for l in 0..<mu.layers {
                let g = mu.growth(step: k, layer: l)
                #expect(g > 0.5 && g < 2, "μAdam layer \(l) step \(mu.logSteps[k]): widest/narrowest \(g)")
            }
            #expect(sp.growth(step: k, layer: sp.layers - 1) > 4, "SP Adam logits: \(sp.growth(step: k, layer: sp.layers - 1))")
        }
        for l in 1..<sp.layers { #expect(sp.growth(step: 0, layer: l) > mu.growth(step: 0, layer: l) * 1.5) }
    }

    /// Diverged settings are kept in the cache (as null) and never selected.
    @Test func tuningSurvivesDivergedSettingsAndCaches() throws {
        let dir = try Support.tempDir()
        let grid = dir.appendingPathComponent("g.json").path
        try #"{"lr": [0.01, 100000]}"#.write(toFile: grid, atomically: true, encoding: .utf8)
        let task = try TaskRegistry.parse("mlp-w8-d1_synthetic-4x4x1")
        let r = try Tuner.tune(.sgd, task: task, steps: 20, batch: 16, grid: grid, cacheDir: dir.path, threads: 2)
        #expect(r.best.learningRate == 0.01 && r.trials.count == 2 && r.trials[1].finalLoss == nil)
        // The best rate is the grid's smallest (the one above it diverged): said, as the optimum may lie below it.
        #expect(r.learningRateAtGridEnd == "smallest" && r.summary.hasSuffix("the optimum may lie beyond the grid"))
        let cached = try Tuner.tune(.sgd, task: task, steps: 20, batch: 16, grid: grid, cacheDir: dir.path, threads: 2)
        #expect(cached.bestLoss == r.bestLoss)
        #expect(FileManager.default.fileExists(atPath: Tuner.cachePath(dir: dir.path, kind: .sgd, task: task.description,
                                                                         steps: 20, batch: 16, grid: grid)))
    }

    /// A cache is used only when it is this search's and usable — one of another task at its
    /// path, one whose best rate an edit made negative, or one cut short is said and searched
    /// again — and the same grid file by another path is the same search. A grid file with
    /// β1 = 5 is an error before anything runs.
    @Test func tuningCachesAndGridFilesAreChecked() throws {
        let dir = try Support.tempDir()
        let grid = dir.appendingPathComponent("g.json").path
        try #"{"lr": [0.01, 0.1]}"#.write(toFile: grid, atomically: true, encoding: .utf8)
        let task = try TaskRegistry.parse("mlp-w8-d1_synthetic-4x4x1")
        func tune(_ grid: String) throws -> (TuningResult, [String]) {
            var said: [String] = []
            let r = try Tuner.tune(.sgd, task: task, steps: 20, batch: 16, grid: grid, cacheDir: dir.path, threads: 2, log: { said.append($0) })
            return (r, said)
        }
        let (good, _) = try tune(grid)
        let path = Tuner.cachePath(dir: dir.path, kind: .sgd, task: task.description, steps: 20, batch: 16, grid: grid)
        var negative = good.best
        negative.learningRate = -1
        func result(task: String, best: HandDesigned.Settings) throws -> String {
            String(decoding: try JSONEncoder().encode(TuningResult(optimizer: "sgd", task: task, steps: 20, batch: 16, grid: grid, seed: 1000,
                                                                   best: best, bestLoss: 0, trials: good.trials)), as: UTF8.self)
        }
        for (text, reason) in [(try result(task: task.description, best: negative), "the learning rate must be a positive number"),
                               (try result(task: "mlp-w16-d1_synthetic-4x4x1", best: good.best), "it is of sgd on mlp-w16-d1"),
                               (#"{"optimizer": "sgd", "#, "not a tuning result")] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let (again, said) = try tune(grid)
            #expect(said.contains { $0.hasPrefix("ignoring cached tuning") && $0.contains(reason) }, "\(said)")
            #expect(again.best == good.best && again.bestLoss == good.bestLoss)
        }
        let moved = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: moved, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: grid, toPath: moved.appendingPathComponent("g.json").path)
        let (_, said) = try tune(moved.appendingPathComponent("g.json").path)
        #expect(said == ["using cached tuning \(path)"], "\(said)")
        try #"{"lr": [0.01], "beta1": [5]}"#.write(toFile: grid, atomically: true, encoding: .utf8)
        #expect(throws: TaskError.self) { try TuningGrid.named(grid, for: .adamw) }
    }

    /// An interrupted search keeps its finished trials: a trial file whose setting matches is
    /// taken as it is (here a loss no run could reach, so it must win), one whose setting does
    /// not is run again, and the result equals what a search from scratch gives for the rest.
    @Test func interruptedTuningResumesFromItsFinishedTrials() throws {
        let dir = try Support.tempDir()
        let grid = dir.appendingPathComponent("g.json").path
        try #"{"lr": [0.01, 0.1, 0.03]}"#.write(toFile: grid, atomically: true, encoding: .utf8)
        let task = try TaskRegistry.parse("mlp-w8-d1_synthetic-4x4x1")
        let fresh = try Tuner.tune(.sgd, task: task, steps: 20, batch: 16, grid: grid, cacheDir: dir.appendingPathComponent("a").path, threads: 2)
        let cacheDir = dir.appendingPathComponent("b").path
        let trials = String(Tuner.cachePath(dir: cacheDir, kind: .sgd, task: task.description, steps: 20, batch: 16, grid: grid).dropLast(5))
        try FileManager.default.createDirectory(atPath: trials, withIntermediateDirectories: true)
        var settings = fresh.trials[1].settings
        try String(decoding: try JSONEncoder().encode(TuningResult.Trial(settings: settings, finalLoss: 1e-9)), as: UTF8.self)
            .write(toFile: "\(trials)/trial-1.json", atomically: true, encoding: .utf8)
        settings.learningRate = 7  // not trial 2's setting: ignored
        try String(decoding: try JSONEncoder().encode(TuningResult.Trial(settings: settings, finalLoss: 1e-12)), as: UTF8.self)
            .write(toFile: "\(trials)/trial-2.json", atomically: true, encoding: .utf8)
        let resumed = try Tuner.tune(.sgd, task: task, steps: 20, batch: 16, grid: grid, cacheDir: cacheDir, threads: 2)
        #expect(resumed.best.learningRate == 0.1 && resumed.bestLoss == 1e-9)
        #expect(resumed.trials.map(\.finalLoss) == [fresh.trials[0].finalLoss, 1e-9, fresh.trials[2].finalLoss])
        #expect(resumed.learningRateAtGridEnd == "largest")
        let inside = TuningResult(optimizer: "sgd", task: "t", steps: 20, batch: 16, grid: "g", seed: 1000, best: fresh.trials[2].settings,
                                  bestLoss: 0.5, trials: resumed.trials)
        #expect(inside.learningRateAtGridEnd == nil && !inside.summary.contains("beyond"))
    }

    @Test func statistics() {
        let (m, se) = Statistics.meanSE([1, 2, 3, 4])
        #expect(m == 2.5 && abs(se - (1.25.squareRoot() / 2)) < 1e-12)
        #expect(Statistics.ranks([0.3, 0.1, .infinity, 0.1]) == [3, 1.5, 4, 1.5])
        #expect(Statistics.finalLoss(Array(repeating: 1, count: 100) + Array(repeating: 0.5, count: 10), diverged: false) == 0.5)
        #expect(Statistics.finalLoss([1, 2], diverged: true) == .infinity)
        // 400 steps, windows of 4: falls 1 → 0.1 over the first half, then a window at 0.5 (×5 its
        // best), a lower best 0.05, and one at 0.1 (×2 of that): the largest rebound is ×5.
        var loss = (0..<200).map { 1 - 0.9 * Float($0 / 4) / 49 }
        loss += Array(repeating: 0.1, count: 40) + Array(repeating: 0.5, count: 4) + Array(repeating: 0.05, count: 40)
        loss += Array(repeating: 0.1, count: 4) + Array(repeating: 0.05, count: 112)
        #expect(loss.count == 400 && abs(Statistics.rebound(loss)! - 5) < 1e-5, "\(Statistics.rebound(loss)!)")
        // A spike in the first half is not counted; a flat or falling run is ×1; too short or non-finite: none.
        #expect(Statistics.rebound([1, 3] + Array(repeating: 0.5, count: 198)) == 1)
        #expect(Statistics.rebound([1]) == nil && Statistics.rebound([1, .nan]) == nil)
        #expect(Statistics.median([3, 1, 2]) == 2 && Statistics.median([4, 1, 3, 2]) == 2.5 && Statistics.median([]).isNaN)
        #expect(Statistics.smooth([1, 3, 5, 7], window: 2) == [1, 2, 4, 6])
    }

    @Test func svgIsWellFormed() throws {
        let svg = SVGPlot.render([Panel(title: "a < b & c", xLabel: "width", yLabel: "loss", xScale: .log2, yScale: .log10,
                                        series: [Series(label: "x", x: [64, 128, 256], y: [1, 0.5, .nan], error: [0.1, 0.1, 0]),
                                                 Series(label: "y", x: [64, 128], y: [2, 3], markers: true)])])
        let doc = try XMLDocument(xmlString: svg)
        #expect(doc.rootElement()?.name == "svg")
        #expect(svg.contains("a &lt; b &amp; c") && svg.contains(">128<") && svg.contains("polyline"))
        // A title longer than one panel widens the figure instead of being cut off.
        let title = String(repeating: "long title ", count: 10)
        let wide = SVGPlot.render([Panel(title: "p", xLabel: "x", yLabel: "y", series: [])], columns: 1, title: title)
        let width = wide.firstMatch(of: /<svg[^>]* width="([0-9.]+)"/).flatMap { Double($0.1) } ?? 0
        #expect(width >= 9 * Double(title.count), "\(wide.prefix(200))")
    }

    /// Each label's markers have a shape of their own, in the panels and the legend: the ViT width
    /// plot's μLO and μVeLO lines lay on top of each other, told apart by colour only.
    @Test func markersDifferByLabel() throws {
        let shapes = SVGPlot.Marker.allCases.indices.map { SVGPlot.marker($0, 10, 10, "#000") }
        #expect(Set(shapes).count == shapes.count)
        for shape in shapes { _ = try XMLDocument(xmlString: "<svg xmlns=\"http://www.w3.org/2000/svg\">\(shape)</svg>") }
        let svg = SVGPlot.render([Panel(title: "p", xLabel: "x", yLabel: "y",
                                        series: [Series(label: "a", x: [1, 2, 3], y: [1, 2, 3], markers: true),
                                                 Series(label: "b", x: [1, 2, 3], y: [1, 2, 3], markers: true),
                                                 Series(label: "c", x: [1, 2, 3], y: [3, 2, 1])])])
        // 3 points and a legend entry each for a (circles) and b (squares); c has none.
        func count(_ tag: String) -> Int { svg.components(separatedBy: "<\(tag) ").count - 1 }
        #expect(count("circle") == 4 && count("polygon") == 4)
    }

    /// Log axes end on 1-2-5 values outside the data, so a tick lies at or beyond each end: the
    /// width study's curves from 2.3 down to 0.21 once got ticks 2, 1, 0.5 only.
    @Test func logTicksCoverTheDataRange() {
        for (lo, hi) in [(0.21, 2.3), (0.15, 2.3), (0.047, 2.2), (0.3, 0.45), (3e-5, 8.0)] {
            let (a, b) = SVGPlot.snapLog10(Foundation.log10(lo), Foundation.log10(hi))
            let ticks = SVGPlot.ticks(a, b, .log10).map { pow(10, $0.0) }
            #expect(ticks.count >= 2 && ticks.min()! <= lo * 1.0001 && ticks.max()! >= hi / 1.0001, "\(lo)…\(hi): \(ticks)")
        }
        let (a, b) = SVGPlot.snapLog10(0, 0)  // a constant 1: an axis around it, ticked at it
        #expect(a < 0 && b > 0 && SVGPlot.ticks(a, b, .log10).contains { $0.1 == "1" })
    }

    /// A capped panel (the loss curves' 1.2 × the divergence bound) ends its axis at the cap: a
    /// diverged run's last loss of 130 once stretched the depth-16 plot to 1000.
    @Test func cappedAxesEndAtTheCap() {
        let panel = Panel(title: "p", xLabel: "step", yLabel: "loss", yScale: .log10,
                          series: [Series(label: "a", x: [0, 1, 2, 3], y: [2.3, 0.6, 0.4, 130])], yMax: 4.1)
        let svg = SVGPlot.render([panel], columns: 1, title: "t")
        #expect(svg.contains(">5</text>") && !svg.contains(">10</text>") && !svg.contains(">100</text>"), "\(svg)")
    }

    /// A panel given a span draws its x axis over it: runs that all diverged at step 1 of 1000
    /// once got an axis from 0 to 1 ticked at 0.25 steps.
    @Test func spannedAxesCoverTheSpan() {
        let curves = [Series(label: "a", x: [0, 1], y: [2.3, 26])]
        let spanned = SVGPlot.render([Panel(title: "p", xLabel: "step", yLabel: "loss", series: curves, xSpan: 0...1000)], columns: 1)
        #expect(spanned.contains(">1000</text>") && !spanned.contains(">0.25</text>"), "\(spanned)")
        let bare = SVGPlot.render([Panel(title: "p", xLabel: "step", yLabel: "loss", series: curves)], columns: 1)
        #expect(bare.contains(">0.25</text>") && !bare.contains(">1000</text>"))
    }

    /// A panel whose runs all diverged says so instead of "no data" (the μLOs-on-SP-MLPs finding).
    @Test func allNonFinitePanelsSayNoFiniteValues() {
        let diverged = Panel(title: "p", xLabel: "w", yLabel: "loss", series: [Series(label: "a", x: [128, 512], y: [.infinity, .nan])])
        #expect(SVGPlot.render([diverged], columns: 1).contains(">no finite values</text>"))
        #expect(SVGPlot.render([Panel(title: "p", xLabel: "w", yLabel: "loss", series: [])], columns: 1).contains(">no data</text>"))
    }

    /// An optimizer keeps its colour and marker when a finding runs only some of the studies'
    /// optimizers: the muvit-corrected finding once drew the μVeLO in the SP LO's orange and μAdam
    /// in the μVeLO's green. Two of one kind, or one of another, fall back to the plot's order.
    @Test func optimizersKeepTheirStyleAcrossStudies() throws {
        // Recognised by what they are, as the paper's rows are: key, architecture, parametrization.
        func report(_ optimizers: [(key: String, architecture: String?)]) throws -> EvaluationReport {
            let spec = EvaluationSpec(template: try TaskTemplate("mumlp-w{W}-d3_synthetic-8x8x1"), widths: [8], steps: 20, seeds: 1, batch: 8)
            return EvaluationReport(spec: spec, optimizers: optimizers.map { o in
                RecordedOptimizer(key: o.key, label: o.key, parametrization: .mup,
                                  settingsDescription: o.architecture.map { ["architecture": $0] } ?? [:])
            }, runs: [])
        }
        let finding = try report([("lo-muvelo-m-fashionmnist", VeLO.name), ("muadam", nil)])
        #expect(finding.plotStyles == ["lo-muvelo-m-fashionmnist": 2, "muadam": 4])
        #expect(try report([("lo-a", nil), ("lo-b", nil)]).plotStyles.isEmpty)
        #expect(try report([("lo-a", nil), ("sgd", nil)]).plotStyles.isEmpty)
        let svg = SVGPlot.render([Panel(title: "p", xLabel: "w", yLabel: "loss", series: [
            Series(label: "μVeLO", x: [8, 16], y: [1, 2], markers: true, style: 2)])], columns: 1)
        #expect(svg.contains("stroke=\"\(SVGPlot.colors[2])\"") && !svg.contains(SVGPlot.colors[0]))
    }

    /// Final losses spanning more than a decade get a log axis: the memorisation study's μAdam at
    /// ~1e-6 was drawn as 0 beside the μLO's ~1e-2 on a linear one. Diverged cells (∞, NaN) and
    /// a loss of exactly 0 do not decide it.
    @Test func finalLossesSpanningDecadesGetALogAxis() {
        #expect(EvaluationReport.lossScale([1.2e-6, 1.1e-2, 0.4]) == .log10)
        #expect(EvaluationReport.lossScale([0.31, 0.33, 0.41]) == .linear)
        #expect(EvaluationReport.lossScale([0.3, .infinity, .nan, 0, 2.9]) == .linear)
        #expect(EvaluationReport.lossScale([.nan]) == .linear)
    }
}

@Suite("mulo evaluate-on-width and coord-check commands", .serialized)
struct EvaluationCommandTests {
    @Test func endToEndFilesTableAndPlots() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("lo.h5").path
        #expect(try Support.mulo(["lo-init", "--out", theta]).status == 0)
        let grid = dir.appendingPathComponent("grid.json").path
        try #"{"lr": [0.003, 0.03], "beta1": [0.9], "beta2": [0.999], "weight_decay": [0.0001]}"#
            .write(toFile: grid, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("eval").path
        let args = ["evaluate-on-width", "--checkpoint", theta, "--baseline", "muadam", "--baseline", "adamw",
                    "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--widths", "8", "16", "--steps", "30", "--seeds", "2",
                    "--batch", "16", "--test-interval", "10", "--test-examples", "200", "--tune-width", "8", "--tune-steps", "20",
                    "--grid", grid, "--tuning-dir", dir.appendingPathComponent("tuning").path, "--out", out]
        let r = try Support.mulo(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("μAdam (tuned)") && r.stdout.contains("avg rank") && r.stdout.contains("tuned on mumlp-w8-d2"))
        for f in ["results.h5", "summary.csv", "table.txt", "table.md", "loss_curves.svg", "final_loss_vs_width.svg"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(f)"), "\(f)")
        }
        let h5 = try HDF5File.open("\(out)/results.h5")
        #expect(try h5.attributeInts("widths") == [8, 16])
        #expect(try h5.read("runs/adamw/w16/s1/train_loss", as: Float.self).values.count == 30)
        #expect(try h5.read("runs/lo-lo/w8/s0/test_step", as: Int64.self).values == [0, 10, 20, 30])
        #expect(try h5.attributeString("task", on: "runs/adamw/w8/s0") == "mlp-w8-d2_synthetic-8x8x1")
        #expect(try h5.attributeString("task", on: "runs/muadam/w8/s0") == "mumlp-w8-d2_synthetic-8x8x1")
        #expect(try h5.read("summary/muadam/final_loss_mean", as: Double.self).values.count == 2)
        // Each optimizer's own template: AdamW ran the SP twin of the μP template given.
        #expect(try h5.attributeString("template", on: "summary/adamw") == "mlp-w{W}-d2_synthetic-8x8x1")
        #expect(try h5.attributeString("template", on: "summary/muadam") == "mumlp-w{W}-d2_synthetic-8x8x1")
        #expect(try String(contentsOfFile: "\(out)/table.txt", encoding: .utf8).contains(" ± "))  // two seeds: a spread
        let csv = try String(contentsOfFile: "\(out)/summary.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 3 * 2 && csv[0].hasPrefix("optimizer,label,width"))
        _ = try XMLDocument(xmlString: try String(contentsOfFile: "\(out)/final_loss_vs_width.svg", encoding: .utf8))
        let md = try String(contentsOfFile: "\(out)/table.md", encoding: .utf8).split(separator: "\n")
        #expect(md.count == 2 + 3 && md[0] == "| optimizer | w8 | w16 | avg rank |")
        #expect(md.dropFirst(2).filter { $0.contains("**") }.count >= 1 && md[2].contains("%)"))
        // Interrupted or repeated: finished runs are reused, tuning comes from the cache.
        let again = try Support.mulo(args)
        #expect(again.status == 0 && again.stdout.contains("using cached tuning"))
        #expect(again.stderr.contains("12 of 12 runs already done"))
        // Run files are named by width, so a subset of the widths reuses exactly its own runs.
        var subsetArgs = args
        subsetArgs.replaceSubrange(subsetArgs.firstIndex(of: "--widths")! ..< subsetArgs.firstIndex(of: "--steps")!, with: ["--widths", "16"])
        let subset = try Support.mulo(subsetArgs)
        #expect(subset.status == 0 && subset.stderr.contains("6 of 6 runs already done"), "\(subset.stderr)")
        // Another θ behind the same path, or another step count, must not reuse (or overwrite) a finished run.
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(out)/runs/lo-lo_w16_s0.h5"))
        #expect(try Support.mulo(["lo-init", "--seed", "7", "--out", theta, "--overwrite"]).status == 0)
        for changed in [args, args.map { $0 == "30" ? "31" : $0 }] {
            let r = try Support.mulo(changed)
            #expect(r.status != 0 && r.stderr.contains("finished run with other settings"), "\(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/runs/lo-lo_w16_s0.h5")) == before)
    }

    /// `--tune-depth`: the baselines are tuned on the template at that depth (the paper's depth-3
    /// tuning for its depth-16 tasks) and then run at `--depth`.
    @Test func baselinesTunedAtAnotherDepth() throws {
        let dir = try Support.tempDir()
        let grid = dir.appendingPathComponent("grid.json").path
        try #"{"lr": [0.01], "beta1": [0.9], "beta2": [0.999], "weight_decay": [0.0001]}"#.write(toFile: grid, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("eval").path
        let r = try Support.mulo(["evaluate-on-width", "--baseline", "muadam", "--template", "mumlp-w{W}-d2_synthetic-8x8x1",
                                  "--widths", "8", "--depth", "4", "--tune-depth", "1", "--steps", "5", "--seeds", "1", "--batch", "8",
                                  "--test-examples", "50", "--tune-width", "8", "--tune-steps", "5", "--grid", grid,
                                  "--tuning-dir", dir.appendingPathComponent("tuning").path, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("tuned on mumlp-w8-d1_synthetic-8x8x1"), "\(r.stdout)")
        #expect(try HDF5File.open("\(out)/results.h5").attributeString("task", on: "runs/muadam/w8/s0") == "mumlp-w8-d4_synthetic-8x8x1")
        let bad = try Support.mulo(["evaluate-on-width", "--baseline", "muadam", "--tune-depth", "0", "--out", out])
        #expect(bad.status != 0 && bad.stderr.contains("--tune-depth must be ≥ 1"))
    }

    /// `mulo replot` redraws from results.h5 alone: with the run files deleted, the same table,
    /// summary and rows, and both plots again.
    @Test func replotRebuildsTheReportFromResultsAlone() throws {
        let out = try Support.tempDir().appendingPathComponent("eval")
        let r = try Support.mulo(["evaluate-on-width", "--baseline", "adamw", "--baseline", "muadam", "--no-tune", "--lr", "0.01",
                                  "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--widths", "8", "16", "--steps", "12", "--seeds", "2",
                                  "--batch", "16", "--test-examples", "50", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let before = try ["table.txt", "summary.csv"].map { try String(contentsOf: out.appendingPathComponent($0), encoding: .utf8) }
        try FileManager.default.removeItem(at: out.appendingPathComponent("runs"))
        for f in ["table.txt", "summary.csv", "loss_curves.svg", "final_loss_vs_width.svg"] {
            try FileManager.default.removeItem(at: out.appendingPathComponent(f))
        }
        let again = try Support.mulo(["replot", out.path])
        #expect(again.status == 0, "\(again.stderr)")
        let after = try ["table.txt", "summary.csv"].map { try String(contentsOf: out.appendingPathComponent($0), encoding: .utf8) }
        #expect(after == before)
        for f in ["loss_curves.svg", "final_loss_vs_width.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "\(f)")
        }
        // The results.h5 itself names its directory (it looked for results.h5/results.h5); another file is refused.
        try FileManager.default.removeItem(at: out.appendingPathComponent("table.txt"))
        let byFile = try Support.mulo(["replot", "results.h5"], cwd: out)
        #expect(byFile.status == 0 && (try? String(contentsOf: out.appendingPathComponent("table.txt"), encoding: .utf8)) == before[0], "\(byFile.stderr)")
        let other = try Support.mulo(["replot", out.appendingPathComponent("summary.csv").path])
        #expect(other.status == 1 && other.stderr.contains("give an evaluation's directory or its results.h5"), "\(other.stderr)")
    }

    /// `--adopt results.h5`: a study whose run files are gone gains an optimizer by training only
    /// its runs; the adopted runs give the same table rows as trained ones, and runs recorded
    /// with other settings (another learning rate) are trained, not adopted.
    @Test func adoptedRunsExtendAStudyWithoutTrainingThemAgain() throws {
        let dir = try Support.tempDir()
        func args(_ out: String, _ baselines: [String], lr: String = "0.01") -> [String] {
            ["evaluate-on-width"] + baselines.flatMap { ["--baseline", $0] } + ["--no-tune", "--lr", lr,
             "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--widths", "8", "16", "--steps", "12", "--seeds", "2",
             "--batch", "16", "--test-interval", "5", "--test-examples", "50", "--out", out]
        }
        let first = dir.appendingPathComponent("first").path, both = dir.appendingPathComponent("both").path
        #expect(try Support.mulo(args(first, ["muadam"])).status == 0)
        #expect(try Support.mulo(args(both, ["muadam", "adamw"])).status == 0)
        let extended = dir.appendingPathComponent("extended").path
        let r = try Support.mulo(args(extended, ["muadam", "adamw"]) + ["--adopt", "\(first)/results.h5"])
        #expect(r.status == 0 && r.stdout.contains("adopted 4 finished runs") && r.stderr.contains("4 of 8 runs already done"), "\(r.stdout)\(r.stderr)")
        let table = { (d: String) in try String(contentsOfFile: "\(d)/table.txt", encoding: .utf8) }
        #expect(try table(extended) == table(both))
        // results.h5 keeps each run's configuration, wall time and CPU time (one thread: at most its
        // wall time); adopted runs carry theirs over.
        let stored = try EvaluationReport.stored("\(extended)/results.h5")
        #expect(stored.runs.allSatisfy { ($0.wallTime ?? -1) >= 0 && $0.config?.contains("\"seed\":\($0.seed)") == true })
        #expect(stored.runs.allSatisfy { run in run.cpuTime.map { $0 > 0 && $0 <= run.wallTime! + 0.01 } ?? false })
        let original = try EvaluationReport.stored("\(first)/results.h5").runs
        #expect(stored.runs.filter { $0.optimizer == "muadam" }.map(\.wallTime) == original.map(\.wallTime))
        #expect(stored.runs.filter { $0.optimizer == "muadam" }.map(\.cpuTime) == original.map(\.cpuTime))
        let other = dir.appendingPathComponent("other").path
        let o = try Support.mulo(args(other, ["muadam"], lr: "0.02") + ["--adopt", "\(first)/results.h5"])
        #expect(o.status == 0 && o.stdout.contains("adopted 0 finished runs"), "\(o.stdout)")
    }

    /// `--task-parametrization sp`: a μLO and μAdam train the SP twin (the finding on how much
    /// of μP's benefit is the optimizee's) with their own μP update scales (METHOD §3.2: 1/fan_in on
    /// hidden weights, 1 elsewhere — here the SP task's are all 1); results.h5 says so and `replot` keeps it.
    @Test func everyOptimizerCanTrainTheOtherParametrizationsTasks() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("mu.h5").path
        #expect(try Support.mulo(["lo-init", "--parametrization", "mu", "--out", theta]).status == 0)
        let out = dir.appendingPathComponent("eval").path
        let r = try Support.mulo(["evaluate-on-width", "--checkpoint", theta, "--baseline", "muadam", "--no-tune", "--lr", "0.01",
                                  "--task-parametrization", "sp", "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--widths", "8",
                                  "--steps", "6", "--seeds", "1", "--batch", "16", "--test-examples", "50", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let h5 = try HDF5File.open("\(out)/results.h5")
        #expect(try h5.attributeString("task_parametrization") == "sp")
        #expect(try h5.attributeString("task", on: "runs/lo-mu/w8/s0") == "mlp-w8-d2_synthetic-8x8x1")
        #expect(try h5.attributeString("task", on: "runs/muadam/w8/s0") == "mlp-w8-d2_synthetic-8x8x1")
        for run in ["lo-mu", "muadam"] {
            #expect(try h5.attributeString("config", on: "runs/\(run)/w8/s0").contains("\"update_scales\":\"mu\""))
        }
        let stored = try EvaluationReport.stored("\(out)/results.h5")
        #expect(stored.spec.taskParametrization == .standard
                    && stored.taskTitle == "mlp-w{W}-d2_synthetic-8x8x1, each optimizer with its own update scales s_W")
        // Each optimizer keeps its own parametrization, not its tasks' (it decides its plot style and paper row).
        #expect(stored.optimizers.map(\.parametrization) == [.mup, .mup])
        // The scales those runs applied: input [64, 8], hidden [8, 8], readout [8, 10] and their biases.
        let spec = EvaluationSpec(template: try TaskTemplate("mumlp-w{W}-d2_synthetic-8x8x1"), widths: [8], taskParametrization: .standard)
        let crossed = WidthEvaluation(spec: spec, optimizers: [try EvalOptimizer.learned(path: theta)], directory: out)
        #expect(try crossed.ownUpdateScales(optimizer: 0, width: 0) == [1, 1, 1.0 / 8, 1, 1, 1])
        let own = WidthEvaluation(spec: EvaluationSpec(template: spec.template, widths: [8]), optimizers: crossed.optimizers, directory: out)
        #expect(try own.ownUpdateScales(optimizer: 0, width: 0) == nil)
        #expect(try Support.mulo(["evaluate-on-width", "--baseline", "muadam", "--task-parametrization", "up", "--out", out]).status != 0)
    }

    /// A killed evaluation loses at most --save-interval of each unfinished run, and one stopped by
    /// SIGTERM (or SIGINT) nothing: it saves each run where it is and exits 143 (before, SIGTERM
    /// lost everything since the last save). Started again, the run continues from its saved step
    /// and ends as an uninterrupted evaluation's does, and the live metrics hold each step once.
    @Test(arguments: [SIGKILL, SIGTERM])
    func interruptedEvaluationResumesItsUnfinishedRuns(signal: Int32) throws {
        let dir = try Support.tempDir()
        // Killed: saved every step. Stopped: never saved but on the signal, so a longer run to catch it in.
        let (steps, saveInterval) = signal == SIGKILL ? (1200, "0") : (20_000, "3600")
        func args(_ out: String) -> [String] {
            ["evaluate-on-width", "--baseline", "adamw", "--no-tune", "--lr", "0.01", "--template", "mumlp-w{W}-d2_synthetic-8x8x1",
             "--widths", "16", "--steps", "\(steps)", "--seeds", "1", "--batch", "16", "--test-interval", "250", "--test-examples", "50",
             "--save-interval", saveInterval, "--threads", "1", "--out", dir.appendingPathComponent(out).path]
        }
        let partial = dir.appendingPathComponent("cut/runs/adamw_w16_s0.partial.h5").path
        let (at, status, again) = try Support.interruptedRun(args, whole: "whole", cut: "cut", partial: partial, atLeast: 300, signal: signal,
                                                             log: signal == SIGKILL ? nil : dir.appendingPathComponent("cut/metrics.jsonl").path)
        #expect((300..<steps).contains(at) && status == 128 + signal, "interrupted (exit \(status)) with the run saved at step \(at)")
        #expect(again.status == 0 && again.stderr.contains("1 unfinished runs continue from where they were saved"), "\(again.stderr)")
        let (whole, cut) = (try EvaluationReport.stored(dir.appendingPathComponent("whole/results.h5").path).runs[0],
                            try EvaluationReport.stored(dir.appendingPathComponent("cut/results.h5").path).runs[0])
        #expect(cut.trainLoss.map(\.bitPattern) == whole.trainLoss.map(\.bitPattern))
        #expect(cut.testStep == whole.testStep && cut.testLoss == whole.testLoss && cut.testAccuracy == whole.testAccuracy)
        #expect(!FileManager.default.fileExists(atPath: partial))
        let logged = try Support.trainingLossSteps(dir.appendingPathComponent("cut/metrics.jsonl"))
        #expect(logged == Array(0..<steps), "\(logged.count) training-loss lines")
    }

    /// A μVeLO's settings hold a float that JSON stores as an integer (interp_mult "1.0" → 1):
    /// the finished runs must still be recognised when the evaluation runs again.
    @Test func veloEvaluationsResume() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("muvelo.h5").path
        #expect(try Support.mulo(["lo-init", "--architecture", "velo", "--parametrization", "mu", "--out", theta]).status == 0)
        let args = ["evaluate-on-width", "--checkpoint", theta, "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--widths", "8",
                    "--steps", "4", "--seeds", "1", "--batch", "16", "--test-examples", "50", "--out", dir.appendingPathComponent("eval").path]
        #expect(try Support.mulo(args).status == 0)
        let again = try Support.mulo(args)
        #expect(again.status == 0 && again.stderr.contains("1 of 1 runs already done"), "\(again.stderr)")
    }

    /// A memorised training set's loss keeps its digits; the usual range keeps four decimals.
    @Test func tinyLossesPrintInExponentForm() {
        #expect(EvaluationReport.lossText(0.3201) == "0.3201" && EvaluationReport.lossText(0.001) == "0.0010")
        #expect(EvaluationReport.lossText(3.2e-5) == "3.20e-05" && EvaluationReport.lossText(0) == "0.0000")
        #expect(EvaluationReport.lossText(0.0025, as: 0.3201) == "0.0025" && EvaluationReport.lossText(4.1e-7, as: 3.2e-5) == "4.10e-07")
    }

    /// One seed: means without a "± 0.0000" that would claim a measured spread.
    @Test func oneSeedTablesShowNoSpread() throws {
        let out = try Support.tempDir().appendingPathComponent("eval").path
        let r = try Support.mulo(["evaluate-on-width", "--baseline", "muadam", "--no-tune", "--lr", "0.01",
                                  "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--widths", "8", "--steps", "10", "--seeds", "1",
                                  "--batch", "16", "--test-examples", "50", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let table = try String(contentsOfFile: "\(out)/table.txt", encoding: .utf8)
        let md = try String(contentsOfFile: "\(out)/table.md", encoding: .utf8)
        #expect(!table.contains("±") && !md.contains("±") && table.contains("μAdam") && !table.contains("diverged"), "\(table)")
    }

    @Test func divergingRunsAreRecordedAndTheCommandSucceeds() throws {
        let dir = try Support.tempDir()
        let out = dir.appendingPathComponent("eval").path
        let r = try Support.mulo(["evaluate-on-width", "--baseline", "sgd", "--baseline", "muadam", "--no-tune", "--lr", "1e4",
                                  "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--widths", "8", "--steps", "20", "--seeds", "1",
                                  "--batch", "16", "--test-examples", "100", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("diverged 1/1"))
        let h5 = try HDF5File.open("\(out)/results.h5")
        #expect(try h5.attributeInt("diverged_at", on: "runs/sgd/w8/s0") >= 0)
        // One width: no "vs width" plot; the curves mark where each run diverged (×).
        #expect(!FileManager.default.fileExists(atPath: "\(out)/final_loss_vs_width.svg"))
        let curves = try String(contentsOfFile: "\(out)/loss_curves.svg", encoding: .utf8)
        #expect(curves.contains("SGD (default)") && curves.components(separatedBy: "<path d=\"M").count - 1 == 2)
    }

    @Test(arguments: [
        (["--baseline", "rmsprop"], "unknown baseline"),
        (["--baseline", "adamw", "--widths", "0", "8"], "≥ 1"),
        (["--baseline", "adamw", "--template", "mumlp-w128-d3_synthetic-8x8x1"], "{W}"),
        (["--checkpoint", "GOLDEN"], "not a learned optimizer"),
        ([], "at least one"),
    ])
    func invalidInputFailsBeforeAnyWork(flags: [String], message: String) throws {
        let dir = try Support.tempDir()
        let out = dir.appendingPathComponent("eval").path
        let r = try Support.mulo(["evaluate-on-width", "--out", out, "--steps", "5", "--widths", "8",
                                  "--template", "mumlp-w{W}-d1_synthetic-4x4x1"] + flags.map { $0 == "GOLDEN" ? Support.goldenPath : $0 })
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A search in a log file (no terminal) reports its finished trials as lines, the last one
    /// with the whole count.
    @Test func tuningReportsItsTrials() throws {
        let dir = try Support.tempDir().appendingPathComponent("tuning")
        let r = try Support.mulo(["tune", "--baseline", "muadam", "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--tune-width", "8",
                                  "--tune-steps", "20", "--grid", "small", "--batch", "16", "--tuning-dir", dir.path, "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("tuning trials 5/5"), "\(r.stderr)")
    }

    /// One process per tuning search: while one tunes a grid, a second `tune` of it is refused at
    /// once; the holder's live metrics sit in the search's directory beside the cache file.
    @Test func oneTuningPerSearch() throws {
        let dir = try Support.tempDir().appendingPathComponent("tuning")
        let args = ["tune", "--baseline", "adamw", "--template", "mumlp-w{W}-d2_synthetic-8x8x1", "--tune-width", "64",
                    "--tune-steps", "20000", "--grid", "medium", "--batch", "16", "--tuning-dir", dir.path, "--threads", "1"]
        let first = Process()
        first.executableURL = Support.muloExecutable
        first.arguments = args
        (first.standardOutput, first.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
        try first.run()
        defer { first.terminate(); first.waitUntilExit() }
        let search = dir.appendingPathComponent("adamw_mlp-w64-d2_synthetic-8x8x1_20000steps_b16_medium")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: search.appendingPathComponent("metrics.jsonl").path) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let second = try Support.mulo(args)
        #expect(second.status != 0 && second.stderr.contains("in use by another process"), "\(second.stderr)")
        #expect(first.isRunning)
    }

    @Test func coordCheckWritesTableHDF5AndPlot() throws {
        let dir = try Support.tempDir()
        let r = try Support.mulo(["coord-check", "--optimizer", "muadam", "--lr", "0.001", "--template", "mumlp-w{W}-d2_synthetic-8x8x1",
                                  "--widths", "16", "32", "--steps", "5", "--log-steps", "1", "5", "--batch", "16",
                                  "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("widest/narrowest"))
        // Progress in a log: each width's steps, then the widths done (stdout keeps just the table).
        #expect(r.stderr.contains("w32: step 5/5") && r.stderr.contains("widths 2/2"), "\(r.stderr)")
        // At step 1 the zero readout has kept layers 0 and 1 exactly still: said, not "-nan×".
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("    0     1") || $0.hasPrefix("layer") }
        #expect(!r.stdout.contains("nan") && rows.count == 2 && rows[1].hasSuffix("all 0"), "\(r.stdout)")
        #expect(rows[0].range(of: "w32")!.upperBound.utf16Offset(in: rows[0]) == rows[1].range(of: " 0 ", options: .backwards)!.lowerBound.utf16Offset(in: rows[1]) + 2)
        let h5 = try HDF5File.open(dir.appendingPathComponent("coord_check.h5").path)
        #expect(try h5.read("std", as: Double.self).shape == [2, 2, 3])
        let svg = try String(contentsOf: dir.appendingPathComponent("coord_check.svg"), encoding: .utf8)
        _ = try XMLDocument(xmlString: svg)
        #expect(svg.contains("step 1 (layers 0, 1: 0)"))
    }
}
