import Foundation

/// `mulo bench inner`: one training step (forward, backward, Adam) of `mlp-w{W}-d2` on 784-dim
/// inputs, against sgemm throughput measured in the same process.
public struct InnerBenchRow: Codable, Sendable {
    public let width: Int
    public let params: Int
    public let batch: Int
    public let msPerStep: Double
    public let gflops: Double
    public let fractionOfSgemm: Double
    /// Share of the step spent in the Adam update.
    public let optimizerShare: Double
}

public enum InnerBench {
    public static func run(widths: [Int], batch: Int = 128, sgemm: Double) throws -> [InnerBenchRow] {
        let ds = try DatasetLoader.load(DatasetName(name: "synthetic", height: 28, width: 28, channels: 1))
        return try widths.map { w in
            let config = MLPConfig(inputDim: 784, hiddenWidths: [w, w], classes: 10, parametrization: .standard)
            let task = MLPTask(name: "mlp-w\(w)-d2_synthetic-28x28x1", config: config, dataset: ds)
            var params = task.initialize(key: RNGKey(seed: 0))
            let adam = Adam(schedule: .constant(1e-4))
            var state = adam.initialState(for: params)
            var inner = InnerStep(task: task, batchSize: batch)
            try inner.sample(key: RNGKey(seed: 1))
            let step = Timing.secondsPerCall {
                _ = inner.lossAndGradient(at: params)
                inner.update(&params, with: adam, state: &state, context: StepContext())
            }
            let opt = Timing.secondsPerCall { inner.update(&params, with: adam, state: &state, context: StepContext()) }
            let p = task.parameterCount
            let gflops = 6 * Double(p) * Double(batch) / step / 1e9
            return InnerBenchRow(width: w, params: p, batch: batch, msPerStep: step * 1e3, gflops: gflops,
                                 fractionOfSgemm: gflops / sgemm, optimizerShare: opt / step)
        }
    }
}
