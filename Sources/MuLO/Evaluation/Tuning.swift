import Foundation

/// A hyperparameter grid for a hand-designed optimizer (METHOD §6.2).
public struct TuningGrid: Codable, Sendable, Equatable {
    public var lr: [Float]
    public var beta1: [Float] = [0.9]
    public var beta2: [Float] = [0.999]
    public var weight_decay: [Float] = [0]
    public var momentum: [Float] = [0.9]

    public init(lr: [Float], beta1: [Float] = [0.9], beta2: [Float] = [0.999], weight_decay: [Float] = [0],
                momentum: [Float] = [0.9]) {
        (self.lr, self.beta1, self.beta2, self.weight_decay, self.momentum) = (lr, beta1, beta2, weight_decay, momentum)
    }

    /// Grid files may give only `lr`; every other list keeps its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TuningGrid(lr: [])
        self.init(lr: try c.decode([Float].self, forKey: .lr),
                  beta1: try c.decodeIfPresent([Float].self, forKey: .beta1) ?? d.beta1,
                  beta2: try c.decodeIfPresent([Float].self, forKey: .beta2) ?? d.beta2,
                  weight_decay: try c.decodeIfPresent([Float].self, forKey: .weight_decay) ?? d.weight_decay,
                  momentum: try c.decodeIfPresent([Float].self, forKey: .momentum) ?? d.momentum)
        guard !lr.isEmpty, lr.allSatisfy({ $0 > 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .lr, in: c, debugDescription: "lr must be a non-empty list of positive numbers")
        }
    }

    static func logSpaced(_ n: Int, _ a: Double, _ b: Double) -> [Float] {
        (0..<n).map { Float(exp(log(a) + (log(b) - log(a)) * Double($0) / Double(n - 1))) }
    }

    /// `small` (quick, the default), `medium` (48 μAdam / 60 AdamW settings), `paper` (Tables 6
    /// and 8: 512 μAdam / 504 AdamW settings), or a JSON file.
    public static func named(_ name: String, for kind: HandDesigned) throws -> TuningGrid {
        switch (name, kind) {
        case ("small", .adamw), ("small", .adam):
            return TuningGrid(lr: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], weight_decay: kind == .adamw ? [1e-4, 1e-2] : [0])
        case ("small", .muadam): return TuningGrid(lr: [3e-3, 1e-2, 3e-2, 1e-1, 3e-1])
        case ("small", .sgd): return TuningGrid(lr: [1e-3, 1e-2, 1e-1, 1])
        case ("medium", .muadam):
            return TuningGrid(lr: logSpaced(12, 1e-3, 1), beta1: [0.85, 0.9], beta2: [0.99, 0.999])
        case ("medium", .adamw), ("medium", .adam):
            return TuningGrid(lr: logSpaced(10, 1e-4, 3e-2), beta2: [0.99, 0.999], weight_decay: kind == .adamw ? [1e-4, 1e-3, 1e-2] : [0])
        case ("medium", .sgd): return TuningGrid(lr: logSpaced(10, 1e-3, 1), momentum: [0, 0.9])
        case ("paper", .muadam):
            return TuningGrid(lr: logSpaced(32, 1e-6, 1), beta1: [0.85, 0.9, 0.95, 0.99], beta2: [0.9, 0.95, 0.99, 0.999])
        case ("paper", .adamw), ("paper", .adam):
            return TuningGrid(lr: logSpaced(14, 1e-5, 0.1), beta1: [0.9, 0.95, 0.99], beta2: [0.95, 0.99, 0.999],
                              weight_decay: kind == .adamw ? [0.1, 0.01, 0.001, 0.0001] : [0])
        case ("paper", .sgd): return TuningGrid(lr: logSpaced(16, 1e-4, 1))
        default:
            guard let data = FileManager.default.contents(atPath: name) else {
                throw TaskError("grid '\(name)' is neither small, medium, paper nor a readable JSON file")
            }
            let grid: TuningGrid
            do { grid = try JSONDecoder().decode(TuningGrid.self, from: data) } catch {
                throw TaskError("grid file \(name): \(error)")
            }
            if let problem = grid.settings(for: kind, totalSteps: 1).lazy.compactMap(\.problem).first {
                throw TaskError("grid file \(name): \(problem)")
            }
            return grid
        }
    }

    public func settings(for kind: HandDesigned, totalSteps: Int) -> [HandDesigned.Settings] {
        var out: [HandDesigned.Settings] = []
        for lr in lr {
            for b1 in (kind == .sgd ? [0.9] : beta1) {
                for b2 in (kind == .sgd ? [0.999] : beta2) {
                    for wd in (kind == .adamw ? weight_decay : [0]) {
                        for mom in (kind == .sgd ? momentum : [0]) {
                            var s = HandDesigned.Settings()
                            (s.learningRate, s.beta1, s.beta2, s.weightDecay, s.momentum, s.totalSteps) = (lr, b1, b2, wd, mom, totalSteps)
                            out.append(s)
                        }
                    }
                }
            }
        }
        return out
    }
}

