import ArgumentParser
import Foundation
import MuLO

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one task with a hand-designed optimizer and write its curves to HDF5.")

    @Option(help: "Task name, {model|mumodel}-w{W}-d{D}_{dataset}.")
    var task = "mumodel-w128-d3_fashionmnist-28x28x1"

    @Option(help: "Optimizer: \(HandDesigned.allCases.map(\.rawValue).joined(separator: ", ")), or lo (a learned optimizer from --checkpoint).")
    var optimizer = "adam"

    @Option(help: "Learned-optimizer θ file (with --optimizer lo).")
    var checkpoint: String?

    @Flag(help: "Allow a learned optimizer whose parametrization differs from the task's.")
    var force = false

    @Option(help: "Learning rate (peak learning rate with --cosine).")
    var lr: Float = 1e-3

    @Option(help: "Training steps.")
    var steps = 1000

    @Option(help: "Minibatch size.")
    var batch = 128

    @Option(help: "Seed: fixes initialisation and data order.")
    var seed: UInt64 = 0

    @Option(help: "Output HDF5 file (default runs/<task>_<optimizer>_s<seed>.h5).")
    var out: String?

    // "test" is the one word for held-out evaluation, as in evaluate-on-width; the eval-… names stay as aliases.
    @Option(name: [.customLong("test-interval"), .customLong("eval-interval")],
            help: "Test loss/accuracy every N steps (0: only at the end).")
    var testInterval = 100

    @Option(name: [.customLong("test-examples"), .customLong("eval-examples")], help: "Test examples per evaluation.")
    var testExamples = 10_000

    @Option(help: "Adam β1.") var beta1: Float = 0.9
    @Option(help: "Adam β2.") var beta2: Float = 0.999
    @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float = 1e-4
    @Option(help: "SGD momentum.") var momentum: Float = 0
    @Flag(help: "Warmup-cosine schedule decaying to 0.1·lr at the last step.") var cosine = false
    @Option(help: "Warmup steps with --cosine.") var warmup = 0

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard HandDesigned(rawValue: optimizer) != nil || optimizer == "lo" else {
            throw ValidationError("unknown optimizer '\(optimizer)'; choose one of \(HandDesigned.allCases.map(\.rawValue).joined(separator: ", ")), lo")
        }
        guard (optimizer == "lo") == (checkpoint != nil) else {
            throw ValidationError(optimizer == "lo" ? "--optimizer lo needs --checkpoint THETA.h5" : "--checkpoint goes with --optimizer lo")
        }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive number") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard testInterval >= 0, testExamples > 0 else { throw ValidationError("--test-interval must be ≥ 0 and --test-examples > 0") }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { throw ValidationError("β1 and β2 must be in [0, 1)") }
        guard warmup >= 0, warmup <= steps else { throw ValidationError("--warmup must be in 0…steps") }
        do { _ = try TaskRegistry.parse(task) } catch { throw ValidationError("\(error)") }
        if let out {
            let dir = URL(fileURLWithPath: out).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: dir) else {
                throw ValidationError("output directory \(dir) does not exist")
            }
        }
    }

    func run() throws {
        runtime.apply()
        try runReportingErrors {
            let model = try TaskRegistry.makeTask(task, dataDir: runtime.dataDir)
            guard batch <= (try model.data.count(.train)) else {
                throw DataError("--batch \(batch) exceeds the training split of \(model.data.name)")
            }
            let (opt, settings) = try makeOptimizer(for: model)
            let config = TrainConfig(task: model.name, optimizer: optimizer, steps: steps, batchSize: batch,
                                     seed: seed, testInterval: testInterval, testExamples: testExamples,
                                     optimizerSettings: settings)
            let path = try out ?? defaultOutput(model.name, optimizer)
            print("training \(model.name) (\(model.parameterCount) parameters) with \(opt.name), \(steps) steps, batch \(batch), seed \(seed)")
            let progress = Progress(total: steps, label: "step")
            let result = try train(task: model, optimizer: opt, config: config, progress: progress)
            try result.write(to: path, config: config, task: model)
            if let d = result.divergedAt { print("warning: the run diverged at step \(d)") }
            if let loss = result.testLoss.last, let acc = result.testAccuracy.last {
                print(String(format: "final test loss %.4f  accuracy %.4f  (%.1fs)", loss, acc, result.wallTime))
            }
            print("wrote \(path)")
        }
    }

    /// The hand-designed optimizer named by the flags, or the learned one in --checkpoint.
    private func makeOptimizer(for task: any Task) throws -> (any Optimizer, [String: String]) {
        if let checkpoint {
            let (theta, config) = try LOCheckpoint.load(checkpoint)
            guard config.parametrization == task.parametrization || force else {
                throw LOError("""
                    the learned optimizer in \(checkpoint) is \(config.parametrization == .mup ? "μP (mu)" : "standard (sp)") \
                    but \(task.name) is \(task.parametrization == .mup ? "μP" : "standard"); μLOs train mumodel-… tasks and \
                    SP LOs model-… tasks (--force to run anyway)
                    """)
            }
            return (LearnedOptimizer(theta: theta, config: config),
                    ["checkpoint": checkpoint, "parametrization": config.parametrization.rawValue,
                     "step_mult": "\(config.stepMult)", "exp_mult": "\(config.expMult)"])
        }
        let kind = HandDesigned(rawValue: optimizer)!
        var s = HandDesigned.Settings()
        (s.learningRate, s.beta1, s.beta2, s.weightDecay, s.momentum) = (lr, beta1, beta2, weightDecay, momentum)
        (s.cosine, s.warmupSteps, s.totalSteps) = (cosine, warmup, steps)
        return (kind.make(s), kind.describe(s))
    }

    private func defaultOutput(_ task: String, _ opt: String) throws -> String {
        try FileManager.default.createDirectory(atPath: "runs", withIntermediateDirectories: true)
        return "runs/\(task)_\(opt)_s\(seed).h5"
    }
}
