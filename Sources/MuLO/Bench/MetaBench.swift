import Foundation

/// `mulo bench meta`: PES meta-training throughput on one μP MLP task (METHOD §4), and where
/// the time goes (learned-optimizer step vs forward/backward), measured in one process.
public struct MetaBenchResult: Codable, Sendable {
    public let task: String
    public let pairs: Int
    public let truncation: Int
    public let batch: Int
    public let threads: Int
    public let inner_steps_per_s: Double
    public let seconds_per_outer_step: Double
    /// Single-threaded time of one LO step and one forward/backward on this task.
    public let lo_step_ms: Double
    public let forward_backward_ms: Double
    public let lo_share: Double
    public let sgemm_gflops: Double
    /// (6·P·B + the LO's FLOP per parameter·P) per inner step at the measured rate.
    public let effective_gflops: Double
}

public enum MetaBench {
    /// `optimizer`: small_fc_lopt, or VeLO (VeLO-4000's shape, on an SP task) or μVeLO (on a μP
    /// task) at the truncation given.
    public static func run(task name: String = "mumlp-w128-d3_fashionmnist-28x28x1", optimizer: LOBench.Subject = .smallFC,
                           pairs: Int = 8, truncation: Int = 50, batch: Int = 128, outerSteps: Int = 2, threads: Int,
                           dataDir: String? = nil, sgemm: Double) throws -> MetaBenchResult {
        let t = try TaskRegistry.parse(name)
        var config = MetaConfig(name: "bench")
        config.families = [.init(template: name.replacingOccurrences(of: "-w\(t.width)-", with: "-w{W}-"),
                                 widths: [t.width], batchSize: batch)]
        config.learnedOptimizer.parametrization = t.parametrization
        config.estimator.pairs = pairs
        config.estimator.truncation = truncation
        if optimizer == .smallFC {
            config.learnedOptimizer.stepMult = LOConfig.defaultStepMult(t.parametrization)
            return try time(MetaTrainer(config: config, dataDir: dataDir, threads: threads), outerSteps: outerSteps, subject: optimizer, sgemm: sgemm)
        }
        guard (optimizer == .muvelo) == (t.parametrization == .mup) else {
            throw TaskError("\(optimizer.rawValue) meta-trains \(optimizer == .muvelo ? "μP (mumlp-…)" : "SP (mlp-…)") tasks, not \(name)")
        }
        let preset = optimizer == .muvelo ? VeLOConfig.muVeLO : VeLOConfig.velo4000
        config.learnedOptimizer.architecture = VeLO.name
        (config.learnedOptimizer.lstmHidden, config.learnedOptimizer.paramInits) = (preset.lstmHidden, preset.paramInits)
        config.learnedOptimizer.stepMult = preset.stepMult
        return try time(MetaTrainer(config: config, architecture: VeLO(config.learnedOptimizer.veloConfig), dataDir: dataDir, threads: threads),
                        outerSteps: outerSteps, subject: optimizer, sgemm: sgemm)
    }

    static func time<A>(_ trainer: MetaTrainer<A>, outerSteps: Int, subject: LOBench.Subject, sgemm: Double) throws -> MetaBenchResult {
        try trainer.outerStep()  // warm-up: allocations, first touches
        let start = Date()
        for _ in 0..<outerSteps { try trainer.outerStep() }
        let perOuter = Date().timeIntervalSince(start) / Double(outerSteps)
        // The split of one inner step, single-threaded as each particle runs.
        return try withSingleThreadedKernels {
            try split(trainer, config: trainer.config, batch: trainer.config.batchSizes[0], perOuter: perOuter, subject: subject, sgemm: sgemm)
        }
    }

    static func split<A>(_ trainer: MetaTrainer<A>, config: MetaConfig, batch: Int, perOuter: Double, subject: LOBench.Subject,
                         sgemm: Double) throws -> MetaBenchResult {
        let task = trainer.tasks[0]
        var params = task.initialize(key: RNGKey(seed: 1))
        var inner = InnerStep(task: task, batchSize: batch)
        try inner.sample(key: RNGKey(seed: 2))
        let fb = Timing.secondsPerCall { _ = inner.lossAndGradient(at: params) }
        let lo = trainer.architecture.makeOptimizer(theta: trainer.state.theta)
        var loState = lo.initialState(for: params)
        let loTime = Timing.secondsPerCall {
            inner.update(&params, with: lo, state: &loState, context: StepContext(step: 0, totalSteps: 1000, loss: 2.3))
        }
        let p = Double(task.parameterCount)
        let rate = Double(trainer.innerStepsPerOuterStep) / perOuter
        return MetaBenchResult(task: task.name, pairs: config.estimator.pairs, truncation: config.estimator.truncation, batch: batch, threads: trainer.threads,
                               inner_steps_per_s: rate, seconds_per_outer_step: perOuter,
                               lo_step_ms: loTime * 1e3, forward_backward_ms: fb * 1e3, lo_share: loTime / (loTime + fb),
                               sgemm_gflops: sgemm,
                               effective_gflops: rate * (6 * p * Double(batch) + subject.flopsPerParam * p) / 1e9)
    }
}