/// The outcome of tuning one baseline on one task and budget; cached as JSON and reused.
public struct TuningResult: Codable, Sendable {
    public struct Trial: Codable, Sendable {
        public let settings: HandDesigned.Settings
        /// nil when the run diverged (JSON has no infinity).
        public let finalLoss: Double?

        public init(settings: HandDesigned.Settings, finalLoss: Double?) { (self.settings, self.finalLoss) = (settings, finalLoss) }
    }

    public let optimizer: String
    public let task: String
    public let steps: Int
    public let batch: Int
    public let grid: String
    public let seed: Int
    public let best: HandDesigned.Settings
    public let bestLoss: Double
    public let trials: [Trial]

    public var summary: String {
        "\(optimizer) tuned on \(task), \(steps) steps, batch \(batch), grid \(grid) (\(trials.count) settings, seed \(seed)): "
            + "lr \(best.learningRate), β1 \(best.beta1), β2 \(best.beta2)" + (optimizer == "adamw" ? ", λ \(best.weightDecay)" : "")
            + String(format: ", final loss %.4f", bestLoss)
            + (learningRateAtGridEnd.map { " — the grid's \($0) learning rate: the optimum may lie beyond the grid" } ?? "")
    }

    /// "smallest" or "largest" when the best learning rate is at that end of the rates tried
    /// (diverged ones included), so the baseline may be under-tuned; nil inside them or with one rate.
    public var learningRateAtGridEnd: String? {
        let rates = trials.map(\.settings.learningRate)
        guard let low = rates.min(), let high = rates.max(), low < high else { return nil }
        return best.learningRate == high ? "largest" : best.learningRate == low ? "smallest" : nil
    }
}

public enum Tuner {
    /// Tuning runs use their own seed so the evaluation's seeds stay held out.
    public static let seed = 1000

    public static func cachePath(dir: String, kind: HandDesigned, task: String, steps: Int, batch: Int, grid: String) -> String {
        (dir as NSString).appendingPathComponent("\(kind.rawValue)_\(task)_\(steps)steps_b\(batch)_\(gridKey(grid)).json")
    }

    /// A named grid, or a grid file by its name alone (the same file given by another path is the same grid).
    static func gridKey(_ grid: String) -> String {
        ["small", "medium", "paper"].contains(grid) ? grid : URL(fileURLWithPath: grid).deletingPathExtension().lastPathComponent
    }

