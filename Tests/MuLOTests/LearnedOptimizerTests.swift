import Foundation
import MuLO
import Testing

@Suite("Learned optimizer")
struct LearnedOptimizerTests {
    @Test(arguments: LearnedOptimizer.Implementation.allCases)
    func goldenCases(implementation: LearnedOptimizer.Implementation) throws {
        let file = try HDF5File.open(Support.goldenPath)
        let cases = try ReferenceChecker.caseNames(file)
        #expect(Set(cases) == ["sp", "mu", "mu_late"])
        for name in cases {
            for c in try ReferenceChecker.checkCase(file, name: name, implementation: implementation) {
                #expect(c.passed, "\(c.line)")
            }
        }
    }

    /// TRANSFORMERS §5.1: the factored rule on rank-3/4 tensors (per-head row normalisers) and
    /// the factored axes of every shape, on both paths.
    @Test(arguments: LearnedOptimizer.Implementation.allCases)
    func goldenCasesOnNdTensors(implementation: LearnedOptimizer.Implementation) throws {
        let path = URL(fileURLWithPath: Support.goldenPath).deletingLastPathComponent().appendingPathComponent("small_fc_lopt_nd.h5").path
        let file = try HDF5File.open(path)
        let cases = try ReferenceChecker.caseNames(file)
        #expect(Set(cases) == ["sp", "mu", "mu_late"])
        for name in cases {
            for c in try ReferenceChecker.checkCase(file, name: name, implementation: implementation) {
                #expect(c.passed, "\(c.line)")
            }
        }
        let factoring = try ReferenceChecker.checkFactoring(file)
        #expect(factoring.count == 13 && factoring.allSatisfy(\.passed))
    }

    /// METHOD §2.1's table: the shipped offsets and their effective decays.
    @Test func decayReparametrisation() throws {
        var theta = LOTheta.initial(key: RNGKey(seed: 0))
        theta.momentumDecays.data = [0.15216392, 0.14245212, 0.06812963]
        theta.rmsDecays.data = [0.01079706]
        theta.adafactorDecays.data = [0.18621896, -0.10864615, -0.06185547]
        let d = LODecays(theta: theta, config: .mu)
        for (x, e) in zip(d.momentum + [d.rms] + d.adafactor,
                          [0.542027, 0.958441, 0.998024, 0.998886, 0.356218, 0.996626, 0.999461] as [Float]) {
            #expect(abs(x - e) < 2e-6, "\(x) vs \(e)")
        }
        let zero = LODecays(theta: LOTheta.initial(key: RNGKey(seed: 0)), config: .sp)
        #expect(zero.momentum.map { abs($0 - 0.9) < 1e-6 } == [true, false, false])
        #expect(abs(zero.momentum[2] - 0.999) < 1e-6 && abs(zero.rms - 0.999) < 1e-6)
        // rms and Adafactor decays are clipped to [0, 1]; momentum decays are not.
        theta.momentumDecays.data = [1, 1, 1]
        theta.rmsDecays.data = [1]
        let big = LODecays(theta: theta, config: .mu)
        #expect(big.momentum[0] < 0 && big.rms == 0)
    }

    @Test func timeFeaturesAtTheFirstStep() {
        #expect(timeFeatures(step: 0).allSatisfy { abs($0 - -0.7615942) < 1e-7 })
        let late = timeFeatures(step: 1000)
        #expect(abs(late[6] - 0) < 1e-7 && abs(late[0] - tanh(Float(999))) < 1e-7)
    }

    /// METHOD §2.2's table of factored axes, including the tie rule.
    @Test func factoredAxisRule() {
        #expect(factoredAxes([784, 128])! == (1, 0))   // input below the input size: D0 = 0
        #expect(factoredAxes([128, 128])! == (0, 1))   // tie: D0 = fan_out
        #expect(factoredAxes([128, 1000])! == (0, 1))  // readout W < 1000: D0 = 1
        #expect(factoredAxes([1024, 1000])! == (1, 0))
        #expect(factoredAxes([128, 10])! == (1, 0))
        #expect(factoredAxes([5]) == nil && factoredAxes([]) == nil)
        let s = LOTensorState(shape: [784, 128])
        #expect(s.vRow.count == 3 * 128 && s.vCol.count == 3 * 784)
    }

