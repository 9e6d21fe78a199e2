import Foundation

/// What `mulo evaluate-on-width` runs: every optimizer × width × seed on one task template.
public struct EvaluationSpec: Sendable {
    public var template: TaskTemplate
    public var widths: [Int]
    public var depth: Int?
    public var steps: Int
    public var seeds: Int
    public var batch: Int
    public var testInterval: Int
    public var testExamples: Int
    /// Every optimizer trains this parametrization's tasks (a cross-check: μP optimizee with an SP
    /// optimizer and the reverse); nil: each its own (μLOs and μAdam μP, SP LOs and AdamW SP).
    /// The optimizer keeps its own update rule: the update scales s_W of its parametrization
    /// (METHOD §3), which belong to the optimizer even though the task supplies them.
    public var taskParametrization: Parametrization?

    public init(template: TaskTemplate, widths: [Int], depth: Int? = nil, steps: Int = 1000, seeds: Int = 3, batch: Int = 128,
                testInterval: Int = 100, testExamples: Int = 10_000, taskParametrization: Parametrization? = nil) {
        self.template = template
        self.widths = widths
        self.depth = depth
        self.steps = steps
        self.seeds = seeds
        self.batch = batch
        self.testInterval = testInterval
        self.testExamples = testExamples
        self.taskParametrization = taskParametrization
    }

    /// The parametrization of the tasks `optimizer` trains.
    public func parametrization(of optimizer: any ReportedOptimizer) -> Parametrization {
        taskParametrization ?? optimizer.parametrization
    }
}

/// One finished (optimizer, width, seed) run.
public struct EvaluationRun: Sendable {
    public let optimizer: String
    public let width: Int
    public let seed: Int
    public let task: String
    public let trainLoss: [Float]
    public let testStep: [Int64]
    public let testLoss: [Float]
    public let testAccuracy: [Float]
    public let divergedAt: Int?
    /// The task's loss bound the run was held to (its divergence bound), when recorded.
    public let lossBound: Float?
    /// The run's configuration (JSON, as its run file holds it), wall time and CPU time in seconds
    /// on one thread, when recorded (runs adopted from a results.h5 written before they were have
    /// none; CPU time is recorded from 2026-12-02 on).
    public var config: String?
    public var wallTime: Double?
    public var cpuTime: Double?
    public var finalLoss: Double { Statistics.finalLoss(trainLoss, diverged: divergedAt != nil) }

    public init(optimizer: String, width: Int, seed: Int, task: String, trainLoss: [Float], testStep: [Int64], testLoss: [Float],
                testAccuracy: [Float], divergedAt: Int?, lossBound: Float?) {
        (self.optimizer, self.width, self.seed, self.task, self.trainLoss) = (optimizer, width, seed, task, trainLoss)
        (self.testStep, self.testLoss, self.testAccuracy, self.divergedAt, self.lossBound) = (testStep, testLoss, testAccuracy, divergedAt, lossBound)
    }
}

/// An evaluation stopped on request (`WidthEvaluation.shouldStop`): its finished runs are stored and
/// each run it had started is saved where it stopped, so the same evaluation continues from there.
public struct EvaluationInterrupted: Error, CustomStringConvertible {
    public var description: String { "interrupted: finished runs kept, unfinished ones saved where they stopped" }
}

public struct WidthEvaluation {
    public let spec: EvaluationSpec
    public let optimizers: [EvalOptimizer]
    public let directory: String
    public var dataDir: String?
    /// Wall time between saves of an unfinished run, which resumes there after an interruption.
    public var saveInterval: TimeInterval = 300
    /// Polled before every step of every run: once it says so, each run in progress is saved where
    /// it is, no other starts, and `run` throws `EvaluationInterrupted`.
    public var shouldStop: (@Sendable () -> Bool)?

    public init(spec: EvaluationSpec, optimizers: [EvalOptimizer], directory: String, dataDir: String? = nil) {
        self.spec = spec
        self.optimizers = optimizers
        self.directory = directory
        self.dataDir = dataDir
    }

    /// Optimizers name their run files: two with one key (two θ files of one name in different
    /// directories, or one file given twice) would be two runs writing one file.
    public static func checkDistinct(_ optimizers: [EvalOptimizer]) throws {
        if let key = optimizers.map(\.key).firstRepeated {
            throw TaskError("two optimizers would share the run name '\(key)' (a θ file is named by its file name, "
                                + "theta.h5 by its directory): give each θ file its own name")
        }
    }

    struct Unit: Sendable {
        let optimizer: Int, width: Int, seed: Int
    }