    /// The cached result if present, else a grid search (selection: lowest final smoothed
    /// training loss; diverged settings are never selected), cached before returning.
    public static func tune(_ kind: HandDesigned, task name: any TaskSpec, steps: Int, batch: Int, grid gridName: String,
                            cacheDir: String, threads: Int, dataDir: String? = nil, log: ((String) -> Void)? = nil) throws -> TuningResult {
        let path = cachePath(dir: cacheDir, kind: kind, task: name.description, steps: steps, batch: batch, grid: gridName)
        // A cache is used only if it is this search's and its best settings are usable; anything
        // else (edited, truncated, another task's) is said and searched again, the trials kept.
        func cached(saying: Bool) -> TuningResult? {
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            let problem: String
            if let r = try? JSONDecoder().decode(TuningResult.self, from: data) {
                let expected = (kind.rawValue, name.description, steps, batch, gridKey(gridName))
                if (r.optimizer, r.task, r.steps, r.batch, gridKey(r.grid)) != expected {
                    problem = "it is of \(r.optimizer) on \(r.task), \(r.steps) steps, batch \(r.batch), grid \(r.grid)"
                } else if let p = r.best.problem {
                    problem = p
                } else {
                    return r
                }
            } else {
                problem = "not a tuning result"
            }
            if saying { log?("ignoring cached tuning \(path): \(problem); tuning again") }
            return nil
        }
        if let hit = cached(saying: true) {
            log?("using cached tuning \(path)")
            return hit
        }
        let grid = try TuningGrid.named(gridName, for: kind)
        let task = try name.makeTask(dataDir: dataDir)
        let settings = grid.settings(for: kind, totalSteps: steps)
        // One process per search: its live metrics go to a directory beside the cache file, held
        // locked while it runs (a second `tune` of the same grid is refused at once).
        let logDir = String(path.dropLast(".json".count))
        let lock = try RunLock.acquire(logDir, command: "mulo tune \(kind.rawValue) \(name)")
        defer { lock.release() }
        if let hit = cached(saying: false) {  // finished by another process between the check and the lock
            log?("using cached tuning \(path)")
            return hit
        }
        // Finished trials of an interrupted search (one file each in the locked directory, the
        // setting inside) are kept: a search of hours resumes where it stopped.
        @Sendable func trialPath(_ i: Int) -> String { (logDir as NSString).appendingPathComponent("trial-\(i).json") }
        let done: [Int: TuningResult.Trial] = Dictionary(uniqueKeysWithValues: settings.indices.compactMap { i in
            guard let data = FileManager.default.contents(atPath: trialPath(i)),
                  let trial = try? JSONDecoder().decode(TuningResult.Trial.self, from: data), trial.settings == settings[i] else { return nil }
            return (i, trial)
        })
        log?("tuning \(kind.rawValue) on \(name): \(settings.count) settings × \(steps) steps"
             + (done.isEmpty ? "" : " (\(done.count) already done)"))
        let losses = UnsafeMutablePointer<Double>.allocate(capacity: settings.count)
        defer { losses.deallocate() }
        for i in settings.indices { losses[i] = done[i].map { $0.finalLoss ?? .infinity } ?? .nan }
        let out = SendablePointer(losses)
        // Live metrics of every trial beside the cache file (the finished trials' lines are kept).
        let metrics = try MetricsLog(directory: logDir, keep: { line in
            (line["run"] as? String).map { run in done.keys.contains { "trial-\($0)" == run } } ?? false
        })
        log?("live metrics: \(metrics.jsonlPath)")
        let todo = settings.indices.filter { done[$0] == nil }
        // A search runs for hours in a queue's log too: a line per finished trial at most every minute.
        let progress = log == nil ? nil : Progress(total: todo.count, label: "tuning trials", logEvery: 60, unit: "trials")
        let finished = Counter()
        try runInParallel(todo.count, threads: threads) { k in
            let i = todo[k]
            var config = TrainConfig(task: task.name, optimizer: kind.rawValue, steps: steps, batchSize: batch,
                                     seed: UInt64(seed), testInterval: 0, testExamples: 1)
            config.divergenceBound = task.lossClipBound
            let r = try trainCurvesOnly(task: task, optimizer: kind.make(settings[i]), config: config,
                                        metrics: metrics, run: "trial-\(i)")
            let loss = Statistics.finalLoss(r.trainLoss, diverged: r.divergedAt != nil)
            out.base[i] = loss
            let trial = TuningResult.Trial(settings: settings[i], finalLoss: loss.isFinite ? loss : nil)
            try AtomicFile.write(String(decoding: try JSONEncoder.sorted.encode(trial), as: UTF8.self), to: trialPath(i))
            progress?.update((finished.take(below: Int.max) ?? 0) + 1)
        }
        let trials = settings.indices.map { TuningResult.Trial(settings: settings[$0], finalLoss: losses[$0].isFinite ? losses[$0] : nil) }
        guard let best = trials.filter({ $0.finalLoss != nil }).min(by: { $0.finalLoss! < $1.finalLoss! }) else {
            throw TaskError("tuning \(kind.rawValue) on \(name): every setting diverged")
        }
        let result = TuningResult(optimizer: kind.rawValue, task: name.description, steps: steps, batch: batch, grid: gridName,
                                  seed: seed, best: best.settings, bestLoss: best.finalLoss!, trials: trials)
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true)
        let enc = JSONEncoder.sorted
        enc.outputFormatting.insert(.prettyPrinted)
        try AtomicFile.write(String(decoding: try enc.encode(result), as: UTF8.self), to: path)
        log?(result.summary)
        return result
    }

}
