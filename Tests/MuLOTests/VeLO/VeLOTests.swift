import CKernels
import Foundation
import Testing
@testable import MuLO
@testable import MuLOTraining

/// VeLO and μVeLO against the JAX golden file on both paths, the fast path against the
/// reference on many shapes, θ files, and meta-training with exact resume.
@Suite("VeLO", .serialized)
struct VeLOTests {
    static var goldenPath: String {
        URL(fileURLWithPath: Support.goldenPath).deletingLastPathComponent().appendingPathComponent("velo.h5").path
    }

    @Test(arguments: LearnedOptimizer.Implementation.allCases)
    func goldenCases(implementation: LearnedOptimizer.Implementation) throws {
        let file = try HDF5File.open(Self.goldenPath)
        let cases = try ReferenceChecker.veloCaseNames(file)
        #expect(Set(cases) == ["velo", "velo_l32_p16", "muvelo", "muvelo_late", "velo_nan"])
        for name in cases {
            for c in try ReferenceChecker.checkVeLOCase(file, name: name, implementation: implementation) where !c.passed {
                Issue.record("\(c.line)")
            }
        }
    }

    /// The golden `velo_nan` inputs (a NaN gradient entry at step 1, ±Inf at step 3) and a NaN and an
    /// infinite loss: under MuLO's default rule parameters and the LSTM state stay finite.
    @Test(arguments: LearnedOptimizer.Implementation.allCases)
    func nonFiniteInputsKeepEverythingFinite(implementation: LearnedOptimizer.Implementation) throws {
        let file = try HDF5File.open(Self.goldenPath)
        let g = "cases/velo_nan"
        let config = VeLOConfig(parametrization: .standard, lstmHidden: 16, paramInits: 8, interpMult: 100, paramScaleMult: true)
        #expect(!config.referenceNonFinite)
        let theta = MetaParameters(try zip(config.thetaNames, config.thetaShapes).map { try file.readTensor("\(g)/theta/\($0)", expectShape: $1) })
        let optimizer = VeLOOptimizer(config: config, theta: theta, implementation: implementation)
        let names = try file.attributeStrings("param_names", on: g)
        var params = try names.map { try file.readTensor("\(g)/init/\($0)") }
        var state = optimizer.initialState(for: params)
        let losses: [Float] = [2.3, .nan, .infinity, 2.0, 1.9]
        for step in 0..<5 {
            let t = min(step, 2)
            let grads = try names.map { try file.readTensor("\(g)/steps/\(t)/grad/\($0)") }
            optimizer.update(&params, grads: grads, scales: names.map { _ in 1 }, state: &state,
                             context: StepContext(step: step, totalSteps: 37, loss: losses[step]))
            #expect(params.allSatisfy { $0.data.allSatisfy(\.isFinite) }, "step \(step): a parameter is not finite")
            #expect(state.lstmHidden.joined().allSatisfy(\.isFinite) && state.lstmCell.joined().allSatisfy(\.isFinite))
        }
        #expect(try file.readTensor("\(g)/steps/1/grad/linear_0.w").data.contains { $0.isNaN })
    }