    /// A run's name: its file's stem and its label in the live metrics.
    func runName(_ u: Unit) -> String { "\(optimizers[u.optimizer].key)_w\(spec.widths[u.width])_s\(u.seed)" }

    func runPath(_ u: Unit) -> String {
        (directory as NSString).appendingPathComponent("runs/\(runName(u)).h5")
    }

    /// Where an unfinished run is saved every few minutes, to resume there (the pattern
    /// `lo-<θ file>_w*.h5` covers both, for scripts that drop a learned optimizer's runs).
    func partialRun(_ u: Unit) -> PartialRun {
        PartialRun(path: (directory as NSString).appendingPathComponent("runs/\(runName(u)).partial.h5"), interval: saveInterval,
                   shouldStop: shouldStop)
    }

    func config(_ u: Unit, task: any Task) -> TrainConfig {
        let o = optimizers[u.optimizer]
        var config = TrainConfig(task: task.name, optimizer: o.key, steps: spec.steps, batchSize: spec.batch, seed: UInt64(u.seed),
                                 testInterval: spec.testInterval, testExamples: spec.testExamples,
                                 optimizerSettings: o.settingsDescription)
        config.divergenceBound = task.lossClipBound
        if spec.parametrization(of: o) != o.parametrization { config.updateScales = o.parametrization.rawValue }
        return config
    }

    /// The update scales a crossed run applies (those of the optimizer's own parametrization at
    /// the task's shape), nil where the optimizer trains its own parametrization's task.
    func ownUpdateScales(optimizer o: Int, width w: Int) throws -> [Float]? {
        let task = try spec.template.name(width: spec.widths[w], depth: spec.depth, parametrization: spec.parametrization(of: optimizers[o]))
        return try task.updateScales(of: optimizers[o].parametrization, dataDir: dataDir)
    }

