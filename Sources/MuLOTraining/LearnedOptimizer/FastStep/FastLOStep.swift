import CKernels
import Foundation

/// The fast learned-optimizer step (METHOD §8, VELO §3.4) of either architecture: identical
/// mathematics to its reference path, with normalisation (and small_fc_lopt's time features)
/// folded into layer 0, row/column features precomputed once per row or column, and the
/// per-element work in three sweeps (C kernels, `LOKernelLayout`) over fixed row blocks: sweeps
/// 1–2 in `FastLOSweeps`, the MLP sweep here.
struct FastLOStep {
    let sweeps: FastLOSweeps
    let stepMult: Float, expMult: Float
    /// Layer 0's rows by feature ([feature][hidden]) and its bias.
    let w0: [Float], bias0: [Float]
    var layout: LOKernelLayout { sweeps.layout }
    /// Working memory; also holds layers 1–2 for the kernels.
    var x: LOScratch { sweeps.x }

    /// Columns padded to whole blocks of the kernels' tiles (16 columns; small_fc_lopt's kernel reads two at a time on AVX-512).
    static func paddedTiles(_ n: Int) -> Int { (n + 31) / 32 * 32 }

    init(layout: LOKernelLayout, w0: [Float], bias0: [Float], w1: [Float], b1: [Float], w2: [Float], b2: [Float],
         decays: LODecays, stepMult: Float, expMult: Float, scratch: LOScratch) {
        (self.w0, self.bias0, self.stepMult, self.expMult) = (w0, bias0, stepMult, expMult)
        sweeps = FastLOSweeps(layout: layout, decays: decays, x: scratch)
        let h = layout.hidden, x = scratch
        x.featureSums.reserve(layout.featureCount)
        x.norms.reserve(layout.featureCount)
        x.w0p.reserve(max(layout.matrixRows.count, layout.vectorRows.count) * h)
        x.aRows.reserve(6 * h)
        x.bRows.reserve(6 * h)
        for (buffer, t) in [(x.w1, w1), (x.b1, b1), (x.w2, w2), (x.b2, b2)] {
            buffer.reserve(t.count)
            for (i, v) in t.enumerated() { buffer[i] = v }
        }
    }

    /// p ← p − Δ·scale, and with `byParamRMS` (VeLO's RMS(p) factor) also ·√(mean p² + 1e-9).
    func update(_ p: inout [Float], grad g: [Float], state s: inout LOTensorState, scale: Float, byParamRMS: Bool = false) {
        let swept = sweeps.sweep(&p, grad: g, state: &s)
        apply(&p, grad: g, state: &s, swept: swept, scale: scale, byParamRMS: byParamRMS)
    }

    /// The MLP sweep after `FastLOSweeps.sweep` of the same tensor (the accumulators as that left them).
    func apply(_ p: inout [Float], grad g: [Float], state s: inout LOTensorState, swept: FastLOSweeps.Swept, scale: Float,
               byParamRMS: Bool = false) {
        for (f, sum) in swept.featureSums.enumerated() { x.featureSums[f] = sum }
        let kernelMLP = mlp(scale: computeNorms(count: p.count, scale: scale, byParamRMS: byParamRMS))
        if s.isFactored {
            applyMatrix(&p, g, &s, kernelMLP)
        } else {
            applyVector(&p, g, &s, kernelMLP)
        }
    }

    /// Normalisers n_f = rsqrt(1e-5 + mean(x_f²)) from the sums of squares in `x.featureSums`;
    /// returns the tensor's update scale (VELO §3.2: ε inside the root).
    func computeNorms(count: Int, scale: Float, byParamRMS: Bool) -> Float {
        for f in 0..<layout.featureCount { x.norms[f] = Float(1 / (1e-5 + x.featureSums[f] / Double(count)).squareRoot()) }
        return byParamRMS ? (Float(x.featureSums[layout.paramFeature] / Double(count)) + 1e-9).squareRoot() * scale : scale
    }

    /// out[r·H + j] = Σ_{f in rows[r]} n_f·w0[f][j]: layer-0 rows scaled by their normalisers,
    /// summed where one per-element feature stands for several identical ones.
    func scaleRows(_ rows: [[Int]], into out: ScratchBuffer<Float>) {
        let (h, norms, dst) = (layout.hidden, x.norms.pointer, out.pointer)
        w0.withUnsafeBufferPointer { w0 in
            for (r, features) in rows.enumerated() {
                for j in 0..<h {
                    var acc: Float = 0
                    for f in features { acc += norms[f] * w0[f * h + j] }
                    dst[r * h + j] = acc
                }
            }
        }
    }

    /// The broadcast features by row: R_k (or C_k) and its rsqrt, for k = 0, 1, 2.
    private func broadcastRows(_ value: [Int], _ rsqrt: [Int]) -> [[Int]] { (0..<3).flatMap { [[value[$0]], [rsqrt[$0]]] } }

