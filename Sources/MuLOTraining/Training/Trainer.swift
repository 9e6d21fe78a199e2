import Foundation

/// How to train one task with one optimizer; stored with the run as JSON.
public struct TrainConfig: Codable, Sendable, Equatable {
    public var task: String
    public var optimizer: String
    public var steps: Int
    public var batchSize: Int
    public var seed: UInt64
    /// Held-out ("test") evaluation every N steps (0: only at the end), on up to this many examples.
    public var testInterval: Int
    public var testExamples: Int
    /// The optimizer's own settings, for the record.
    public var optimizerSettings: [String: String]
    /// A loss above this also counts as divergence: `train`, evaluation and tuning all use the
    /// task's clip bound 1.5·ln C, the bound meta-training clips losses to (nil: non-finite only).
    public var divergenceBound: Float?
    /// The parametrization whose update scales s_W the optimizer applies when they are not the
    /// task's own (a cross-check trains, say, an SP network with a μLO, which keeps its μP update
    /// rule; `train` is then given those scales). Nil: the task's.
    public var updateScales: String?

    /// Stored as the TOML configs spell things: snake_case keys, and settings that are numbers as
    /// JSON numbers (where the number prints as the same text; JSON still keeps 1.0 as 1, so a
    /// stored run is compared with the settings that made it after the same round trip —
    /// `WidthEvaluation.finishedRun`). Run files of earlier releases (camelCase keys,
    /// `evalInterval`, every setting a string) keep loading.
    enum CodingKeys: String, CodingKey {
        case task, optimizer, steps, seed
        case batchSize = "batch_size", testInterval = "test_interval", testExamples = "test_examples"
        case optimizerSettings = "optimizer_settings", divergenceBound = "divergence_bound", updateScales = "update_scales"
    }

    enum LegacyKeys: String, CodingKey {
        case batchSize, evalInterval, evalExamples, optimizerSettings, divergenceBound
    }

    /// A setting as JSON: an integer or a number when that is exactly what the text says.
    enum Setting: Codable, Equatable {
        case int(Int), number(Double), text(String)

        init(_ s: String) {
            if let i = Int(s), String(i) == s { self = .int(i) } else if let d = Double(s), d.isFinite, String(d) == s {
                self = .number(d)
            } else { self = .text(s) }
        }

        var text: String {
            switch self {
            case .int(let i): return String(i)
            case .number(let d): return String(d)
            case .text(let s): return s
            }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else if let d = try? c.decode(Double.self) { self = .number(d) } else {
                self = .text(try c.decode(String.self))
            }
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .number(let d): try c.encode(d)
            case .text(let s): try c.encode(s)
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        (task, optimizer, steps, seed) = (try c.decode(String.self, forKey: .task), try c.decode(String.self, forKey: .optimizer),
                                          try c.decode(Int.self, forKey: .steps), try c.decode(UInt64.self, forKey: .seed))
        if c.contains(.batchSize) {
            batchSize = try c.decode(Int.self, forKey: .batchSize)
            (testInterval, testExamples) = (try c.decode(Int.self, forKey: .testInterval), try c.decode(Int.self, forKey: .testExamples))
            optimizerSettings = try c.decode([String: Setting].self, forKey: .optimizerSettings).mapValues(\.text)
            divergenceBound = try c.decodeIfPresent(Float.self, forKey: .divergenceBound)
            updateScales = try c.decodeIfPresent(String.self, forKey: .updateScales)
        } else {
            let l = try decoder.container(keyedBy: LegacyKeys.self)
            batchSize = try l.decode(Int.self, forKey: .batchSize)
            (testInterval, testExamples) = (try l.decode(Int.self, forKey: .evalInterval), try l.decode(Int.self, forKey: .evalExamples))
            optimizerSettings = try l.decode([String: String].self, forKey: .optimizerSettings)
            divergenceBound = try l.decodeIfPresent(Float.self, forKey: .divergenceBound)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(steps, forKey: .steps)
        try c.encode(seed, forKey: .seed)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(testInterval, forKey: .testInterval)
        try c.encode(testExamples, forKey: .testExamples)
        try c.encode(optimizerSettings.mapValues(Setting.init), forKey: .optimizerSettings)
        try c.encodeIfPresent(divergenceBound, forKey: .divergenceBound)
        try c.encodeIfPresent(updateScales, forKey: .updateScales)
    }

    public init(task: String, optimizer: String, steps: Int, batchSize: Int, seed: UInt64,
                testInterval: Int, testExamples: Int = 10_000, optimizerSettings: [String: String] = [:]) {
        (self.task, self.optimizer, self.steps, self.batchSize, self.seed) = (task, optimizer, steps, batchSize, seed)
        (self.testInterval, self.testExamples, self.optimizerSettings) = (testInterval, testExamples, optimizerSettings)
    }
}

public struct TrainResult: Sendable {
    /// Minibatch loss at every step, before that step's update (METHOD §6.3).
    public var trainLoss: [Float] = []
    public var testSteps: [Int] = []
    public var testLoss: [Float] = []
    public var testAccuracy: [Float] = []
    /// The step whose loss was non-finite or above the divergence bound, if the run diverged.
    public var divergedAt: Int?
    public var params: [Tensor] = []
    public var wallTime: Double = 0
    /// The run's CPU seconds, when its kernels ran on its own thread alone (`evaluate-on-width`,
    /// tuning): its cost, which the wall time overstates when the cores were shared. Nil otherwise.
    public var cpuTime: Double?
    /// The step the run stopped before, saved to resume (`PartialRun.stopBefore`, `shouldStop`); nil when it ended.
    public var stoppedBefore: Int?

