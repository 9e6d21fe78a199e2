import CKernels
import Foundation

/// VeLO's update (VELO §3.3), literally and element by element: the loss buffer, the clip at
/// ±1000, the per-tensor features of the old accumulators, mixing and the LSTM, then per tensor
/// the accumulators, the interpolated MLP on 30 normalised features, and the step. NaN gradients
/// are not cleaned (the reference has no `nan_to_num`).
public struct VeLOOptimizer: Optimizer {
    public let config: VeLOConfig
    public let theta: MetaParameters
    /// `.reference` follows the spec element by element; `.fast` (default) runs the per-parameter
    /// part in the C sweeps shared with small_fc_lopt (`FastLOStep`, `LOKernelLayout.velo`).
    public var implementation: LearnedOptimizer.Implementation

    public init(config: VeLOConfig, theta: MetaParameters, implementation: LearnedOptimizer.Implementation = .fast) {
        self.config = config
        self.theta = theta
        self.implementation = implementation
    }

    public var name: String { config.parametrization == .mup ? "muvelo" : "velo" }

    static let momentumDecays: [Float] = [0.9, 0.99, 0.999], rmsDecay: Float = 0.999, adafactorDecays: [Float] = [0.9, 0.99, 0.999]
    static let decays = LODecays(momentum: momentumDecays, rms: rmsDecay, adafactor: adafactorDecays)

    /// ĝ = clip(g, ±1000) (§1.2); MuLO's default cleans NaN → 0 first, as `GradientGuard` does.
    func clip(_ g: Float) -> Float {
        let x = config.referenceNonFinite ? g : GradientGuard.sanitize(g)
        return x.isNaN ? x : min(max(x, -1000), 1000)
    }
    static let fractionPoints: [Float] = [0.03, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.1]

    public func initialState(for params: [Tensor]) -> VeLOState {
        VeLOState(shapes: params.map(\.shape), hidden: theta.tensors[VeLOConfig.Leaf.initHidden].data,
                  cell: theta.tensors[VeLOConfig.Leaf.initCell].data)
    }