    /// The descent init in closed form: with the random bank off (gain 0), the controls and lr heads'
    /// weights zeroed (Q = its bias, 1 or 0.1; α = its bias) and a zero state, the first step is
    /// Δ = α·step_mult·s_W·[RMS(p)]·x/√(1e-5 + mean x²) with x = m·rsqrt(v + 1e-6), m = 0.1·g, v = 0.001·g².
    @Test(arguments: Parametrization.allCases, LearnedOptimizer.Implementation.allCases)
    func descentBankStepsAlongTheNormalisedAdamDirection(parametrization: Parametrization, implementation: LearnedOptimizer.Implementation) {
        var config = parametrization == .mup ? VeLOConfig.muVeLO
            : VeLOConfig(parametrization: .standard, lstmHidden: 16, paramInits: 8, interpMult: 100, paramScaleMult: true)
        (config.descentBank, config.bankInitGain, config.initControls, config.initLRMult) = (true, 0, parametrization == .mup ? 1 : 0.1, 7)
        var theta = config.initialTheta(key: RNGKey(seed: 3))
        for k in [VeLOConfig.Leaf.controlsw, VeLOConfig.Leaf.stepw] { theta.tensors[k].data = theta.tensors[k].data.map { _ in 0 } }
        let optimizer = VeLOOptimizer(config: config, theta: theta, implementation: implementation)
        let shapes: [[Int]] = [[40, 24], [24], [24, 10]]
        let start = shapes.enumerated().map { k, s in
            var t = Tensor(zeros: s)
            RNGKey(seed: 20 + UInt64(k)).fillNormal(&t.data, std: 0.2)
            return t
        }
        let grads = shapes.enumerated().map { k, s in
            var t = Tensor(zeros: s)
            RNGKey(seed: 30 + UInt64(k)).fillNormal(&t.data, std: 0.01)
            return t
        }
        let scales: [Float] = [1, 1, 1 / 24]
        var params = start
        var state = optimizer.initialState(for: params)
        optimizer.update(&params, grads: grads, scales: scales, state: &state, context: StepContext(step: 0, totalSteps: 100, loss: 2.3))
        for r in shapes.indices {
            let x = grads[r].data.map { Double($0) * 0.1 / (0.001 * Double($0) * Double($0) + 1e-6).squareRoot() }
            let norm = 1 / (1e-5 + x.reduce(0) { $0 + $1 * $1 } / Double(x.count)).squareRoot()
            let rms = config.paramScaleMult ? (start[r].data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count) + 1e-9).squareRoot() : 1
            let s = parametrization == .mup ? Double(scales[r]) : 1
            for e in x.indices {
                let expected = Double(start[r].data[e]) - 7 * 0.001 * s * rms * x[e] * norm
                #expect(abs(Double(params[r].data[e]) - expected) <= 1e-6 * max(1, abs(expected)), "tensor \(r) element \(e)")
            }
        }
    }

    /// |θ| = 8H² + 100H + H·P + 160P + 1 (VELO §4.1): 5,057 for μVeLO, 2,320,385 for VeLO-4000.
    @Test func thetaSizes() {
        for (c, size) in [(VeLOConfig.muVeLO, 5057), (VeLOConfig.velo4000, 2_320_385)] {
            #expect(c.thetaShapes.reduce(0) { $0 + $1.reduce(1, *) } == size && c.thetaNames.count == 33)
            #expect(c.initialTheta(key: RNGKey(seed: 0)).count == size)
        }
    }

    /// The cost model's figures (VELO §4.2's table; METHOD §8.2's 1.6k MAC per element for
    /// small_fc_lopt at hidden 32): μVeLO's per-tensor part 4,424 MAC, VeLO-4000's 2,300,160.
    @Test func flopCountsMatchTheCostModel() {
        #expect(VeLO(.muVeLO).flopsPerTensor == 2 * 4424 && VeLO(.velo4000).flopsPerTensor == 2 * 2_300_160)
        #expect(VeLO(.muVeLO).flopsPerParameter == 300 && SmallFCLOpt(.mu).flopsPerParameter == 2 * 1600)
        #expect(SmallFCLOpt(.mu).flopsPerTensor == 0)
    }

    /// The fast path against the reference on several tensors at once (the LSTM couples them),
    /// with θ's bank scaled up so that steps are visible in float32.
    @Test(arguments: Parametrization.allCases)
    func fastMatchesReference(parametrization: Parametrization) {
        var config = VeLOConfig.muVeLO
        config.parametrization = parametrization
        (config.interpMult, config.paramScaleMult) = parametrization == .mup ? (1, false) : (100, true)
        var theta = config.initialTheta(key: RNGKey(seed: 4))
        for k in 0..<19 { theta.tensors[k].data = theta.tensors[k].data.map { $0 * (parametrization == .mup ? 50 : 0.5) } }
        let shapes: [[Int]] = [[], [7], [33, 5], [5, 33], [16, 16], [1, 9], [3, 5, 4], [4, 4, 3, 8], [64, 2, 16]]
        let fast = VeLOOptimizer(config: config, theta: theta, implementation: .fast)
        let reference = VeLOOptimizer(config: config, theta: theta, implementation: .reference)
        var pf = shapes.enumerated().map { k, s in
            var t = Tensor(zeros: s)
            RNGKey(seed: 10 + UInt64(k)).fillNormal(&t.data, std: 0.1)
            return t
        }
        var pr = pf
        var (sf, sr) = (fast.initialState(for: pf), reference.initialState(for: pr))
        let scales = shapes.map { $0.count == 2 ? 1 / Float($0[0]) : 1 }
        for step in 0..<5 {
            let grads = shapes.enumerated().map { k, s in
                var t = Tensor(zeros: s)
                RNGKey(seed: 100 + UInt64(step * 20 + k)).fillNormal(&t.data, std: 0.01)
                return t
            }
            let before = pr
            let context = StepContext(step: step, totalSteps: 40, loss: 2 - 0.1 * Float(step))
            fast.update(&pf, grads: grads, scales: scales, state: &sf, context: context)
            reference.update(&pr, grads: grads, scales: scales, state: &sr, context: context)
            for k in shapes.indices {
                let stepRef = zip(pr[k].data, before[k].data).map { $0 - $1 }
                let err = zip(pf[k].data, pr[k].data).map { abs($0 - $1) }.max()!
                let size = stepRef.map(abs).max()!
                // Reading the step back through float32 parameters adds up to an ulp of p (SP steps scale with RMS(p)).
                let ulp = pr[k].data.map { abs($0).ulp }.max()!
                #expect(size > 0 && err <= 1e-5 * size + ulp, "\(shapes[k]) step \(step): error \(err), step \(size)")
            }
            (pf, sf) = (pr, sr)
        }
    }

    @Test func fastMatchesReferenceOnAMillionElements() {
        var config = VeLOConfig.muVeLO
        (config.parametrization, config.interpMult, config.paramScaleMult) = (.standard, 100, true)
        let theta = config.initialTheta(key: RNGKey(seed: 5))
        var p = Tensor(zeros: [1000, 1001]), g = p
        RNGKey(seed: 1).fillNormal(&p.data, std: 0.1)
        RNGKey(seed: 2).fillNormal(&g.data, std: 0.01)
        var results: [[Float]] = []
        for implementation in LearnedOptimizer.Implementation.allCases {
            let lo = VeLOOptimizer(config: config, theta: theta, implementation: implementation)
            var params = [p], state = lo.initialState(for: params)
            lo.update(&params, grads: [g], scales: [1], state: &state, context: StepContext(step: 0, totalSteps: 100, loss: 2))
            results.append(params[0].data)
        }
        let size = zip(results[1], p.data).map { abs($0 - $1) }.max()!
        let err = zip(results[0], results[1]).map { abs($0 - $1) }.max()!
        #expect(size > 0 && err <= 1e-5 * size + Float(0.5).ulp, "error \(err), step \(size)")
    }

    /// The LSTM's tensor statistics (§1.4) in one fast pass against the literal two-pass reference,
    /// over 16 blocks, also where the spread is tiny against the mean: the unshifted one-pass
    /// E[x²] − E[x]² would lose all of it there (offset 1000, spread 1e-3: ~1e-4 relative error).
    @Test(arguments: [(0.0, 1.0), (1000.0, 1e-3), (-3.0, 1e-6)])
    func tensorMomentsMatchTheTwoPassReference(offset: Double, spread: Double) {
        let n = 70_001
        var t = LOTensorState(shape: [n])
        var p = [Float](repeating: 0, count: n)
        RNGKey(seed: 7).fillNormal(&p, std: 0.5)
        RNGKey(seed: 8).fillNormal(&t.momentum, std: Float(spread))
        RNGKey(seed: 9).fillNormal(&t.rms, std: Float(spread))
        for e in t.momentum.indices { t.momentum[e] += Float(offset) * Float(1 + e / n) }
        for e in t.rms.indices { t.rms[e] = abs(t.rms[e] + Float(offset)) }
        let fast = VeLOOptimizer.fastMoments(p, state: t), reference = VeLOOptimizer.referenceMoments(p, state: t)
        func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * abs($1) } }
        #expect(close(fast.mMeans + [fast.vMean], reference.mMeans + [reference.vMean]))
        #expect(close(fast.mSpread, reference.mSpread), "\(fast.mSpread) vs \(reference.mSpread)")
        #expect(close(fast.vSpread, reference.vSpread), "\(fast.vSpread) vs \(reference.vSpread)")
    }

    /// A matrix's sweep 1 takes the same statistics from the accumulators before it updates them
    /// (VELO §3.4), over 16 row blocks and row tails. Its per-64-element float partial sums (as
    /// for its other sums) allow 1e-5 relative where the float64 pass above gets 1e-9.
    @Test(arguments: [(0.0, 1.0), (1000.0, 1e-3), (-3.0, 1e-6)])
    func sweepOneTakesTheLSTMStatistics(offset: Double, spread: Double) {
        var t = LOTensorState(shape: [300, 257])
        var p = [Float](repeating: 0, count: t.count), g = p
        RNGKey(seed: 7).fillNormal(&p, std: 0.5)
        RNGKey(seed: 6).fillNormal(&g, std: 0.01)
        RNGKey(seed: 8).fillNormal(&t.momentum, std: Float(spread))
        RNGKey(seed: 9).fillNormal(&t.rms, std: Float(spread))
        for e in t.momentum.indices { t.momentum[e] += Float(offset) * Float(1 + e / t.count) }
        for e in t.rms.indices { t.rms[e] = abs(t.rms[e] + Float(offset)) }
        let reference = VeLOOptimizer.referenceMoments(p, state: t)
        let sweeps = FastLOSweeps(layout: .velo, decays: VeLOOptimizer.decays, x: LOScratch())
        var after = t
        let swept = sweeps.sweep(&p, grad: g, state: &after, moments: true)
        #expect(after.momentum != t.momentum)  // the sweep updated the accumulators it summed first
        let fused = VeLOOptimizer.TensorMoments(count: t.count, swept.moments!)
        func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * abs($1) } }
        #expect(close(fused.mMeans + [fused.vMean], reference.mMeans + [reference.vMean]))
        #expect(close(fused.mSpread, reference.mSpread), "\(fused.mSpread) vs \(reference.mSpread)")
        #expect(close(fused.vSpread, reference.vSpread), "\(fused.vSpread) vs \(reference.vSpread)")
    }

    /// The per-tensor layers (C, all tensors at once, blocks of outputs on every worker) give the
    /// bits of the plain float64 loop: products added in input order, then the bias. The kernel's
    /// float64 sums are compared too: rounded to float, another order's would mostly agree.
    /// Shapes off its blocks: outputs not a multiple of 8, rows not of 4, inputs not of its
    /// 64-input panels; VeLO-4000's LSTM shape for the packed, parallel path.
    @Test(arguments: [(1, 30, 16), (3, 30, 5), (7, 1024, 2048), (9, 131, 203), (4, 64, 8)])
    func perTensorLayersAreThePlainLoop(rows: Int, inputs: Int, outputs: Int) {
        var w = Tensor(zeros: [inputs, outputs]), b = Tensor(zeros: [outputs])
        RNGKey(seed: 4).fillNormal(&w.data)
        RNGKey(seed: 5).fillNormal(&b.data)
        let xs = (0..<rows).map { r in
            var x = [Float](repeating: 0, count: inputs)
            RNGKey(seed: 6).split(UInt64(r)).fillNormal(&x)
            return x
        }
        let sums = xs.map { x in
            (0..<outputs).map { o in
                var acc = 0.0
                for i in 0..<inputs { acc += Double(x[i]) * Double(w.data[i * outputs + o]) }
                return acc
            }
        }
        let x64 = xs.flatMap { $0.map(Double.init) }
        var kernel = [Double](repeating: .nan, count: rows * outputs)
        mulo_velo_affine(x64, rows, inputs, w.data, outputs, 0, outputs, &kernel)
        #expect(kernel == sums.flatMap { $0 })
        let plain = sums.map { zip($0, b.data).map { Float($0 + Double($1)) } }
        for workers in [1, 2, 3] {
            #expect(Support.withWorkers(workers) { VeLOOptimizer.affine(xs, w, b) } == plain, "\(workers) workers")
        }
        #expect(VeLOOptimizer.affine(xs[0], w, b) == plain[0])
    }

    /// θ files carry the architecture and its configuration; evaluation reads them back as VeLO.
    @Test func thetaFilesRoundTrip() throws {
        let dir = try Support.tempDir()
        let path = dir.appendingPathComponent("muvelo.h5").path
        let architecture = VeLO(.muVeLO)
        let theta = architecture.initialTheta(key: RNGKey(seed: 2))
        try LOCheckpoint.save(theta, of: architecture, to: path)
        let loaded = try LOCheckpoint.loadAny(path)
        #expect(loaded.architectureName == "velo" && loaded.theta == theta && (loaded.architecture as? VeLO) == architecture)
        #expect(try EvalOptimizer.learned(path: path).label.hasPrefix("μVeLO"))
        #expect(throws: LOError.self) { try LOCheckpoint.load(path) }  // small_fc_lopt only
    }

    /// The PyLO layout (VELO §8): exactly the names and shapes PyLO's VeLO_RNN and VeLO_MLP hold, and
    /// export → import gives θ back bit for bit.
    @Test(arguments: [VeLOConfig.muVeLO, VeLOConfig(parametrization: .standard, lstmHidden: 32, paramInits: 16, interpMult: 100, paramScaleMult: true)])
    func pyloExportRoundTrips(config: VeLOConfig) throws {
        let dir = try Support.tempDir()
        let velo = VeLO(config)
        var theta = velo.initialTheta(key: RNGKey(seed: 6))
        for k in theta.tensors.indices { RNGKey(seed: 60 + UInt64(k)).fillNormal(&theta.tensors[k].data, std: 0.1) }
        _ = try VeLOExport.write(theta, of: velo, format: .pylo, to: dir.path, source: "test")
        let (H, P) = (config.lstmHidden, config.paramInits)
        let rnn = try SafeTensors.decode([UInt8](Data(contentsOf: dir.appendingPathComponent("VeLO_RNN/model.safetensors")))).tensors
        #expect(rnn.mapValues(\.shape) == ["mix_layer1.weight": [H, 30], "mix_layer1.bias": [H], "mix_layer2.weight": [H, 30],
                                          "mix_layer2.bias": [H], "final_mix_layer.weight": [H, 30], "final_mix_layer.bias": [H],
                                          "lstm.linear.weight": [4 * H, 2 * H], "lstm.linear.bias": [4 * H],
                                          "rnn_to_controls.weight": [P, H], "rnn_to_controls.bias": [P],
                                          "step_size.weight": [1, H], "step_size.bias": [1],
                                          "lstm_init_state.0": [1, H], "lstm_init_state.1": [1, H]])
        let mlp = try SafeTensors.decode([UInt8](Data(contentsOf: dir.appendingPathComponent("VeLO_MLP/model.safetensors")))).tensors
        #expect(mlp.mapValues(\.shape) == ["input_weights_": [P, 4, 30], "input_bias_": [P, 4], "hidden_weights_.0": [P, 4, 4],
                                          "hidden_bias_.0": [P, 4], "output_weights_": [P, 3, 4], "output_bias_": [P, 3],
                                          "input_weights": [4, 30], "input_bias": [4], "hidden_weights.0": [4, 4], "hidden_bias.0": [4],
                                          "output_weights": [3, 4], "output_bias": [3]])
        // PyLO's input_weights_[k][h][i] is θ's stacked first layer [k][i][h]; row 11 is w0__7's first row.
        let w07 = theta.tensors[VeLOConfig.Leaf.w0(7)]
        #expect(mlp["input_weights_"]!.data[2 * 30 + 11] == w07.data[2])
        let (back, loaded) = try VeLOExport.importPyLO(dir.path)
        #expect(loaded == velo && back == theta)
    }

    static func config() -> MetaConfig {
        var c = MetaTrainingTests.tiny()
        c.name = "velo-tiny"
        c.learnedOptimizer.architecture = VeLO.name
        c.learnedOptimizer.stepMult = 0.001
        return c
    }

    @Test func metaTrainingResumesExactlyAndIgnoresThreads() throws {
        let cfg = Self.config()
        let architecture = VeLO(cfg.learnedOptimizer.veloConfig)
        try MetaTrainingTests.checkExactResume(try MetaTrainer(config: cfg, architecture: architecture, threads: 2),
                                               into: try MetaTrainer(config: cfg, architecture: architecture, threads: 1),
                                               before: 3, after: 3)
    }
}