    public init() {}
}

/// Trains `task` with `optimizer`: seed → (initialisation key, data key); step s draws its
/// batch from `dataKey.split(s)`, so a run is a function of its config and seed. With `metrics`,
/// every step's training loss and every test evaluation go to the live log (as `run` when the
/// log holds several). With `partial`, the run is saved as it goes and continues a saved one.
/// `updateScales` replaces the task's s_W (named in `config.updateScales`).
public func train<O: Optimizer>(task: any Task, optimizer: O, config: TrainConfig, progress: Progress? = nil,
                                metrics: MetricsLog? = nil, run: String? = nil, partial: PartialRun? = nil,
                                updateScales: [Float]? = nil) throws -> TrainResult {
    precondition((updateScales == nil) == (config.updateScales == nil), "update scales and their record go together")
    return try trainLoop(task: task, optimizer: optimizer, config: config, progress: progress, metrics: metrics, run: run,
                         finalEvaluation: true, partial: partial, updateScales: updateScales)
}

/// `train` without the final test evaluation (tuning selects on training loss alone).
public func trainCurvesOnly<O: Optimizer>(task: any Task, optimizer: O, config: TrainConfig,
                                          metrics: MetricsLog? = nil, run: String? = nil) throws -> TrainResult {
    try trainLoop(task: task, optimizer: optimizer, config: config, progress: nil, metrics: metrics, run: run, finalEvaluation: false,
                  partial: nil, updateScales: nil)
}

private func trainLoop<O: Optimizer>(task: any Task, optimizer: O, config: TrainConfig, progress: Progress?,
                                     metrics: MetricsLog?, run: String?, finalEvaluation: Bool, partial: PartialRun?,
                                     updateScales: [Float]?) throws -> TrainResult {
    let root = RNGKey(seed: config.seed)
    let dataKey = root.split(1)
    var params = task.initialize(key: root.split(0))
    var state = optimizer.initialState(for: params)
    var inner = InnerStep(task: task, batchSize: config.batchSize, scales: updateScales)
    var result = TrainResult()
    var firstStep = 0
    // Runs of an evaluation train side by side into one log: each message names its run.
    func say(_ message: String) { progress?.log((run.map { "\($0): " } ?? "") + message) }
    do {
        if let saved = try partial?.load(config: config, task: task, optimizer: optimizer) {
            (firstStep, params, state, result) = (saved.step, saved.params, saved.state, saved.result)
            say("resuming at step \(firstStep) from \(partial!.path)")
            progress?.resume(at: firstStep)
        }
    } catch {
        say("starting afresh: \(error)")
    }
    let evalSplit = task.heldOutSplit
    // Time spent before a resume counts; CPU time only if every part of the run was single-threaded.
    let (start, cpuStart) = (Date(), kernelsAreSingleThreaded && (firstStep == 0 || result.cpuTime != nil) ? threadCPUSeconds() : nil)
    let (wallBefore, cpuBefore) = (result.wallTime, result.cpuTime ?? 0)
    var lastSave = start
    func elapsed() -> (wall: Double, cpu: Double?) {
        (wallBefore + Date().timeIntervalSince(start), cpuStart.map { cpuBefore + threadCPUSeconds() - $0 })
    }

    func evaluate(at step: Int) throws {
        let (loss, acc) = try task.evaluate(params, split: evalSplit, limit: config.testExamples)
        result.testSteps.append(step)
        result.testLoss.append(loss)
        result.testAccuracy.append(acc)
        try metrics?.record(step: step, run: run, [("test_loss", loss), ("test_accuracy", acc)])
        say(String(format: "step %d  %@ loss %.4f  accuracy %.4f", step, evalSplit.rawValue, loss, acc))
    }

    for step in firstStep..<config.steps {
        let stopping = partial.map { step == $0.stopBefore || $0.shouldStop?() == true } ?? false
        if let partial, step > firstStep, stopping || Date().timeIntervalSince(lastSave) >= partial.interval {
            (result.wallTime, result.cpuTime) = elapsed()
            let saved = PartialRun.Saved(step: step, params: params, state: state, result: result)
            lastSave = Date()
            if stopping {
                try partial.save(saved, config: config, task: task)
                result.stoppedBefore = step
                return result
            }
            // A save that fails (a full disk) costs only the protection it would have given.
            do { try partial.save(saved, config: config, task: task) } catch { say("not saved at step \(step): \(error)") }
        }
        if config.testInterval > 0 && step % config.testInterval == 0 { try evaluate(at: step) }
        try inner.sample(key: dataKey.split(UInt64(step)))
        let loss = inner.lossAndGradient(at: params)
        result.trainLoss.append(loss)
        try metrics?.record(step: step, run: run, [("train_loss", loss)])
        guard loss.isFinite, loss <= (config.divergenceBound ?? .infinity) else {
            result.divergedAt = step
            say("diverged at step \(step): loss is \(loss)")
            break
        }
        inner.update(&params, with: optimizer, state: &state, context: StepContext(step: step, totalSteps: config.steps, loss: loss))
        progress?.update(step + 1, [("loss", String(format: "%.4f", loss))])
    }
    if result.divergedAt == nil && finalEvaluation { try evaluate(at: config.steps) }
    if let run { metrics?.finish(run: run) }
    result.params = params
    (result.wallTime, result.cpuTime) = elapsed()
    return result
}

extension TrainResult {
    /// Writes the run (curves, final parameters, configuration) to an HDF5 file, atomically.
    public func write(to path: String, config: TrainConfig, task: any Task, includeParams: Bool = true) throws {
        let file = try HDF5File.create(path)
        try writeRecord(file, kind: "mulo-train-run", config: config)
        try file.setAttribute("task", task.name)
        try file.setAttribute("diverged_at", divergedAt ?? -1)
        if includeParams {
            for (spec, t) in zip(task.parameterSpecs, params) { try file.write("params/\(spec.name)", t) }
        }
        try file.commit()
    }