    public func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state s: inout VeLOState, context: StepContext) {
        precondition(params.count == s.tensors.count && grads.count == params.count && scales.count == params.count)
        guard let loss = context.loss else { preconditionFailure("VeLO needs the step's loss (StepContext.loss)") }
        if s.numSteps == 0 {
            // A fresh state learns its horizon from the first step's context (the episode length in meta-training).
            s.numSteps = Int32(clamping: max(context.totalSteps ?? 10_000, 1))
            s.lossBuffer = LossBuffer(numSteps: config.buggedLossFeatures ? 10 : Int(s.numSteps))
        }
        s.lossBuffer.update(loss: loss, propagateNonFinite: config.referenceNonFinite)
        let lossFeatures = s.lossBuffer.features
        let tau = Float(s.iteration) / Float(s.numSteps)
        // The C kernels clean gradients as MuLO does; the reference's NaN propagation and tensors
        // whose last axis is neither factored axis take the reference path.
        let fast = implementation == .fast && !config.referenceNonFinite
        if fast, !isKnownUniquelyReferenced(&s.scratch) { s.scratch = LOScratch() }
        let sweeps = FastLOSweeps(layout: .velo, decays: Self.decays, x: s.scratch)
        // VELO §3.4: sweeps 1–2 of every fast tensor before the LSTM, a matrix's sweep 1 also
        // summing the LSTM's statistics from the accumulators before their update; other tensors'
        // statistics in their own pass first.
        var swept = [FastLOSweeps.Swept?](repeating: nil, count: params.count)
        var x = [[Float]]()
        for r in params.indices {
            // No copy of the state is held across its sweep (it would copy the accumulators).
            let (shape, count, handled) = (s.tensors[r].shape, s.tensors[r].count, fast && FastLOSweeps.handles(s.tensors[r]))
            let moments: TensorMoments
            if handled && s.tensors[r].isFactored {
                swept[r] = sweeps.sweep(&params[r].data, grad: grads[r].data, state: &s.tensors[r], moments: true)
                moments = TensorMoments(count: count, swept[r]!.moments!)
            } else {
                moments = fast ? Self.fastMoments(params[r].data, state: s.tensors[r])
                               : Self.referenceMoments(params[r].data, state: s.tensors[r])
                if handled { swept[r] = sweeps.sweep(&params[r].data, grad: grads[r].data, state: &s.tensors[r]) }
            }
            x.append(tensorFeatures(shape: shape, moments: moments, tau: tau, loss: lossFeatures))
        }
        let (controls, alpha) = perTensorNetwork(x, state: &s)
        for r in params.indices {
            let mlp = interpolatedMLP(controls[r])
            let scale = config.parametrization == .mup ? scales[r] : 1
            if let done = swept[r] {
                FastLOStep(layout: .velo, w0: mlp.w0.data, bias0: mlp.b0.data, w1: mlp.w1.data, b1: mlp.b1.data, w2: mlp.w2.data,
                           b2: mlp.b2.data, decays: Self.decays, stepMult: config.stepMult, expMult: config.expMult, scratch: s.scratch)
                    .apply(&params[r].data, grad: grads[r].data, state: &s.tensors[r], swept: done, scale: alpha[r] * scale,
                           byParamRMS: config.paramScaleMult)
            } else {
                updateTensor(&params[r].data, g: grads[r].data.map(clip), state: &s.tensors[r], mlp: mlp, alpha: alpha[r], scale: scale)
            }
        }
        s.iteration &+= 1
        for k in 0..<3 { s.momentumT[k] &+= 1 }
        s.rmsT &+= 1
    }

    // MARK: Per-tensor network (§1.4, §2)

    /// The per-tensor part of a step alone — mixing, the LSTM, the heads and each tensor's
    /// interpolated MLP — from the tensors' 30 LSTM inputs: what `mulo bench lo` times per tensor
    /// (the statistics that make the inputs are per-element work, timed with the sweeps).
    public func perTensorPart(_ inputs: [[Float]], state: inout VeLOState) -> [Float] {
        let (controls, alpha) = perTensorNetwork(inputs, state: &state)
        return zip(controls, alpha).map { interpolatedMLP($0).w0.data[0] * $1 }
    }

    static func kappa(_ x: Double) -> Float { 0.5 * min(max(Float(log(1e-8 + abs(10 * x))), -5), 5) }

    /// The statistics of one tensor the LSTM inputs need (§1.4): ρ = rsqrt(max(1e-9, mean p²)),
    /// the means of m̂_k = ρ·M_k and v̂ = ρ·V, and the mean squares of m̂_k − μ_k and v̂ − μ_k.
    struct TensorMoments {
        var mMeans: [Double], vMean: Double, mSpread: [Double], vSpread: [Double]

        init(mMeans: [Double], vMean: Double, mSpread: [Double], vSpread: [Double]) {
            (self.mMeans, self.vMean, self.mSpread, self.vSpread) = (mMeans, vMean, mSpread, vSpread)
        }

        /// From one pass's sums over `count` elements (VELO §1.4 allows one pass in float64): Σp²,
        /// and Σ(x − c), Σ(x − c)² for M_0..2 and V. Shifted by a value of the tensor, nothing
        /// cancels when the spread is small against the mean; v̂'s spread about μ_k is
        /// var(v̂) + (mean v̂ − μ_k)².
        init(count: Int, _ sums: FastLOSweeps.ShiftedMoments) {
            let n = Double(count)
            let rho = Double(1 / max(1e-9, Float(sums.sumP2 / n)).squareRoot())
            let (means, variances) = (0..<4).map { i -> (Double, Double) in
                let d = sums.sums[2 * i] / n
                return (Double(sums.shift[i]) + d, max(0, sums.sums[2 * i + 1] / n - d * d))
            }.reduce(into: ([Double](), [Double]())) { $0.0.append($1.0); $0.1.append($1.1) }
            mMeans = (0..<3).map { rho * means[$0] }
            vMean = rho * means[3]
            mSpread = (0..<3).map { rho * rho * variances[$0] }
            vSpread = mMeans.map { [vMean] in rho * rho * variances[3] + (vMean - $0) * (vMean - $0) }
        }
    }

    /// Literally, term by term, summed in order in float64 (the reference path).
    static func referenceMoments(_ p: [Float], state t: LOTensorState) -> TensorMoments {
        let n = p.count
        func mean(_ term: (Int) -> Double) -> Double {
            var sum = 0.0
            for e in 0..<n { sum += term(e) }
            return sum / Double(n)
        }
        let rho = Double(1 / max(1e-9, Float(mean { Double(p[$0]) * Double(p[$0]) })).squareRoot())
        func mHat(_ k: Int, _ e: Int) -> Double { Double(t.momentum[k * n + e]) * rho }
        func vHat(_ e: Int) -> Double { Double(t.rms[e]) * rho }
        let mMeans = (0..<3).map { k in mean { mHat(k, $0) } }
        return TensorMoments(mMeans: mMeans, vMean: mean(vHat),
                             mSpread: (0..<3).map { k in mean { (mHat(k, $0) - mMeans[k]) * (mHat(k, $0) - mMeans[k]) } },
                             vSpread: (0..<3).map { k in mean { (vHat($0) - mMeans[k]) * (vHat($0) - mMeans[k]) } })
    }

    /// The same in one vectorised pass (C) over fixed blocks of elements, summed in block order
    /// (the bits depend on the tensor's size only, not on the thread count), shifted by the
    /// tensor's first values: for the tensors whose sweep 1 does not take them (rank ≤ 1, the
    /// reference rule's). Another summation than the reference's, so equal within rounding.
    static func fastMoments(_ p: [Float], state t: LOTensorState) -> TensorMoments {
        let count = p.count
        let blocks = count < 1 << 16 ? 1 : 16
        var sums = FastLOSweeps.ShiftedMoments(shiftedBy: t)
        let shift = sums.shift
        var partial = [Double](repeating: 0, count: blocks * 9)
        p.withUnsafeBufferPointer { pb in
            t.momentum.withUnsafeBufferPointer { mb in
                t.rms.withUnsafeBufferPointer { vb in
                    partial.withUnsafeMutableBufferPointer { out in
                        let a = UncheckedBox((pb.baseAddress!, mb.baseAddress!, vb.baseAddress!, out.baseAddress!))
                        Parallel.forEachBlock(blocks) { b in
                            mulo_velo_moments(a.value.0, a.value.1, a.value.2, count, count * b / blocks, count * (b + 1) / blocks,
                                              shift, a.value.3 + b * 9)
                        }
                    }
                }
            }
        }
        for b in 0..<blocks {
            sums.sumP2 += partial[b * 9]
            for i in 0..<8 { sums.sums[i] += partial[b * 9 + 1 + i] }
        }
        return TensorMoments(count: count, sums)
    }

    /// The 30 LSTM inputs of one tensor, from p and the accumulators before this step's update.
    func tensorFeatures(_ p: Tensor, state t: LOTensorState, tau: Float, loss: [Float]) -> [Float] {
        let moments = implementation == .fast ? Self.fastMoments(p.data, state: t) : Self.referenceMoments(p.data, state: t)
        return tensorFeatures(shape: t.shape, moments: moments, tau: tau, loss: loss)
    }

    /// The same from the tensor's statistics, however they were summed.
    func tensorFeatures(shape: [Int], moments: TensorMoments, tau: Float, loss: [Float]) -> [Float] {
        var f = Self.fractionPoints.map { tanh(10 * (tau - $0)) } + loss
        f.append(Self.kappa(moments.vMean))
        let rank = shape.filter { $0 > 1 }.count
        f += (0..<5).map { $0 == rank ? 1 : 0 }
        f += moments.mSpread.map(Self.kappa)
        // The reference centres v̂ on the momentum means (VELO §9 item 2).
        f += moments.vSpread.map(Self.kappa)
        return f
    }

    /// y = x·W + b for W [in, out] stored row-major, summed in float64 (closest to exact; the
    /// reference's float32 sums differ from it by their own rounding).
    static func affine(_ x: [Float], _ w: Tensor, _ b: Tensor) -> [Float] { affine([x], w, b)[0] }

    /// The same for every row of `xs` (every tensor's input of one layer) at once, in C
    /// (`mulo_velo_affine`: each output sums its products, exact in float64, in input order, then
    /// adds the bias, whatever the rows and threads): W is read once for all tensors, and a block
    /// of 8 outputs of 4 tensors stays in registers while W's strip streams past. Tensor by tensor
    /// in Swift, VeLO-4000's per-tensor part (its LSTM weight is 1024 × 2048) took 0.42–0.53 ms per
    /// tensor; this way 0.18–0.19 (bench lo, 2-core Zen 3). Blocks of outputs run in parallel.
    static func affine(_ xs: [[Float]], _ w: Tensor, _ b: Tensor) -> [[Float]] {
        let (nIn, nOut, rows) = (w.shape[0], w.shape[1], xs.count)
        precondition(xs.allSatisfy { $0.count == nIn }, "affine: inputs of \(nIn) values expected")
        guard rows > 0 else { return [] }
        let inputs = xs.flatMap { $0.map(Double.init) }
        var acc = [Double](repeating: 0, count: rows * nOut)
        let blocks = max(1, min(nOut / 64, Parallel.workers * 4))
        w.data.withUnsafeBufferPointer { wp in
            inputs.withUnsafeBufferPointer { xp in
                acc.withUnsafeMutableBufferPointer { ap in
                    let (w, x, a) = (UncheckedBox(wp.baseAddress!), UncheckedBox(xp.baseAddress), SendablePointer(ap.baseAddress!))
                    Parallel.forEachBlock(blocks) { block in
                        // Whole blocks of 8 outputs, the kernel's vector width.
                        let (o0, o1) = (nOut / 8 * block / blocks * 8, block + 1 == blocks ? nOut : nOut / 8 * (block + 1) / blocks * 8)
                        mulo_velo_affine(x.value, rows, nIn, w.value, nOut, o0, o1, a.base)
                    }
                }
            }
        }
        return (0..<rows).map { r in (0..<nOut).map { Float(acc[r * nOut + $0] + Double(b.data[$0])) } }
    }

    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Mixing (max over tensors), the LSTM step (gates i, g, f, o; forget bias +1), and the heads.
    func perTensorNetwork(_ x: [[Float]], state s: inout VeLOState) -> (controls: [[Float]], alpha: [Float]) {
        typealias L = VeLOConfig.Leaf
        let T = theta.tensors, H = config.lstmHidden
        let pooled = Self.affine(x, T[L.mix1w], T[L.mix1b]).map { $0.map { max($0, 0) } }
        // The max over tensors propagates NaN, as jnp.max does: a NaN tensor poisons every tensor's step.
        let v = (0..<H).map { j in pooled.reduce(-Float.infinity) { m, row in m.isNaN || row[j].isNaN ? .nan : max(m, row[j]) } }
        let mixed = Self.affine(x, T[L.mix2w], T[L.mix2b]).map { zip($0, v).map { $0 + $1 } }
        let gates = Self.affine(x.indices.map { mixed[$0] + s.lstmHidden[$0] }, T[L.lstmw], T[L.lstmb])
        for (r, z) in gates.enumerated() {
            let c = (0..<H).map { j in
                Self.sigmoid(z[2 * H + j] + 1) * s.lstmCell[r][j] + Self.sigmoid(z[j]) * tanh(z[H + j])
            }
            let h = (0..<H).map { j in Self.sigmoid(z[3 * H + j]) * tanh(c[j]) }
            (s.lstmHidden[r], s.lstmCell[r]) = (h, c)
        }
        return (Self.affine(s.lstmHidden, T[L.controlsw], T[L.controlsb]), Self.affine(s.lstmHidden, T[L.stepw], T[L.stepb]).map { $0[0] })
    }

    /// One tensor's MLP: every bank array as interp·mean_k(Q_k·B_k); W0 stacks the 14 groups in numeric order.
    struct MLP { var w0: Tensor, b0: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor }

    func interpolatedMLP(_ q: [Float]) -> MLP {
        typealias L = VeLOConfig.Leaf
        let P = config.paramInits, F = VeLOConfig.ffHidden
        func mix(_ bank: Tensor) -> Tensor {
            let per = bank.count / P
            var out = [Float](repeating: 0, count: per)
            for k in 0..<P { for i in 0..<per { out[i] += q[k] * bank.data[k * per + i] } }
            return Tensor(shape: Array(bank.shape.dropFirst()), data: out.map { config.interpMult * ($0 / Float(P)) })
        }
        let groups = (0..<14).map { mix(theta.tensors[L.w0($0)]) }
        let w0 = Tensor(shape: [VeLOConfig.features, F], data: groups.flatMap(\.data))
        return MLP(w0: w0, b0: mix(theta.tensors[L.b0]), w1: mix(theta.tensors[L.w1]), b1: mix(theta.tensors[L.b1]),
                   w2: mix(theta.tensors[L.w2]), b2: mix(theta.tensors[L.b2]))
    }

    // MARK: Per-parameter network (§1.2, §1.5, §3)

    func updateTensor(_ p: inout [Float], g: [Float], state t: inout LOTensorState, mlp: MLP, alpha: Float, scale: Float) {
        let n = p.count
        for k in 0..<3 {
            let b = Self.momentumDecays[k]
            for e in 0..<n { t.momentum[k * n + e] = b * t.momentum[k * n + e] + (1 - b) * g[e] }
        }
        for e in 0..<n { t.rms[e] = Self.rmsDecay * t.rms[e] + (1 - Self.rmsDecay) * g[e] * g[e] }
        let g2 = g.map { $0 * $0 + 1e-30 }
        // Per element and decay: R (or Vd), C (or Vd), facG, and what M is multiplied by for cols 27–29.
        var row = [[Float]](repeating: [Float](repeating: 0, count: n), count: 3)
        var (col, facG, facMom) = (row, row, row)
        if factoredAxes(t.shape) != nil {
            let f = AdafactorAccumulators.updateFactored(&t, g2: g2, decays: Self.adafactorDecays)
            for k in 0..<3 {
                for e in 0..<n {
                    let (i, j) = (f.cIndex(e), f.rIndex(e))
                    (row[k][e], col[k][e]) = (t.vRow[k * f.nR + j], t.vCol[k * f.nC + i])
                    facMom[k][e] = f.rowFac[k][j] * f.colFac[k][i]
                    facG[k][e] = g[e] * facMom[k][e]
                }
            }
        } else {
            AdafactorAccumulators.updateDiagonal(&t, g2: g2, decays: Self.adafactorDecays)
            for k in 0..<3 {
                for e in 0..<n {
                    let vd = t.vDiag[k * n + e]
                    (row[k][e], col[k][e]) = (vd, vd)
                    facG[k][e] = g[e] * AdafactorAccumulators.safeRsqrt(vd + 1e-9)
                    facMom[k][e] = 1 / vd.squareRoot()  // no ε (VELO §9 item 5)
                }
            }
        }
        var x = [[Float]](repeating: [Float](repeating: 0, count: n), count: VeLOConfig.features)
        for e in 0..<n {
            let rs = 1 / (t.rms[e] + 1e-6).squareRoot()
            let m = (0..<3).map { t.momentum[$0 * n + e] }
            var c: [Float] = [g[e], min(max(g[e], -0.1), 0.1), p[e]] + m + [t.rms[e]] + m.map { $0 * rs } + [rs]
            c += (0..<3).map { facG[$0][e] } + [g[e] * rs]
            c += (0..<3).map { row[$0][e] } + (0..<3).map { col[$0][e] }
            c += (0..<3).map { 1 / (row[$0][e] + 1e-8).squareRoot() } + (0..<3).map { 1 / (col[$0][e] + 1e-8).squareRoot() }
            c += (0..<3).map { m[$0] * facMom[$0][e] }
            for f in c.indices { x[f][e] = c[f] }
        }
        for f in x.indices {
            let meanSquare = x[f].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
            let norm = 1 / (1e-5 + Float(meanSquare)).squareRoot()
            for e in 0..<n { x[f][e] *= norm }
        }
        let paramScale = config.paramScaleMult
            ? (Float(p.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)) + 1e-9).squareRoot() : 1
        for e in 0..<n {
            let z1 = Self.affine((0..<VeLOConfig.features).map { x[$0][e] }, mlp.w0, mlp.b0).map { max($0, 0) }
            let z2 = Self.affine(z1, mlp.w1, mlp.b1).map { max($0, 0) }
            let o = Self.affine(z2, mlp.w2, mlp.b2)
            var step = o[0] * (paramScale * exp(config.expMult * o[1])) * config.stepMult
            step = alpha * step
            step = step * scale
            p[e] -= step
        }
    }
}
