import ArgumentParser
import Foundation
import MuLO

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one task with a hand-designed or learned optimizer and write its curves to HDF5.")

    @Option(help: "Task name: {mlp|mumlp}-w{W}-d{D}_{dataset}, {transformer|mutransformer}-w{W}-d{D}_{corpus}-s{S}-bytes or {vit|muvit}-w{W}-d{D}_{dataset}.")
    var task = "mumlp-w128-d3_fashionmnist-28x28x1"

    @OptionGroup var optimizerOptions: OptimizerOptions

    @Flag(help: "Allow a learned optimizer whose parametrization differs from the task's (it keeps its own update scales s_W).")
    var force = false

    @Option(help: "Training steps.")
    var steps = 1000

    @Option(help: "Minibatch size.")
    var batch = 128

    @Option(help: "Seed: fixes initialisation and data order.")
    var seed: UInt64 = 0

    @Option(help: "Output HDF5 file (default runs/<task>_<optimizer>_s<seed>.h5).")
    var out: String?
    @OptionGroup var output: OutputFileOptions

    // "test" is the one word for held-out evaluation, as in evaluate-on-width; the eval-… names stay as aliases.
    @Option(name: [.customLong("test-interval"), .customLong("eval-interval")],
            help: "Test loss/accuracy every N steps (0: only at the end).")
    var testInterval = 100

    @Option(name: [.customLong("test-examples"), .customLong("eval-examples")], help: "Test examples per evaluation.")
    var testExamples = 10_000

    @Option(help: "Seconds between saves of the unfinished run (OUT with .partial.h5); the same command continues it exactly.")
    var saveInterval: Double = 300

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard saveInterval >= 0, saveInterval.isFinite else { throw ValidationError("--save-interval must be ≥ 0 seconds") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard testInterval >= 0, testExamples > 0 else { throw ValidationError("--test-interval must be ≥ 0 and --test-examples > 0") }
        guard optimizerOptions.warmup <= steps else { throw ValidationError("--warmup must be in 0…steps") }
        do { _ = try TaskRegistry.parse(task) } catch { throw ValidationError("\(error)") }
        if let out { try output.check(out) }
    }

    func run() throws {
        runtime.apply()
        try runReportingErrors {
            let model = try TaskRegistry.makeTask(task, dataDir: runtime.dataDir)
            guard batch <= (try model.data.count(.train)) else {
                throw DataError("--batch \(batch) exceeds the training split of \(model.data.name)")
            }
            let choice = try optimizerOptions.choice(defaultOptimizer: "adam", defaultLR: 1e-3, steps: steps)
            if case .learned = choice.kind, choice.parametrization != model.parametrization, !force {
                throw LOError("""
                    the learned optimizer \(choice.label) is \(choice.parametrization == .mup ? "μP (mu)" : "standard (sp)") \
                    but \(model.name) is \(model.parametrization == .mup ? "μP" : "standard"); μLOs train μP tasks (mumlp-…, mutransformer-…, muvit-…) \
                    and SP LOs the others (--force to run anyway)
                    """)
            }
            // A learned optimizer on the other parametrization's task (--force) keeps its own update rule.
            var scales: [Float]?
            if case .learned = choice.kind { scales = try TaskRegistry.parse(task).updateScales(of: choice.parametrization, dataDir: runtime.dataDir) }
            let optimizer = optimizerOptions.name(default: "adam"), opt = choice.make(totalSteps: steps)
            var config = TrainConfig(task: model.name, optimizer: optimizer, steps: steps, batchSize: batch,
                                     seed: seed, testInterval: testInterval, testExamples: testExamples,
                                     optimizerSettings: choice.settingsDescription)
            // The one divergence rule (evaluate-on-width's and tuning's): non-finite or above the task's bound.
            config.divergenceBound = model.lossClipBound
            if scales != nil { config.updateScales = choice.parametrization.rawValue }
            let path = out ?? "runs/\(model.name)_\(optimizer)_s\(seed).h5"
            if out == nil { try output.refuseExisting(path) }
            print("training \(model.name) (\(model.parameterCount) parameters) with \(opt.name), \(steps) steps, batch \(batch), seed \(seed)")
            // Live metrics beside the run file: runs/x.h5 logs to runs/x/ (a re-run starts the log afresh, one that
            // continues a saved run from where it continues).
            let stem = path.hasSuffix(".h5") ? String(path.dropLast(3)) : path
            let logDir = path.hasSuffix(".h5") ? stem : path + ".logs"
            // One process per run file: a second one would interleave its live metrics and partial saves with ours.
            let lock = try RunLock.acquire(logDir, command: "mulo train \(model.name) --out \(path)")
            defer { lock.release() }
            let stop = StopSignal(stopping: "stopping: saving the run where it is")
            let partial = PartialRun(path: stem + ".partial.h5", interval: saveInterval, shouldStop: { stop.signal != nil })
            let resumeAt = partial.savedStep(config: config) ?? 0
            if resumeAt > 0 { print("continuing the run saved at step \(resumeAt) in \(partial.path)") }
            let metrics = try MetricsLog(directory: logDir, keep: { ($0["step"] as? Int).map { $0 < resumeAt } ?? false })
            print("live metrics: \(metrics.jsonlPath) (tensorboard --logdir \(logDir))")
            let progress = Progress(total: steps, label: "step")
            let result = try train(task: model, optimizer: opt, config: config, progress: progress, metrics: metrics, partial: partial,
                                   updateScales: scales)
            if let step = result.stoppedBefore {
                print("interrupted before step \(step): saved in \(partial.path); the same command continues from there")
                throw stop.exitCode
            }
            try result.write(to: path, config: config, task: model)
            partial.remove()
            if let d = result.divergedAt {
                print("warning: the run diverged at step \(d) (loss \(result.trainLoss[d]): non-finite or above the bound \(model.lossClipBound))")
            }
            if let loss = result.testLoss.last, let acc = result.testAccuracy.last {
                print(String(format: "final test loss %.4f  accuracy %.4f  (%.1fs)", loss, acc, result.wallTime))
            }
            print("wrote \(path)")
        }
    }
}
