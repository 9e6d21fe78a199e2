import Foundation

/// `mulo bench inner`: one training step of a task (forward, backward and the optimizer)
/// against sgemm throughput measured in the same process, with the forward+backward FLOPs as
/// the task counts them (`Task.trainingFlops`), and the learned optimizer's step beside Adam's.
public struct InnerBenchRow: Codable, Sendable {
    public let task: String
    public let width: Int
    public let params: Int
    public let batch: Int
    /// Forward, backward and Adam.
    public let msPerStep: Double
    /// Forward + backward FLOPs per second.
    public let gflops: Double
    public let fractionOfSgemm: Double
    /// Share of the step spent in the Adam update.
    public let optimizerShare: Double
    /// The learned optimizer's step (small_fc_lopt, fast path) and its share of a step that uses it.
    public let msPerLOStep: Double
    public let loShare: Double
}

public enum InnerBench {
    public static let defaultTemplate = "mlp-w{W}-d2_synthetic-28x28x1"

    public static func run(template: String = defaultTemplate, widths: [Int], batch: Int = 128, sgemm: Double,
                           dataDir: String? = nil) throws -> [InnerBenchRow] {
        let tmpl = try TaskTemplate(template)
        return try widths.map { w in
            let task = try tmpl.name(width: w).makeTask(dataDir: dataDir)
            var params = task.initialize(key: RNGKey(seed: 0))
            let adam = Adam(schedule: .constant(1e-4))
            var state = adam.initialState(for: params)
            var inner = InnerStep(task: task, batchSize: batch)
            try inner.sample(key: RNGKey(seed: 1))
            let forwardBackward = Timing.secondsPerCall { _ = inner.lossAndGradient(at: params) }
            let opt = Timing.secondsPerCall { inner.update(&params, with: adam, state: &state, context: StepContext()) }
            let lo = LearnedOptimizer(theta: LOTheta.initial(key: RNGKey(seed: 2)), config: LOConfig(parametrization: task.parametrization))
            var loState = lo.initialState(for: params)
            let loStep = Timing.secondsPerCall { inner.update(&params, with: lo, state: &loState, context: StepContext()) }
            let step = forwardBackward + opt
            let gflops = task.trainingFlops(batchSize: batch) / forwardBackward / 1e9
            return InnerBenchRow(task: task.name, width: w, params: task.parameterCount, batch: batch, msPerStep: step * 1e3,
                                 gflops: gflops, fractionOfSgemm: gflops / sgemm, optimizerShare: opt / step,
                                 msPerLOStep: loStep * 1e3, loShare: loStep / (forwardBackward + loStep))
        }
    }
}