    /// The kernels' MLP: layer-0 rows in `x.w0p`, layers 1–2, this tensor's update scale.
    func mlp(scale: Float) -> mulo_lo_mlp {
        mulo_lo_mlp(w0p: x.w0p.pointer, w1: x.w1.pointer, b1: x.b1.pointer, w2: x.w2.pointer, b2: x.b2.pointer,
                    exp_mult: expMult, step_mult: stepMult, scale: scale)
    }

    // MARK: Matrices and higher-rank tensors

    private func applyMatrix(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ kernelMLP: mulo_lo_mlp) {
        let plan = FastLOSweeps.MatrixPlan(s)
        let (n0, n1, ld, n, h) = (plan.n0, plan.n1, plan.ld, p.count, layout.hidden)
        let (layout, x) = (layout, x)
        sweeps.reserveSliceBuffers(plan)
        x.termA.reserve(n0 * h)
        x.termB.reserve(Self.paddedTiles(n1) * h)
        let (rRows, cRows) = (broadcastRows(layout.rValue, layout.rRsqrt), broadcastRows(layout.cValue, layout.cRsqrt))
        scaleRows(layout.matrixRows, into: x.w0p)
        scaleRows(plan.rowIndexed ? rRows : cRows, into: x.aRows)
        scaleRows(plan.rowIndexed ? cRows : rRows, into: x.bRows)
        FastLOSweeps.withElements(&p, g, &s.momentum, &s.rms) { e in
            for (slice, base) in plan.view.bases.enumerated() {
                // The slice's R, C and factors as sweeps 1–2 left them (other tensors' sweeps may have run since).
                sweeps.exchange(plan, &s.vRow, &s.vCol, slice: slice, gather: true)
                for k in 0..<3 { sweeps.factors(k, n0: n0, n1: n1, rowIndexed: plan.rowIndexed) }
                foldIntoLayer0(n0: n0, n1: n1, rowIndexed: plan.rowIndexed)
                // Sweep 3: features, MLP, update.
                Parallel.forEachBlock(plan.blocks) { b in
                    let (a0, a1) = plan.rows(b)
                    var m = kernelMLP
                    layout.applyMatrix(e.g + base, e.p + base, e.m + base, e.v + base, n0, n1, ld, n, a0, a1,
                                       x.fa.pointer, x.fb.pointer, x.termA.pointer, x.termB.pointer, &m)
                }
            }
        }
    }

    /// Folds one slice's broadcast features into layer 0: the per-row (termA) and per-column
    /// (termB, tile-major as `mulo_lo_apply_matrix` reads it) terms, from x.rSlice/x.cSlice.
    private func foldIntoLayer0(n0: Int, n1: Int, rowIndexed: Bool) {
        let (nD1, nD0) = rowIndexed ? (n0, n1) : (n1, n0)
        let h = layout.hidden
        // Plain pointers: through the buffers' class references every store could alias their
        // address fields, so each access reloaded them and no loop was vectorised (4% of a
        // meta-training step). The arithmetic, in its order, is unchanged.
        let (termA, termB, aRows, bRows) = (x.termA.pointer, x.termB.pointer, x.aRows.pointer, x.bRows.pointer)
        let (rows, cols) = rowIndexed ? (x.rSlice.pointer, x.cSlice.pointer) : (x.cSlice.pointer, x.rSlice.pointer)
        let (rowCount, colCount) = rowIndexed ? (nD1, nD0) : (nD0, nD1)
        bias0.withUnsafeBufferPointer { bias in
            for a in 0..<n0 {
                let out = termA + a * h
                for j in 0..<h { out[j] = bias[j] }
                for k in 0..<3 {
                    let v = rows[k * rowCount + a]
                    let rv = 1 / (v + 1e-8).squareRoot()
                    let (vRow, rvRow) = (aRows + 2 * k * h, aRows + (2 * k + 1) * h)
                    for j in 0..<h { out[j] += v * vRow[j] + rv * rvRow[j] }
                }
            }
        }
        // termB is tile-major (16 columns × h per tile): k outermost keeps each entry's sum in
        // k order, and the innermost loop runs over a tile's 16 adjacent columns.
        termB.update(repeating: 0, count: Self.paddedTiles(n1) * h)
        x.colFeatures.reserve(2 * n1)
        let (v, rv) = (x.colFeatures.pointer, x.colFeatures.pointer + n1)
        for k in 0..<3 {
            for b in 0..<n1 {
                v[b] = cols[k * colCount + b]
                rv[b] = 1 / (v[b] + 1e-8).squareRoot()
            }
            let (vRow, rvRow) = (bRows + 2 * k * h, bRows + (2 * k + 1) * h)
            for tile in stride(from: 0, to: n1, by: 16) {
                let out = termB + tile * h
                for j in 0..<h {
                    for lane in 0..<min(16, n1 - tile) { out[j * 16 + lane] += v[tile + lane] * vRow[j] + rv[tile + lane] * rvRow[j] }
                }
            }
        }
    }
}
