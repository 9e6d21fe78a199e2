import ArgumentParser
import Foundation
import MuLO

struct MetaTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta-train",
        abstract: "Meta-train a learned optimizer with PES over the task families of a MetaTasks config.",
        discussion: """
            CONFIG is a .toml file or the name of one in MetaTasks/ (default: demo). Checkpoints go to \
            --out DIR every `checkpoint.interval` outer steps and at the end; --resume continues from \
            DIR/latest. Ctrl-C writes a checkpoint before exiting. With --compare-width W (default 512 \
            when CONFIG is not given), the new θ and the learned optimizers shipped in Checkpoints/ then \
            train the first task family at width W side by side (DIR/compare-w<W>/).
            """)

    @Argument(help: "Config file or MetaTasks/ name (default: demo).")
    var config: String?

    @Option(help: "Afterwards, compare the new θ with the shipped learned optimizers at this width (0: don't).")
    var compareWidth: Int?

    @Option(help: "Run directory (default runs/meta-<config name>, or the next free runs/meta-<name>-N).")
    var out: String?

    @Flag(help: "Continue the run in --out from its latest checkpoint.")
    var resume = false

    @Option(help: "Stop after this many outer steps in total (default: the config's outer_steps, which stays the run's configuration).")
    var steps: Int?

    /// --threads: worker threads for the particles (results do not depend on it); --data-dir.
    @OptionGroup var runtime: RuntimeOptions
    var dataDir: String? { runtime.dataDir }

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be ≥ 1") }
        if let compareWidth, compareWidth < 0 { throw ValidationError("--compare-width must be ≥ 0") }
    }

    func run() throws {
        let mpi: MPIContext?
        do { mpi = try MPIContext.fromEnvironment() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        do {
            try runReportingErrors {
                guard let path = RepositoryPaths.metaConfig(config ?? "demo") else {
                    let word = config ?? "demo"
                    let hint = Self.closest(word, among: RepositoryPaths.metaConfigNames).map { "; did you mean `\($0)`?" } ?? ""
                    throw MetaConfigError("no config '\(word)': give a .toml path or a name in MetaTasks/\(hint)")
                }
                let cfg = try MetaConfig.load(path)
                switch cfg.learnedOptimizer.architecture {
                case VeLO.name: try execute(cfg, architecture: VeLO(cfg.learnedOptimizer.veloConfig), mpi: mpi)
                default: try execute(cfg, architecture: SmallFCLOpt(cfg.loConfig), mpi: mpi)
                }
            }
            mpi?.finalize()
        } catch let e as ExitCode where mpi != nil && e != .success {
            // One rank failing must end the whole job rather than leave the others waiting.
            if let mpi, mpi.size > 1 {
                FileHandle.standardError.write(Data("rank \(mpi.rank): stopping the MPI job\n".utf8))
                mpi.abort(e.rawValue)
            }
            throw e
        }
    }

    /// The candidate within two edits of `word` (Levenshtein), if one is.
    static func closest(_ word: String, among candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var previous = row[0]
                row[0] = i + 1
                for (j, cb) in b.enumerated() {
                    let old = row[j + 1]
                    row[j + 1] = min(old + 1, row[j] + 1, previous + (ca == cb ? 0 : 1))
                    previous = old
                }
            }
            return row[b.count]
        }
        let scored = candidates.map { ($0, distance(Array(word), Array($0))) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Meta-trains `architecture` as `cfg` says, then (the demo) compares the result at a large width.
    private func execute<A: LearnedOptimizerArchitecture>(_ cfg: MetaConfig, architecture: A, mpi: MPIContext?) throws {
        let dir = out ?? defaultDirectory(cfg.name)
        let stop = StopSignal(stopping: "stopping after this outer step and writing a checkpoint")
        let width = compareWidth ?? (config == nil ? 512 : 0)
        let comparison = width > 0 && (mpi?.isRoot ?? true)
            ? ShippedComparison(theta: (dir as NSString).appendingPathComponent("theta.h5"), config: cfg, width: width,
                                directory: (dir as NSString).appendingPathComponent("compare-w\(width)"),
                                threads: runtime.threadCount, dataDir: dataDir,
                                shouldStop: { stop.signal != nil })
            : nil
        // A comparison width no task or no memory allows fails now, not after the meta-training.
        try comparison?.check()
        // One run per directory (rank 0 writes for all ranks): taken before the latest checkpoint
        // is chosen, so a second process — a second run or a --resume of a live one — is refused.
        let lock = mpi?.isRoot ?? true ? try RunLock.acquire(dir, command: "mulo meta-train \(cfg.name)") : nil
        let trainer: MetaTrainer<A>
        do { trainer = try prepare(cfg, architecture: architecture, dir: dir, mpi: mpi) } catch { lock?.abandon(); throw error }
        defer { lock?.release() }
        try train(trainer, dir: dir, until: steps ?? cfg.outerSteps, stop: stop)
        if let comparison {
            do {
                try comparison.run()
            } catch is EvaluationInterrupted {
                print("comparison interrupted, its runs saved where they stopped: the same command with --resume continues it")
                throw stop.exitCode
            }
        }
    }

    /// The last outer step's metrics, named as in the checkpoints' `metrics/` group.
    static func scalars(_ m: MetaMetrics, tasks: [any Task]) -> [(String, Float)] {
        [("meta_loss", m.metaLoss.last!), ("learning_rate", m.learningRate.last!), ("update_norm", m.updateNorm.last!),
         ("inner_steps_per_s", m.innerStepsPerSecond.last!)]
            + tasks.indices.flatMap { f in
                [("family_loss/\(tasks[f].name)", m.familyLoss[f].last!), ("family_at_bound/\(tasks[f].name)", m.familyAtBound[f].last!)]
            }
    }

    /// Output only rank 0 prints.
    private func say<A>(_ trainer: MetaTrainer<A>, _ text: String) {
        if trainer.mpi?.isRoot ?? true { print(text) }
    }

    /// runs/meta-<name>; a new run without --out never touches an earlier one, it takes the
    /// next free runs/meta-<name>-N. With --resume, the newest of them.
    private func defaultDirectory(_ name: String) -> String {
        let fm = FileManager.default
        let base = "runs/meta-\(name)"
        let candidates = [base] + (2..<10_000).map { "\(base)-\($0)" }
        func holdsRun(_ dir: String) -> Bool { fm.fileExists(atPath: dir) && ((try? MetaCheckpoint.latest(in: dir)) ?? nil) != nil }
        let used = candidates.prefix(while: holdsRun)
        if resume { return used.last ?? base }
        return candidates[used.count]
    }

    /// A fresh trainer, or one restored from DIR's latest checkpoint with --resume. Nothing is
    /// written to DIR before this succeeds.
    private func prepare<A: LearnedOptimizerArchitecture>(_ cfg: MetaConfig, architecture: A, dir: String,
                                                            mpi: MPIContext?) throws -> MetaTrainer<A> {
        let fm = FileManager.default
        let latest = fm.fileExists(atPath: dir) ? try MetaCheckpoint.latest(in: dir) : nil
        if resume && latest == nil { throw MetaConfigError("--resume: \(dir) holds no checkpoint to resume") }
        if !resume && latest != nil {
            throw MetaConfigError("\(dir) already holds a run (\(latest!)); use --resume to continue it or another --out")
        }
        // The θ to start from and its provenance (file name, and the outer steps a shipped θ names):
        // a continued run's checkpoints and budget record them.
        var initial: MetaParameters?, provenance: (file: String, outerSteps: Int?)?
        if let ckpt = cfg.learnedOptimizer.initCheckpoint, latest == nil {
            let loaded = try LOCheckpoint.loadAny(ckpt)
            guard let same = loaded.architecture as? A, same.thetaShapes == architecture.thetaShapes,
                  loaded.parametrization == cfg.parametrization else {
                let wanted = architecture.thetaShapes.reduce(0) { $0 + $1.reduce(1, *) }
                throw MetaConfigError("""
                    init_checkpoint \(ckpt) holds a \(loaded.parametrization.rawValue) \(loaded.architectureName) θ of \
                    \(loaded.theta.count) values; the config meta-trains a \(cfg.parametrization.rawValue) \(A.name) of \(wanted)
                    """)
            }
            initial = loaded.theta
            let file = try HDF5File.open(ckpt)
            defer { try? file.close() }
            // A θ that itself continued another (a third part) counts that one's outer steps too.
            let before = file.hasAttribute("init_outer_steps") ? try file.attributeInt("init_outer_steps") : 0
            provenance = (URL(fileURLWithPath: ckpt).lastPathComponent,
                          file.hasAttribute("outer_steps_done") ? try file.attributeInt("outer_steps_done") + before : nil)
        }
        let trainer = try MetaTrainer(config: cfg, architecture: architecture, dataDir: dataDir,
                                      threads: runtime.threadCount, initialTheta: initial)
        trainer.mpi = mpi
        if let provenance { (trainer.state.metrics.initTheta, trainer.state.metrics.initOuterSteps) = provenance }
        if let latest {
            let restarted = try MetaCheckpoint.restore(trainer, from: latest)
            say(trainer, "resuming \(cfg.name) from \(latest) at outer step \(trainer.state.outerStep)"
                + (restarted ? " (a restart point: θ and the outer optimizer kept, every particle afresh)" : ""))
        }
        return trainer
    }

    /// Outer steps up to `stopStep`: a stopping point only, so checkpoints keep recording the
    /// configured budget (`--steps` must not rewrite what the run was meant to be).
    private func train<A>(_ trainer: MetaTrainer<A>, dir: String, until stopStep: Int, stop: StopSignal) throws {
        let cfg = trainer.config
        let isRoot = trainer.mpi?.isRoot ?? true
        let ranks = trainer.mpi.map { ", \($0.size) MPI ranks" } ?? ""
        say(trainer, "meta-training \(cfg.name): \(trainer.tasks.map(\.name).joined(separator: ", "))")
        let es = cfg.estimator
        say(trainer, "  \(es.kind.rawValue.uppercased()), \(es.pairs) pairs per family, σ \(es.sigma), K \(es.truncation), episodes [\(es.episodeMin), \(es.episodeMax)), \(cfg.outerSteps) outer steps\(stopStep != cfg.outerSteps ? " (stopping at \(stopStep))" : ""), \(trainer.threads) threads\(ranks)")
        let departures = cfg.departures
        say(trainer, departures.isEmpty ? "  no departures from the paper's constants"
              : "  departures from the paper's constants (stored in every checkpoint):\n" + departures.map { "    - \($0)" }.joined(separator: "\n"))
        let startStep = trainer.state.outerStep
        // Live metrics in DIR; a resume drops the lines of steps after its checkpoint, which it redoes.
        let metrics = isRoot ? try MetricsLog(directory: dir, keep: { ($0["step"] as? Int).map { $0 <= startStep } ?? false }) : nil
        if let metrics { say(trainer, "  live metrics: \(metrics.jsonlPath) (tensorboard --logdir \(dir))") }
        let progress = Progress(total: stopStep, label: "outer step", enabled: isRoot, unit: "outer steps")
        progress.resume(at: startStep)
        var ema: Float? = trainer.state.metrics.metaLoss.last
        let firstLoss = trainer.state.metrics.metaLoss.first
        let end = try trainer.run(until: stopStep, checkpointsIn: dir, shouldStop: { stop.signal != nil }) { loss in
            ema = ema.map { 0.95 * $0 + 0.05 * loss } ?? loss
            let s = trainer.state.outerStep
            try metrics?.record(step: s, Self.scalars(trainer.state.metrics, tasks: trainer.tasks))
            // Diverged inner runs clip to the bound and feed PES a flat signal: show when they occur.
            let atBound = trainer.state.metrics.lastAtBound ?? 0
            progress.update(s, [("meta-loss EMA", String(format: "%.4f", ema!))]
                                + (atBound > 0 ? [("at bound", String(format: "%.1f%%", 100 * atBound))] : [])
                                + [("inner steps/s", String(format: "%.0f", trainer.state.metrics.innerStepsPerSecond.last!))])
        }
        if end.interrupted {
            progress.log("interrupted at outer step \(trainer.state.outerStep); checkpoint \(end.lastCheckpoint ?? "?") written; resume with --resume")
            trainer.mpi?.finalize()
            throw stop.exitCode
        }
        guard isRoot else { return }
        let m = trainer.state.metrics
        print("done: \(trainer.state.outerStep) outer steps, \(Progress.duration(m.wallTime.last ?? 0)) of meta-training")
        if let first = firstLoss ?? m.metaLoss.first, let last = m.metaLoss.last {
            let tail = m.metaLoss.suffix(max(1, m.metaLoss.count / 10))
            print(String(format: "meta-loss: first %.4f, last %.4f, mean of the last 10%% %.4f", first, last,
                         tail.reduce(0, +) / Float(tail.count)))
        }
        let latest = try end.lastCheckpoint ?? MetaCheckpoint.latest(in: dir) ?? "none"
        print("checkpoint: \(latest)")
        print("learned optimizer θ: \((dir as NSString).appendingPathComponent("theta.h5"))")
    }
}
