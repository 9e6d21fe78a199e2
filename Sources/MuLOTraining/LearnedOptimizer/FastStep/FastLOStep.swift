import CKernels
import Foundation

/// The fast learned-optimizer step (METHOD §8, VELO §3.4) of either architecture: identical
/// mathematics to its reference path, with normalisation (and small_fc_lopt's time features)
/// folded into layer 0, row/column features precomputed once per row or column, and the
/// per-element work in three sweeps (C kernels, `LOKernelLayout`) over fixed row blocks.
struct FastLOStep {
    let layout: LOKernelLayout
    let decays: LODecays
    let stepMult: Float, expMult: Float
    /// Layer 0's rows by feature ([feature][hidden]) and its bias.
    let w0: [Float], bias0: [Float]
    /// Working memory; also holds layers 1–2 for the kernels.
    let x: LOScratch

    /// n rounded up to whole 16-lane tiles.
    static func paddedTiles(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    init(layout: LOKernelLayout, w0: [Float], bias0: [Float], w1: [Float], b1: [Float], w2: [Float], b2: [Float],
         decays: LODecays, stepMult: Float, expMult: Float, scratch: LOScratch) {
        (self.layout, self.w0, self.bias0, self.decays, self.stepMult, self.expMult) = (layout, w0, bias0, decays, stepMult, expMult)
        x = scratch
        let h = layout.hidden
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
        if s.isFactored {
            updateMatrix(&p, g, &s, scale, byParamRMS)
        } else {
            updateVector(&p, g, &s, scale, byParamRMS)
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
        let h = layout.hidden
        for (r, features) in rows.enumerated() {
            for j in 0..<h {
                var acc: Float = 0
                for f in features { acc += x.norms[f] * w0[f * h + j] }
                out[r * h + j] = acc
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

    /// The addresses of one tensor's gradient, parameters and per-element accumulators while
    /// the sweeps run; `withElements` pins them once for the whole update.
    struct Elements: @unchecked Sendable {
        let g: UnsafePointer<Float>, p: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    }

    func withElements(_ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float],
                              _ body: (Elements) -> Void) {
        g.withUnsafeBufferPointer { gb in
            p.withUnsafeMutableBufferPointer { pb in
                m.withUnsafeMutableBufferPointer { mb in
                    v.withUnsafeMutableBufferPointer { vb in
                        body(Elements(g: gb.baseAddress!, p: pb.baseAddress!, m: mb.baseAddress!, v: vb.baseAddress!))
                    }
                }
            }
        }
    }

    // MARK: Matrices and higher-rank tensors

    /// Whether the kernels take this tensor (a factored one needs D0 or D1 as its last axis).
    static func handles(_ s: LOTensorState) -> Bool { !s.isFactored || FactoredSlices(shape: s.shape) != nil }

    private func updateMatrix(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ scale: Float, _ byParamRMS: Bool) {
        let view = FactoredSlices(shape: s.shape)!
        let (n0, n1, ld, n) = (view.n0, view.n1, view.ld, p.count)
        let rowIndexed = view.rowIndexed
        let (nD1, nD0) = rowIndexed ? (n0, n1) : (n1, n0)
        let (nR, nC) = (s.vRow.count / 3, s.vCol.count / 3)
        let blocks = n0 * n1 < 2048 ? 1 : min(n0, 16)
        let (h, layout, s1) = (layout.hidden, layout, layout.sweep1Count)
        x.rowG2.reserve(n0)
        x.colPartial.reserve(blocks * n1)
        x.sums.reserve(blocks * s1)
        x.fa.reserve(3 * n0)
        x.fb.reserve(3 * n1)
        x.termA.reserve(n0 * h)
        x.termB.reserve(Self.paddedTiles(n1) * h)
        x.rSlice.reserve(3 * nD1)
        x.cSlice.reserve(3 * nD0)
        func rows(_ b: Int) -> (Int, Int) { (n0 * b / blocks, n0 * (b + 1) / blocks) }
        let (bm, bv, x) = (decays.momentum, decays.rms, x)
        // One slice's R and C entries in and out of x.rSlice / x.cSlice (k-major, contiguous).
        func exchange(_ slice: Int, gather: Bool) {
            // (state array, its per-decay size, slice buffer, entries, first entry, stride)
            for (isRow, total, buffer, count, base, step) in [(true, nR, x.rSlice, nD1, view.rBases[slice], view.rStride),
                                                              (false, nC, x.cSlice, nD0, view.cBases[slice], view.cStride)] {
                for k in 0..<3 {
                    for j in 0..<count {
                        let at = k * total + base + j * step
                        if !gather { isRow ? (s.vRow[at] = buffer[k * count + j]) : (s.vCol[at] = buffer[k * count + j]) }
                        else { buffer[k * count + j] = isRow ? s.vRow[at] : s.vCol[at] }
                    }
                }
            }
        }
        for f in 0..<layout.featureCount { x.featureSums[f] = 0 }

        withElements(&p, g, &s.momentum, &s.rms) { e in
            for (slice, base) in view.bases.enumerated() {
                // Sweep 1: accumulators, row/column sums of g², element sums of squares.
                Parallel.forEachBlock(blocks) { b in
                    let (a0, a1) = rows(b)
                    layout.sweep1Matrix(e.g + base, e.p + base, e.m + base, e.v + base, n1, ld, n, a0, a1, bm, bv,
                                        x.rowG2.pointer, x.colPartial.pointer + b * n1, x.sums.pointer + b * s1)
                }
                for b in 0..<blocks { for (i, f) in layout.sweep1Features.enumerated() { x.featureSums[f] += x.sums[b * s1 + i] } }
                // Column sums of g² into block 0's buffer, in block order.
                for b in 1..<max(blocks, 1) { for j in 0..<n1 { x.colPartial[j] += x.colPartial[b * n1 + j] } }

                exchange(slice, gather: true)
                vectorStep(n0: n0, n1: n1, rowIndexed: rowIndexed)
                exchange(slice, gather: false)

                // Sweep 2: Σ facG² and Σ facMom², which need the factors just computed.
                Parallel.forEachBlock(blocks) { b in
                    let (a0, a1) = rows(b)
                    layout.sweep2Matrix(e.g + base, e.m + base, n0, n1, ld, n, a0, a1, x.fa.pointer, x.fb.pointer,
                                        x.sums.pointer + b * 6)
                }
                for b in 0..<blocks {
                    for k in 0..<3 {
                        x.featureSums[layout.facG[k]] += x.sums[b * 6 + k]
                        x.featureSums[layout.facMom[k]] += x.sums[b * 6 + 3 + k]
                    }
                }
            }

            let kernelMLP = mlp(scale: computeNorms(count: n, scale: scale, byParamRMS: byParamRMS))
            let (rRows, cRows) = (broadcastRows(layout.rValue, layout.rRsqrt), broadcastRows(layout.cValue, layout.cRsqrt))
            scaleRows(layout.matrixRows, into: x.w0p)
            scaleRows(rowIndexed ? rRows : cRows, into: x.aRows)
            scaleRows(rowIndexed ? cRows : rRows, into: x.bRows)
            for (slice, base) in view.bases.enumerated() {
                // A single slice still holds its R, C and factors from the first pass.
                if view.bases.count > 1 {
                    exchange(slice, gather: true)
                    for k in 0..<3 { factors(k, n0: n0, n1: n1, rowIndexed: rowIndexed) }
                }
                foldIntoLayer0(n0: n0, n1: n1, rowIndexed: rowIndexed)
                // Sweep 3: features, MLP, update.
                Parallel.forEachBlock(blocks) { b in
                    let (a0, a1) = rows(b)
                    var m = kernelMLP
                    layout.applyMatrix(e.g + base, e.p + base, e.m + base, e.v + base, n0, n1, ld, n, a0, a1,
                                       x.fa.pointer, x.fb.pointer, x.termA.pointer, x.termB.pointer, &m)
                }
            }
        }
    }

    /// The O(rows + cols) step between sweeps 1 and 2 for one slice: R and C (in x.rSlice and
    /// x.cSlice), the Adafactor factors, and the broadcast features' sums.
    private func vectorStep(n0: Int, n1: Int, rowIndexed: Bool) {
        let (nD1, nD0) = rowIndexed ? (n0, n1) : (n1, n0)
        // Mean of g² over D0 for index j of D1, and over D1 for index i of D0.
        func meanOverD0(_ j: Int) -> Float { Float(rowIndexed ? x.rowG2[j] / Double(n1) : x.colPartial[j] / Double(n0)) }
        func meanOverD1(_ i: Int) -> Float { Float(rowIndexed ? x.colPartial[i] / Double(n0) : x.rowG2[i] / Double(n1)) }
        for k in 0..<3 {
            let b = decays.adafactor[k]
            var rowSq = 0.0, rowRsq = 0.0, colSq = 0.0, colRsq = 0.0
            for j in 0..<nD1 {
                let r = b * x.rSlice[k * nD1 + j] + (1 - b) * meanOverD0(j)
                x.rSlice[k * nD1 + j] = r
                rowSq += Double(r) * Double(r)
                let rr = 1 / (r + 1e-8).squareRoot()
                rowRsq += Double(rr) * Double(rr)
            }
            for i in 0..<nD0 {
                let c = b * x.cSlice[k * nD0 + i] + (1 - b) * meanOverD1(i)
                x.cSlice[k * nD0 + i] = c
                colSq += Double(c) * Double(c)
                let rc = 1 / (c + 1e-8).squareRoot()
                colRsq += Double(rc) * Double(rc)
            }
            factors(k, n0: n0, n1: n1, rowIndexed: rowIndexed)
            x.featureSums[layout.rValue[k]] += rowSq * Double(nD0)
            x.featureSums[layout.cValue[k]] += colSq * Double(nD1)
            x.featureSums[layout.rRsqrt[k]] += rowRsq * Double(nD0)
            x.featureSums[layout.cRsqrt[k]] += colRsq * Double(nD1)
        }
    }

    /// Decay k's Adafactor factors of the slice in x.rSlice/x.cSlice: rowfac = rsqrt(R / mean(R)),
    /// colfac = rsqrt(C), as fa (by storage row) and fb (by column).
    private func factors(_ k: Int, n0: Int, n1: Int, rowIndexed: Bool) {
        let (nD1, nD0) = rowIndexed ? (n0, n1) : (n1, n0)
        x.rowFac.reserve(3 * nD1)
        x.colFac.reserve(3 * nD0)
        var rowSum = 0.0
        for j in 0..<nD1 { rowSum += Double(x.rSlice[k * nD1 + j]) }
        for i in 0..<nD0 { x.colFac[k * nD0 + i] = 1 / max(x.cSlice[k * nD0 + i], 1e-9).squareRoot() }
        let rowMean = Float(rowSum / Double(nD1))
        for j in 0..<nD1 { x.rowFac[k * nD1 + j] = 1 / max(x.rSlice[k * nD1 + j] / (rowMean + 1e-9), 1e-9).squareRoot() }
        for a in 0..<n0 { x.fa[k * n0 + a] = rowIndexed ? x.rowFac[k * nD1 + a] : x.colFac[k * nD0 + a] }
        for j in 0..<n1 { x.fb[k * n1 + j] = rowIndexed ? x.colFac[k * nD0 + j] : x.rowFac[k * nD1 + j] }
    }

    /// Folds one slice's broadcast features into layer 0: the per-row (termA) and per-column
    /// (termB, tile-major as `mulo_lo_apply_matrix` reads it) terms, from x.rSlice/x.cSlice.
    private func foldIntoLayer0(n0: Int, n1: Int, rowIndexed: Bool) {
        let (nD1, nD0) = rowIndexed ? (n0, n1) : (n1, n0)
        let h = layout.hidden
        for a in 0..<n0 {
            for j in 0..<h { x.termA[a * h + j] = bias0[j] }
            for k in 0..<3 {
                let v = rowIndexed ? x.rSlice[k * nD1 + a] : x.cSlice[k * nD0 + a]
                let rv = 1 / (v + 1e-8).squareRoot()
                for j in 0..<h { x.termA[a * h + j] += v * x.aRows[2 * k * h + j] + rv * x.aRows[(2 * k + 1) * h + j] }
            }
        }
        for i in 0..<(Self.paddedTiles(n1) * h) { x.termB[i] = 0 }
        for b in 0..<n1 {
            let base = (b / 16) * h * 16 + b % 16
            for k in 0..<3 {
                let v = rowIndexed ? x.cSlice[k * nD0 + b] : x.rSlice[k * nD1 + b]
                let rv = 1 / (v + 1e-8).squareRoot()
                for j in 0..<h { x.termB[base + j * 16] += v * x.bRows[2 * k * h + j] + rv * x.bRows[(2 * k + 1) * h + j] }
            }
        }
    }
}
