import MuLO
import Testing

/// One parameterised suite runs every optimizer (optax style), plus hand-computed steps.
@Suite("Optimizers")
struct OptimizerTests {
    static func settings(_ lr: Float = 0.1) -> HandDesigned.Settings {
        var s = HandDesigned.Settings()
        s.learningRate = lr
        s.momentum = 0.9
        s.weightDecay = 0.01
        return s
    }

    /// A quadratic ½Σ aᵢ·pᵢ² over two tensors, with scales that μAdam honours.
    static func descend<O: Optimizer>(_ opt: O, steps: Int) -> (start: Double, end: Double) {
        var params = [Tensor(shape: [3, 4], data: (0..<12).map { Float($0) / 6 - 1 }), Tensor(shape: [5], repeating: 0.8)]
        let curvature = [Tensor(shape: [3, 4], data: (0..<12).map { 0.5 + Float($0) / 12 }), Tensor(shape: [5], repeating: 2)]
        func loss() -> Double {
            var total = 0.0
            for (p, a) in zip(params, curvature) {
                for (x, c) in zip(p.data, a.data) { total += 0.5 * Double(c * x * x) }
            }
            return total
        }
        var state = opt.initialState(for: params)
        let start = loss()
        for _ in 0..<steps {
            let grads = zip(params, curvature).map { p, a in Tensor(shape: p.shape, data: zip(p.data, a.data).map { $0 * $1 }) }
            opt.update(&params, grads: grads, scales: [0.5, 1], state: &state)
        }
        return (start, loss())
    }

    @Test(arguments: HandDesigned.allCases)
    func everyOptimizerDescendsAQuadratic(kind: HandDesigned) {
        let r = Self.descend(kind.make(Self.settings(0.02)), steps: 300)
        #expect(r.end < 0.1 * r.start, "\(kind): \(r.start) → \(r.end)")
    }

    /// Every update rule by name: the hand-designed ones and the learned optimizers.
    static let everyOptimizer = HandDesigned.allCases.map(\.rawValue) + ["lo-mu", "lo-sp", "lo-mu-reference", "lo-mu-hidden8"]

    static func make(_ name: String) -> any Optimizer {
        if let kind = HandDesigned(rawValue: name) { return kind.make(settings()) }
        let config: LOConfig = name.hasPrefix("lo-sp") ? .sp : .mu
        if name.hasSuffix("hidden8") {
            return LearnedOptimizer(theta: .initial(key: RNGKey(seed: 1), hidden: 8),
                                    config: LOConfig(parametrization: .mup, hiddenSize: 8))
        }
        return LearnedOptimizer(theta: .initial(key: RNGKey(seed: 1)), config: config,
                                implementation: name.hasSuffix("reference") ? .reference : .fast)
    }

    @Test(arguments: everyOptimizer)
    func everyOptimizerIsDeterministicAndThreadIndependent(name: String) {
        Self.checkThreadIndependence(Self.make(name))
    }

    /// Protocol behaviour shared by every optimizer: the state matches the parameters, updates
    /// touch every tensor (a 0-d one included) and keep them finite.
    @Test(arguments: everyOptimizer)
    func everyOptimizerUpdatesEveryTensor(name: String) {
        Self.checkUpdatesEveryTensor(Self.make(name))
    }

    static func checkUpdatesEveryTensor<O: Optimizer>(_ opt: O) {
        let shapes: [[Int]] = [[6, 5], [5], []]
        var params = shapes.map { Tensor(shape: $0, repeating: 0.3) }
        let start = params
        var state = opt.initialState(for: params)
        let grads = shapes.map { Tensor(shape: $0, repeating: 0.05) }
        for _ in 0..<3 { opt.update(&params, grads: grads, scales: [0.5, 1, 1], state: &state) }
        for (p, p0) in zip(params, start) {
            #expect(p.shape == p0.shape && p != p0)
            #expect(!p.data.contains { !$0.isFinite })
        }
    }

    static func checkThreadIndependence<O: Optimizer>(_ opt: O) {
        let n = 30_001
        var g = [Float](repeating: 0, count: n)
        RNGKey(seed: 1).fillNormal(&g)
        func run(workers: Int) -> [Float] { Support.withWorkers(workers) {
            var p = [Tensor(shape: [n], repeating: 0.3)]
            var s = opt.initialState(for: p)
            for _ in 0..<3 { opt.update(&p, grads: [Tensor(shape: [n], data: g)], scales: [1], state: &s) }
            return p[0].data
        } }
        #expect(run(workers: 1) == run(workers: 3))
    }

