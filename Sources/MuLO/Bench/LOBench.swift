import Foundation

/// `mulo bench lo`: the learned-optimizer step on realistic tensors (the weights and biases of a
/// 3-hidden-layer MLP on 784-dim inputs, sized to N parameters) against an Adam step on the
/// same tensors and sgemm, all measured in one process.
public struct LOBenchRow: Codable, Sendable {
    public let params: Int
    public let width: Int
    public let lo_ns_per_param: Double
    public let adam_ns_per_param: Double
    public let lo_over_adam: Double
    /// The subject's FLOP per parameter (small_fc_lopt 3.2k, METHOD §8.2) over the measured time.
    public let lo_effective_gflops: Double
    /// The compute bound at sgemm speed: the FLOP per parameter / sgemm rate.
    public let bound_ns_per_param: Double
    /// LO time over the compute bound (1 = sgemm speed).
    public let over_bound: Double
    /// The memory-traffic bound: the bytes the three sweeps move per parameter at the
    /// measured bandwidth.
    public let memory_bound_ns_per_param: Double
    /// The bound of the sweeps' order: a tensor's MLP sweep needs the sums of its earlier sweeps
    /// (and VeLO's, the LSTM's output, which needs every tensor's), so the phases cannot overlap:
    /// the earlier sweeps at the measured bandwidth (their arithmetic is light), then the MLP
    /// sweep at the slower of its compute and memory bounds.
    public let schedule_bound_ns_per_param: Double
    /// VeLO only: the per-tensor part (mixing, LSTM, heads, interpolated MLP) per tensor, µs.
    public let per_tensor_us: Double?
}

public enum LOBench {
    /// Which learned optimizer to time: small_fc_lopt (μLO), or VeLO's per-parameter part at the
    /// μVeLO or VeLO-4000 size (≈ 300 FLOP per parameter with the reductions of VELO §3.4).
    public enum Subject: String, CaseIterable, Sendable {
        case smallFC = "small_fc_lopt", velo, muvelo

        /// The size timed for VeLO's two subjects (nil for small_fc_lopt).
        public var veloConfig: VeLOConfig? {
            switch self {
            case .smallFC: nil
            case .velo: .velo4000
            case .muvelo: .muVeLO
            }
        }
        public var flopsPerParam: Double { veloConfig.map { VeLO($0).flopsPerParameter } ?? SmallFCLOpt(.mu).flopsPerParameter }
    }

    /// Bytes one LO step moves per element before the MLP sweep and in it, either architecture
    /// (VELO §3.4's schedule: VeLO's per-tensor statistics come out of sweep 1). A matrix's three
    /// sweeps: read g, p, M×3, V (24 B) and write M×3, V (16 B); read g, M×3 (16 B); then read g,
    /// p, M×3, V and write p (28 B). A vector's two: read g, p, M×3, V, Vd×3 (36 B) and write M×3,
    /// V, Vd×3 (28 B); then read the same 36 B and write p (4 B). (MuLO's VeLO reads a vector's p,
    /// M×3, V once more for its statistics: vectors are O(width), so the bound leaves that out.)
    public static func traffic(matrix: Bool) -> (sweeps: Double, mlpSweep: Double) { matrix ? (56, 28) : (64, 40) }

    /// The MLP width W whose 784→W→W→W→10 parameter count is closest to `params`.
    public static func width(forParams params: Int) -> Int {
        func count(_ w: Int) -> Int { 784 * w + w + 2 * (w * w + w) + 10 * w + 10 }
        var w = 1
        while count(w + 1) <= params { w += 1 }
        return abs(count(w + 1) - params) < abs(count(w) - params) ? w + 1 : w
    }

    public static func run(params: Int, host: BenchHost, implementation: LearnedOptimizer.Implementation = .fast,
                           subject: Subject = .smallFC) -> LOBenchRow {
        let w = width(forParams: params)
        let config = MLPConfig(inputDim: 784, hiddenWidths: [w, w, w], classes: 10, parametrization: .mup)
        var tensors = config.initialize(key: RNGKey(seed: 0))
        let grads = tensors.enumerated().map { i, t in
            var g = Tensor(zeros: t.shape)
            RNGKey(seed: 1).split(UInt64(i)).fillNormal(&g.data, std: 1e-3)
            return g
        }
        let scales = config.parameterSpecs.map(\.updateScale)
        let loTime: Double
        var perTensor: Double?
        if let config = subject.veloConfig {
            let lo = VeLOOptimizer(config: config, theta: config.initialTheta(key: RNGKey(seed: 2)), implementation: implementation)
            var loState = lo.initialState(for: tensors)
            let context = StepContext(step: 0, totalSteps: 1000, loss: 1)
            loTime = Timing.secondsPerCall(minSeconds: 1) { lo.update(&tensors, grads: grads, scales: scales, state: &loState, context: context) }
            var inputs = tensors.indices.map { _ in [Float](repeating: 0, count: VeLOConfig.features) }
            for i in inputs.indices { RNGKey(seed: 3).split(UInt64(i)).fillNormal(&inputs[i]) }
            perTensor = Timing.secondsPerCall(minSeconds: 0.2) { _ = lo.perTensorPart(inputs, state: &loState) } / Double(tensors.count) * 1e6
        } else {
            let lo = LearnedOptimizer(theta: .initial(key: RNGKey(seed: 2)), config: .mu, implementation: implementation)
            var loState = lo.initialState(for: tensors)
            loTime = Timing.secondsPerCall(minSeconds: 1) { lo.update(&tensors, grads: grads, scales: scales, state: &loState) }
        }
        let flops = subject.flopsPerParam
        let adam = Adam(schedule: .constant(1e-4))
        var adamState = adam.initialState(for: tensors)
        let adamTime = Timing.secondsPerCall { adam.update(&tensors, grads: grads, scales: scales, state: &adamState) }
        let n = Double(tensors.reduce(0) { $0 + $1.count })
        let ns = loTime / n * 1e9, bound = flops / host.sgemm_gflops
        var bytes = 0.0, schedule = 0.0   // bytes; ns
        for t in tensors {
            let (sweeps, mlpSweep) = traffic(matrix: t.shape.count == 2), count = Double(t.count)
            bytes += count * (sweeps + mlpSweep)
            schedule += count * (sweeps / host.memory_gbs + max(bound, mlpSweep / host.memory_gbs))
        }
        return LOBenchRow(params: Int(n), width: w, lo_ns_per_param: ns, adam_ns_per_param: adamTime / n * 1e9,
                          lo_over_adam: loTime / adamTime, lo_effective_gflops: flops * n / loTime / 1e9,
                          bound_ns_per_param: bound, over_bound: ns / bound,
                          memory_bound_ns_per_param: bytes / n / host.memory_gbs, schedule_bound_ns_per_param: schedule / n,
                          per_tensor_us: perTensor)
    }
}
