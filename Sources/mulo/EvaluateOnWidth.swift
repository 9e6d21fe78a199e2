import ArgumentParser
import Foundation
import MuLO

struct EvaluateOnWidth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-on-width",
        abstract: "Train every optimizer at every width and seed; tables, CSV, HDF5 and plots of how they scale.",
        discussion: """
            Learned optimizers (--checkpoint, repeatable) train the task in their own parametrization \
            (μLOs mumlp-…, SP LOs mlp-…); baselines (--baseline adamw|muadam|sgd) are tuned first \
            (cached) at --tune-width. Finished runs are kept in OUT/runs/ and unfinished ones saved there \
            every --save-interval seconds, so an interrupted evaluation resumes where it stopped.
            """)

    @Option(help: "Learned-optimizer θ file (repeatable).") var checkpoint: [String] = []
    @Option(help: "Baseline: adamw, muadam or sgd (repeatable).") var baseline: [String] = []
    @Option(help: "Task template with {W}.") var template = "mumlp-w{W}-d3_fashionmnist-28x28x1"
    @Option(parsing: .upToNextOption, help: "Widths (default 128 … 4096, powers of two).")
    var widths: [Int] = [128, 256, 512, 1024, 2048, 4096]
    @Option(help: "Hidden layers (default: the template's).") var depth: Int?
    @Option(help: "Hidden layers of the baselines' tuning task (default: --depth; the paper tunes once at depth 3 and keeps those settings for its depth-16 tasks, METHOD §6.2).")
    var tuneDepth: Int?
    @Option(help: "Training steps per run.") var steps = 1000
    @Option(help: "Seeds per (optimizer, width).") var seeds = 3
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Test loss/accuracy every N steps (0: only at the end).") var testInterval = 100
    @Option(help: "Test examples (images or sequences) per evaluation.") var testExamples = 10_000
    @Flag(help: "Use baselines untuned, with --lr (and default β, λ) instead of tuning them.") var noTune = false
    @Option(help: "Learning rate of untuned baselines (with --no-tune).") var lr: Float = 1e-3
    @Option(help: "Output directory (default runs/eval-<first optimizer>).") var out: String?
    @Option(help: "Train every optimizer on this parametrization's tasks, mu or sp (default: each its own).")
    var taskParametrization: String?
    @Option(help: "Seconds between saves of an unfinished run (an interrupted evaluation resumes it there).")
    var saveInterval: Double = 300
    @Option(help: "A finished study's results.h5 whose runs with the same settings are taken instead of trained again (repeatable).")
    var adopt: [String] = []
    @OptionGroup var tuning: TuningOptions
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard !checkpoint.isEmpty || !baseline.isEmpty else { throw ValidationError("give at least one --checkpoint or --baseline") }
        if let b = try parseBaselines(baseline).firstRepeated { throw ValidationError("--baseline \(b.rawValue) is given twice") }
        guard !widths.isEmpty, widths.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--widths must all be ≥ 1") }
        if let w = widths.firstRepeated { throw ValidationError("--widths lists \(w) twice") }
        guard steps >= 1, seeds >= 1, batch >= 1, testInterval >= 0, testExamples >= 1 else {
            throw ValidationError("--steps, --seeds, --batch, --test-examples must be ≥ 1")
        }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be positive") }
        if let depth, depth < 1 { throw ValidationError("--depth must be ≥ 1") }
        guard saveInterval >= 0, saveInterval.isFinite else { throw ValidationError("--save-interval must be ≥ 0 seconds") }
        if let tuneDepth, tuneDepth < 1 { throw ValidationError("--tune-depth must be ≥ 1") }
        if let p = taskParametrization, Parametrization(rawValue: p) == nil { throw ValidationError("--task-parametrization must be mu or sp") }
        do { _ = try TaskTemplate(template) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try runReportingErrors {
            let threads = runtime.threadCount
            // Every input is checked before any training starts.
            var optimizers = try checkpoint.map { path -> EvalOptimizer in
                do { return try EvalOptimizer.learned(path: path) } catch {
                    throw LOError("--checkpoint \(path) is not a learned optimizer: \(error)")
                }
            }
            // Before tuning, which can take minutes (run() checks again, with the baselines).
            try WidthEvaluation.checkDistinct(optimizers)
            let tmpl = try TaskTemplate(template)
            let spec = EvaluationSpec(template: tmpl, widths: widths, depth: depth, steps: steps, seeds: seeds, batch: batch,
                                      testInterval: testInterval, testExamples: testExamples,
                                      taskParametrization: taskParametrization.flatMap(Parametrization.init(rawValue:)))
            var notes: [String] = []
            for kind in try parseBaselines(baseline) {
                var settings = HandDesigned.Settings()
                settings.learningRate = lr
                var label = kind.label
                if noTune {
                    // Sorted: a dictionary's own description changes order from process to process.
                    let described = kind.describe(settings).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    notes.append("\(kind.rawValue): default settings \(described) (not tuned)")
                    label += " (default)"
                } else {
                    let t = try tmpl.name(width: tuning.tuneWidth, depth: tuneDepth ?? depth,
                                          parametrization: spec.taskParametrization ?? kind.parametrization)
                    let r = try Tuner.tune(kind, task: t, steps: tuning.tuneSteps, batch: batch, grid: tuning.grid,
                                           cacheDir: tuning.tuningDir, threads: threads, dataDir: runtime.dataDir) { print($0) }
                    settings = r.best
                    notes.append(r.summary)
                    label += " (tuned)"
                }
                optimizers.append(EvalOptimizer(kind: .baseline(kind, settings), key: kind.rawValue, label: label))
            }
            let dir = out ?? "runs/eval-\(optimizers[0].key)"
            var eval = WidthEvaluation(spec: spec, optimizers: optimizers, directory: dir, dataDir: runtime.dataDir)
            eval.saveInterval = saveInterval
            // After tuning (a signal during it stops the process at once; its finished trials are cached).
            let stop = StopSignal(stopping: "stopping: each run in progress saves where it is")
            eval.shouldStop = { stop.signal != nil }
            // One evaluation per directory for as long as it writes there (runs, then the report).
            let lock = try RunLock.acquire(dir, command: "mulo evaluate-on-width \(template)")
            print("evaluating \(optimizers.map(\.label).joined(separator: ", ")) on \(template) at widths \(widths.map(String.init).joined(separator: ", ")), \(steps) steps, \(seeds) seeds → \(dir)")
            let runs: [EvaluationRun]
            do {
                for path in adopt { print("adopted \(try eval.adopt(try EvaluationReport.stored(path))) finished runs from \(path)") }
                runs = try eval.run(threads: threads)
            } catch is EvaluationInterrupted {
                lock.release()
                print("interrupted: finished runs are in \(dir)/runs, unfinished ones saved where they stopped; the same command continues")
                throw stop.exitCode
            } catch { lock.abandon(); throw error }
            defer { lock.release() }
            let report = EvaluationReport(spec: spec, optimizers: optimizers, runs: runs, notes: notes)
            try report.writeAll(in: dir, title: report.title)
            print("\nfinal training loss (mean of the last 5% of steps; mean ± s.e. over \(seeds) seeds; * best per width)")
            print(report.table)
            for n in notes { print("  \(n)") }
            print("\nwrote \(dir)/" + report.fileNames.joined(separator: ", "))
        }
    }
}