    /// The vectorised C kernels against the plain Swift loops (llm.c style).
    @Test func adamKernelMatchesReference() {
        for opt in [Adam(schedule: .constant(0.01)), Adam.adamW(schedule: .constant(0.01), weightDecay: 0.1),
                    Adam.muAdam(schedule: .constant(0.01))] {
            let n = 1037
            var g = [Float](repeating: 0, count: n)
            var p = [Tensor(shape: [n], repeating: 0.5)]
            var s = opt.initialState(for: p)
            var (rp, rm, rv) = (p[0].data, [Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
            for step in 1...4 {
                RNGKey(seed: UInt64(step)).fillNormal(&g)
                opt.update(&p, grads: [Tensor(shape: [n], data: g)], scales: [0.25], state: &s)
                opt.referenceUpdate(&rp, &rm, &rv, g, scale: 0.25, count: step)
            }
            for i in 0..<n { #expect(abs(p[0].data[i] - rp[i]) <= 1e-6 * max(1, abs(rp[i]))) }
        }
    }

    @Test func sgdKernelMatchesReference() {
        let opt = SGD(schedule: .constant(0.05), momentum: 0.9)
        let n = 999
        var g = [Float](repeating: 0, count: n)
        var p = [Tensor(shape: [n], repeating: 1)]
        var s = opt.initialState(for: p)
        var (rp, rv) = (p[0].data, [Float](repeating: 0, count: n))
        for step in 1...4 {
            RNGKey(seed: UInt64(step)).fillNormal(&g)
            opt.update(&p, grads: [Tensor(shape: [n], data: g)], scales: [1], state: &s)
            SGD.referenceUpdate(&rp, &rv, g, mu: 0.9, lr: 0.05)
        }
        for i in 0..<n { #expect(abs(p[0].data[i] - rp[i]) <= 1e-6) }
    }

    /// Two steps from p = 1 with gradients 0.5 then −0.2, worked out by hand:
    /// Adam(η 0.1): m = 0.05, v = 2.5e-4, m̂ = 0.5, v̂ = 0.25 → p = 1 − 0.1·0.5/(0.5+1e-8) = 0.9;
    /// then m = 0.025, v = 2.8975e-4, m̂ = 0.131579, v̂ = 0.144947 → p = 0.9 − 0.1·0.345607 = 0.865439.
    @Test func adamHandComputed() {
        let p = twoSteps(Adam(schedule: .constant(0.1)), scale: 1)
        #expect(abs(p[0] - 0.9) < 1e-6 && abs(p[1] - 0.865439) < 1e-6)
    }

    /// AdamW(η 0.1, λ 0.01): p = 1 − 0.1·(1 + 0.01·1) = 0.899; then 0.899 − 0.1·(0.345607 + 0.00899) = 0.863540.
    @Test func adamWHandComputed() {
        let p = twoSteps(Adam.adamW(schedule: .constant(0.1), weightDecay: 0.01), scale: 1)
        #expect(abs(p[0] - 0.899) < 1e-6 && abs(p[1] - 0.863540) < 1e-6)
    }

    /// μAdam multiplies each step by s_W = 0.25: p = 1 − 0.025 = 0.975; then 0.975 − 0.025·0.345607 = 0.966360.
    @Test func muAdamHandComputed() {
        let p = twoSteps(Adam.muAdam(schedule: .constant(0.1)), scale: 0.25)
        #expect(abs(p[0] - 0.975) < 1e-6 && abs(p[1] - 0.966360) < 1e-6)
        // Plain Adam ignores the scale.
        #expect(abs(twoSteps(Adam(schedule: .constant(0.1)), scale: 0.25)[0] - 0.9) < 1e-6)
    }

    /// SGD(η 0.1, μ 0.9): v = 0.5, p = 0.95; v = 0.45 − 0.2 = 0.25, p = 0.925.
    @Test func sgdHandComputed() {
        let p = twoSteps(SGD(schedule: .constant(0.1), momentum: 0.9), scale: 1)
        #expect(abs(p[0] - 0.95) < 1e-7 && abs(p[1] - 0.925) < 1e-7)
    }

    func twoSteps<O: Optimizer>(_ opt: O, scale: Float) -> [Float] {
        var p = [Tensor.scalar(1)]
        var s = opt.initialState(for: p)
        var out: [Float] = []
        for g: Float in [0.5, -0.2] {
            opt.update(&p, grads: [.scalar(g)], scales: [scale], state: &s)
            out.append(p[0].data[0])
        }
        return out
    }

    @Test func schedulesAtBoundaries() {
        let outer = Schedule.metaTraining
        #expect(outer.value(at: 0) == 3e-10)
        #expect(abs(outer.value(at: 50) - (3e-10 + (3e-3 - 3e-10) * 0.5)) < 1e-9)
        #expect(abs(outer.value(at: 100) - 3e-3) < 1e-9)
        #expect(abs(outer.value(at: 2500) - 2e-3) < 1e-8)  // cosine midpoint
        #expect(abs(outer.value(at: 4900) - 1e-3) < 1e-9)
        #expect(outer.value(at: 4901) == 1e-3 && outer.value(at: 10_000) == 1e-3)
        let b = Schedule.baseline(peak: 0.5, warmupSteps: 10, totalSteps: 110)
        #expect(b.value(at: 0) == 0 && abs(b.value(at: 5) - 0.25) < 1e-7 && b.value(at: 10) == 0.5)
        #expect(abs(b.value(at: 60) - 0.275) < 1e-6 && abs(b.value(at: 110) - 0.05) < 1e-7)
        #expect(Schedule.constant(0.3).value(at: 12345) == 0.3)
        let noWarmup = Schedule.baseline(peak: 1, warmupSteps: 0, totalSteps: 100)
        #expect(noWarmup.value(at: 0) == 1)
    }
}