    /// Every run, skipping those already finished in `directory` with the same configuration (an
    /// interrupted evaluation resumes), the largest widths first so the cores stay busy to the end.
    /// A finished run made with other settings (another θ, step count, …) is an error rather than
    /// silently reused or overwritten.
    public func run(threads: Int, showProgress: Bool = true) throws -> [EvaluationRun] {
        try Self.checkDistinct(optimizers)
        if let w = spec.widths.firstRepeated { throw TaskError("width \(w) is listed twice") }
        // Build every task up front: bad names or missing data fail before any work or any file.
        let tasks = try optimizers.map { o in
            try spec.widths.map { w in
                try spec.template.name(width: w, depth: spec.depth, parametrization: spec.parametrization(of: o)).makeTask(dataDir: dataDir)
            }
        }
        let scales = try optimizers.indices.map { o in try spec.widths.indices.map { w in try ownUpdateScales(optimizer: o, width: w) } }
        try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent("runs"),
                                                withIntermediateDirectories: true)
        let units = spec.widths.indices.sorted { spec.widths[$0] > spec.widths[$1] }.flatMap { w in
            optimizers.indices.flatMap { o in (0..<spec.seeds).map { Unit(optimizer: o, width: w, seed: $0) } }
        }
        let configs = units.map { config($0, task: tasks[$0.optimizer][$0.width]) }
        var todo: [Int] = []
        for (i, u) in units.enumerated() {
            switch try finishedRun(runPath(u), matching: configs[i]) {
            case .missing: todo.append(i)
            case .finished: break
            case .different(let stored):
                throw TaskError("\(runPath(u)) is a finished run with other settings (stored \(stored)); "
                                    + "evaluate into another --out, or delete that file to re-run it")
            }
        }
        // Live metrics of every run in DIR (tensorboard/<run>/ for TensorBoard): a run that restarts drops its old
        // lines, one that resumes the lines from where it resumes on.
        var resumesAt: [String: Int] = [:]
        for i in todo { resumesAt[runName(units[i])] = partialRun(units[i]).savedStep(config: configs[i]) ?? 0 }
        let metrics = try MetricsLog(directory: directory, keep: { line in
            guard let run = line["run"] as? String, let step = line["step"] as? Int else { return false }
            return step < resumesAt[run, default: Int.max]
        })
        let (sp, opts) = (spec, optimizers)
        let jobs = todo.map { (unit: units[$0], config: configs[$0], path: runPath(units[$0]), name: runName(units[$0]), partial: partialRun(units[$0])) }
        // The ETA weighs each step of a run by its compute: the forward-backward pass and the
        // update (a small_fc_lopt step on a width-4096 MLP costs ~4× its batch-128 forward-backward,
        // an Adam step ~1%), so the widest learned-optimizer runs, which go first, are not priced
        // like the rest. It still reads compute as time: VeLO's memory-bound step takes longer than its FLOPs say.
        let stepWork = jobs.map { j in
            let task = tasks[j.unit.optimizer][j.unit.width]
            return task.trainingFlops(batchSize: sp.batch) + opts[j.unit.optimizer].updateFlops(for: task)
        }
        let totalWork = jobs.indices.reduce(0.0) { $0 + stepWork[$1] * Double(sp.steps - resumesAt[jobs[$1].name, default: 0]) }
        let progress = Progress(total: todo.count, label: "runs", enabled: showProgress, totalWork: totalWork, unit: "runs")
        if todo.count < units.count { progress.log("resuming: \(units.count - todo.count) of \(units.count) runs already done") }
        let partly = resumesAt.values.filter { $0 > 0 }.count
        if partly > 0 { progress.log("\(partly) unfinished runs continue from where they were saved") }
        let (box, stop) = (UncheckedBox(progress), shouldStop)
        // An interruption is the first error: runJobs starts no further run, and those in progress save and stop.
        try runInParallel(jobs.count, threads: threads) { i in
            if stop?() == true { throw EvaluationInterrupted() }
            let (u, config, path, name, partial) = jobs[i]
            let task = tasks[u.optimizer][u.width]
            // Each run's steps feed the study's ETA as they go. In a log (not a terminal) long runs
            // also report from inside, each under its name, once a minute.
            let inside = Progress(total: sp.steps, label: "\(name): step", enabled: showProgress && isatty(STDERR_FILENO) == 0,
                                  logEvery: 60, feeding: box.value, workPerStep: stepWork[i])
            let result = try train(task: task, optimizer: opts[u.optimizer].make(totalSteps: sp.steps), config: config,
                                   progress: inside, metrics: metrics, run: name, partial: partial,
                                   updateScales: scales[u.optimizer][u.width])
            if result.stoppedBefore != nil { throw EvaluationInterrupted() }
            try result.write(to: path, config: config, task: task, includeParams: false)
            partial.remove()
            inside.finish()
            box.value.unitDone([("last", "\(opts[u.optimizer].key) w\(sp.widths[u.width]) s\(u.seed)")])
        }
        return try units.map { u in try load(runPath(u), unit: u) }
    }

    enum StoredRun { case missing, finished, different(String) }

    /// Whether `path` holds a finished run of `config` (its optimizer compared by its `identifying` settings).
    func finishedRun(_ path: String, matching config: TrainConfig) throws -> StoredRun {
        guard let f = try? HDF5File.open(path), (try? f.attributeString("kind")) == "mulo-train-run" else { return .missing }
        let json = try f.attributeString("config")
        guard var stored = try? JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8)) else { return .different(json) }
        // Compared as stored: JSON keeps 1.0 as 1, so a setting such as μVeLO's interp_mult "1.0"
        // reads back as "1" (the resume of every VeLO evaluation was refused before this).
        var wanted = try JSONDecoder().decode(TrainConfig.self, from: JSONEncoder.sorted.encode(config))
        stored.optimizerSettings = Self.identifying(stored.optimizerSettings)
        wanted.optimizerSettings = Self.identifying(wanted.optimizerSettings)
        return stored == wanted ? .finished : .different(json)
    }

    /// The settings that identify an optimizer: all but the checkpoint's path (θ's fingerprint
    /// identifies a learned optimizer, wherever its file is).
    static func identifying(_ settings: [String: String]) -> [String: String] { settings.filter { $0.key != "checkpoint" } }

    func load(_ path: String, unit u: Unit) throws -> EvaluationRun {
        let f = try HDF5File.open(path)
        let diverged = try f.attributeInt("diverged_at")
        let json = try f.attributeString("config")
        let record = try TrainResult.readRecord(f)
        var run = EvaluationRun(optimizer: optimizers[u.optimizer].key, width: spec.widths[u.width], seed: u.seed,
                                task: try f.attributeString("task"), trainLoss: record.trainLoss,
                                testStep: record.testSteps.map(Int64.init), testLoss: record.testLoss, testAccuracy: record.testAccuracy,
                                divergedAt: diverged >= 0 ? diverged : nil,
                                lossBound: (try? JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8)))?.divergenceBound)
        run.config = json
        // Runs adopted from a results.h5 without wall times were written with NaN.
        (run.wallTime, run.cpuTime) = (record.wallTime.isFinite ? record.wallTime : nil, record.cpuTime)
        return run
    }
}