    @Test func thetaInitialisation() {
        let theta = LOTheta.initial(key: RNGKey(seed: 1))
        #expect(theta.count == 2409 && theta.flat.count == 2409)
        #expect(theta.tensors.map(\.shape) == LOTheta.shapes(hidden: 32))
        for (w, fanIn) in [(theta.w0, 39.0), (theta.w1, 32.0), (theta.w2, 32.0)] {
            #expect(w.data.allSatisfy { Double(abs($0)) <= 2 / fanIn.squareRoot() + 1e-7 })
        }
        let (mean, std) = Support.meanStd(theta.w0.data + theta.w1.data.map { $0 * (32.0 / 39).squareRoot() })
        #expect(abs(mean) < 0.01 && abs(std * 39.0.squareRoot() - 0.8796) < 0.05)
        #expect((theta.b0.data + theta.b1.data + theta.b2.data + theta.momentumDecays.data + theta.rmsDecays.data
                 + theta.adafactorDecays.data).allSatisfy { $0 == 0 })
        #expect(LOTheta.initial(key: RNGKey(seed: 1)) == theta && LOTheta.initial(key: RNGKey(seed: 2)) != theta)
        var copy = theta
        copy.flat = theta.flat
        #expect(copy == theta)
    }

    @Test func thetaFilesRoundTrip() throws {
        let dir = try Support.tempDir()
        let path = dir.appendingPathComponent("theta.h5").path
        let theta = LOTheta.initial(key: RNGKey(seed: 4))
        let config = LOConfig(parametrization: .standard)
        try LOCheckpoint.save(theta, config: config, to: path)
        let (t, c) = try LOCheckpoint.load(path)
        #expect(t == theta && c == config)
        #expect(try HDF5File.open(path).exists("theta/nn/~/w0"))  // the reference names
        let other = dir.appendingPathComponent("not-lo.h5").path
        let f = try HDF5File.create(other)
        try f.write("x", shape: [1], [Float(1)])
        try f.commit()
        let e = #expect(throws: LOError.self) { try LOCheckpoint.load(other) }
        #expect(e?.message.contains("no `theta` group") == true)
    }

    /// METHOD §8.4: 4 floats per matrix element + O(rows + cols); 7 per vector element.
    @Test func stateMemory() {
        let m = LOTensorState(shape: [300, 200])
        #expect(m.momentum.count + m.rms.count + m.vDiag.count == 4 * 60_000)
        #expect(m.vRow.count + m.vCol.count == 3 * (300 + 200))
        let v = LOTensorState(shape: [500])
        #expect(v.momentum.count + v.rms.count + v.vDiag.count + v.vRow.count + v.vCol.count == 7 * 500)
        #expect(LOTensorState(shape: []).count == 1)
    }

    /// MuLO's rule (GradientGuard): NaN → 0, clamp to ±1e18. The reference's ±float-max would
    /// turn the whole tensor NaN; here parameters stay finite and other tensors are untouched.
    @Test(arguments: LearnedOptimizer.Implementation.allCases)
    func nonFiniteGradientsKeepParametersFinite(implementation: LearnedOptimizer.Implementation) {
        let lo = LearnedOptimizer(theta: .initial(key: RNGKey(seed: 5)), config: .mu, implementation: implementation)
        let shapes = [[40, 30], [30], [30, 20], []]
        var params = shapes.enumerated().map { i, s in
            var t = Tensor(zeros: s)
            RNGKey(seed: 6).split(UInt64(i)).fillNormal(&t.data, std: 0.1)
            return t
        }
        var grads = shapes.enumerated().map { i, s in
            var t = Tensor(zeros: s)
            RNGKey(seed: 7).split(UInt64(i)).fillNormal(&t.data, std: 0.01)
            return t
        }
        var clean = (params, lo.initialState(for: params))
        var dirty = clean
        lo.update(&clean.0, grads: grads, scales: [1, 1, 0.1, 1], state: &clean.1)
        grads[0].data[0] = .infinity
        grads[0].data[5] = -.infinity
        grads[0].data[7] = .nan
        grads[1].data[2] = .nan
        grads[1].data[3] = 1e30
        grads[3].data[0] = -.infinity
        lo.update(&dirty.0, grads: grads, scales: [1, 1, 0.1, 1], state: &dirty.1)
        for t in dirty.0 { #expect(!t.data.contains { !$0.isFinite }) }
        let stateFinite = dirty.1.tensors.allSatisfy { s in (s.momentum + s.rms + s.vRow + s.vCol + s.vDiag).allSatisfy(\.isFinite) }
        #expect(stateFinite)
        #expect(dirty.0[2] == clean.0[2])  // tensors without bad entries are unaffected
        params = dirty.0
        // Later steps with clean gradients stay finite too.
        for k in grads.indices { grads[k].data = grads[k].data.map { $0.isFinite && abs($0) < 1 ? $0 : 0 } }
        lo.update(&params, grads: grads, scales: [1, 1, 0.1, 1], state: &dirty.1)
        for t in params { #expect(!t.data.contains { !$0.isFinite }) }
    }

    /// The fast path's sums use fixed row blocks, so thread count never changes a bit.
    @Test func fastPathIsThreadIndependent() {
        let lo = LearnedOptimizer(theta: .initial(key: RNGKey(seed: 8)), config: .mu)
        func run(_ workers: Int) -> [Tensor] { Support.withWorkers(workers) {
            var params = [Tensor(shape: [300, 257], repeating: 0.1), Tensor(shape: [70_000], repeating: -0.2)]
            var state = lo.initialState(for: params)
            for step in 0..<3 {
                let grads = params.enumerated().map { i, p in
                    var g = Tensor(zeros: p.shape)
                    RNGKey(seed: 9).split(UInt64(step * 10 + i)).fillNormal(&g.data)
                    return g
                }
                lo.update(&params, grads: grads, scales: [0.01, 1], state: &state)
            }
            return params
        } }
        #expect(run(1) == run(2))
        #expect(run(2) == run(3))
    }

    /// The LO conforms to the optimizer protocol: it trains an MLP task end to end, and copies
    /// of a state evolve independently (scratch buffers are never shared).
    @Test func trainsATaskAndCopiesOfStateAreIndependent() throws {
        let task = try MLPTaskName(parsing: "mumlp-w32-d2_synthetic-8x8x1").makeMLPTask()
        let lo = LearnedOptimizer(theta: .initial(key: RNGKey(seed: 10)), config: .mu)
        let config = TrainConfig(task: task.name, optimizer: "lo", steps: 20, batchSize: 32, seed: 0, testInterval: 0, testExamples: 100)
        let a = try train(task: task, optimizer: lo, config: config)
        let b = try train(task: task, optimizer: lo, config: config)
        #expect(a.params == b.params && a.trainLoss.allSatisfy(\.isFinite))
        var p1 = task.initialize(key: RNGKey(seed: 1))
        var p2 = p1
        var s1 = lo.initialState(for: p1)
        let g = task.zeroGradients().map { Tensor(shape: $0.shape, repeating: 0.01) }
        lo.update(&p1, grads: g, scales: task.updateScales, state: &s1)
        var s2 = s1
        var p3 = p1
        lo.update(&p1, grads: g, scales: task.updateScales, state: &s1)
        lo.update(&p3, grads: g, scales: task.updateScales, state: &s2)
        #expect(p1 == p3 && s1 == s2)
        lo.update(&p2, grads: g, scales: task.updateScales, state: &s1)
        #expect(s1.step == 3 && s2.step == 2)
    }
}