    /// What a run file and a saved unfinished run (`PartialRun`) both hold: kind, configuration,
    /// time spent and the curves so far.
    func writeRecord(_ file: HDF5File, kind: String, config: TrainConfig) throws {
        try file.setAttribute("kind", kind)
        try file.setAttribute("config", String(decoding: try JSONEncoder.sorted.encode(config), as: UTF8.self))
        try file.setAttribute("wall_time_s", wallTime)
        if let cpuTime { try file.setAttribute("cpu_time_s", cpuTime) }
        try file.createExtendible("curves/train_loss", of: Float.self)
        try file.append("curves/train_loss", trainLoss)
        // Stored under its first name, which every reader of run files knows.
        try file.write("curves/eval_step", shape: [testSteps.count], testSteps.map(Int64.init))
        try file.write("curves/test_loss", shape: [testLoss.count], testLoss)
        try file.write("curves/test_accuracy", shape: [testAccuracy.count], testAccuracy)
    }

    /// The curves and times `writeRecord` wrote (a test curve of another length than the test steps is an error).
    public static func readRecord(_ file: HDF5File) throws -> TrainResult {
        var r = TrainResult()
        r.trainLoss = try file.read("curves/train_loss", as: Float.self).values
        r.testSteps = try file.read("curves/eval_step", as: Int64.self).values.map(Int.init)
        r.testLoss = try file.read("curves/test_loss", as: Float.self, expectShape: [r.testSteps.count]).values
        r.testAccuracy = try file.read("curves/test_accuracy", as: Float.self, expectShape: [r.testSteps.count]).values
        r.wallTime = try file.attributeDouble("wall_time_s")
        if file.hasAttribute("cpu_time_s") { r.cpuTime = try file.attributeDouble("cpu_time_s") }
        return r
    }
}

extension JSONEncoder {
    /// Deterministic JSON (sorted keys) for configs stored in files.
    public static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
