import CKernels
import Foundation

/// The part of the fast step (METHOD §8, VELO §3.4) that the MLP does not enter: sweep 1 (the
/// accumulators, the row and column sums of g², element sums of squares), the O(rows + cols)
/// step of R, C and the Adafactor factors, and sweep 2 (the factored features' sums). VeLO runs
/// it for every tensor before its LSTM, which is how sweep 1 can also take the LSTM's statistics
/// (VELO §3.4 step 1); small_fc_lopt runs it right before the MLP sweep (`FastLOStep.update`).
struct FastLOSweeps {
    let layout: LOKernelLayout
    let decays: LODecays
    let x: LOScratch

    /// What the sweeps leave for the MLP sweep: every feature's sum of squares (feature order)
    /// and, when asked for, the LSTM statistics' shifted sums (`mulo_velo_sweep1_matrix`).
    struct Swept {
        var featureSums: [Double]
        var moments: ShiftedMoments?
    }

    /// Sums of p², and of x − c and (x − c)² for x = M_0, M_1, M_2, V with c = `shift`.
    struct ShiftedMoments {
        let shift: [Float]
        var sumP2 = 0.0
        var sums = [Double](repeating: 0, count: 8)

        /// Empty sums shifted by the tensor's first M_0, M_1, M_2 and V (0 for an empty tensor).
        init(shiftedBy s: LOTensorState) {
            shift = s.count == 0 ? [Float](repeating: 0, count: 4) : (0..<3).map { s.momentum[$0 * s.count] } + [s.rms[0]]
        }
    }

    /// Whether the kernels take this tensor (a factored one needs D0 or D1 as its last axis).
    static func handles(_ s: LOTensorState) -> Bool { !s.isFactored || FactoredSlices(shape: s.shape) != nil }

    /// Sweeps 1–2 of one tensor: updates its accumulators. `moments` (matrices, VeLO's kernels
    /// only) also sums the LSTM statistics from the accumulators before the update.
    func sweep(_ p: inout [Float], grad g: [Float], state s: inout LOTensorState, moments: Bool = false) -> Swept {
        precondition(!moments || s.isFactored, "rank ≤ 1 tensors take their statistics in their own pass")
        x.featureSums.reserve(layout.featureCount)
        for f in 0..<layout.featureCount { x.featureSums[f] = 0 }
        var shifted: ShiftedMoments? = moments ? ShiftedMoments(shiftedBy: s) : nil
        if s.isFactored { sweepMatrix(&p, g, &s, &shifted) } else { sweepVector(&p, g, &s) }
        shifted?.sumP2 = x.featureSums[layout.paramFeature]
        return Swept(featureSums: (0..<layout.featureCount).map { x.featureSums[$0] }, moments: shifted)
    }

    /// The addresses of one tensor's gradient, parameters and per-element accumulators while
    /// the sweeps run; `withElements` pins them once for the whole sweep.
    struct Elements: @unchecked Sendable {
        let g: UnsafePointer<Float>, p: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    }

    static func withElements(_ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float],
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

    /// How a factored tensor is cut: its [n0, n1] slices and the fixed row blocks the sweeps
    /// run in parallel (fixed by the shape, so the sums' order does not depend on the threads).
    struct MatrixPlan {
        let view: FactoredSlices
        let n0: Int, n1: Int, ld: Int, blocks: Int
        var rowIndexed: Bool { view.rowIndexed }

        init(_ s: LOTensorState) {
            view = FactoredSlices(shape: s.shape)!
            (n0, n1, ld) = (view.n0, view.n1, view.ld)
            blocks = n0 * n1 < 2048 ? 1 : min(n0, 16)
        }

        func rows(_ b: Int) -> (Int, Int) { (n0 * b / blocks, n0 * (b + 1) / blocks) }
    }

    /// One slice's R and C entries in and out of x.rSlice / x.cSlice (k-major, contiguous).
    func exchange(_ plan: MatrixPlan, _ vRow: inout [Float], _ vCol: inout [Float], slice: Int, gather: Bool) {
        let view = plan.view
        let (nD1, nD0) = plan.rowIndexed ? (plan.n0, plan.n1) : (plan.n1, plan.n0)
        let (nR, nC) = (vRow.count / 3, vCol.count / 3)
        // (state array, its per-decay size, slice buffer, entries, first entry, stride)
        for (isRow, total, buffer, count, base, step) in [(true, nR, x.rSlice, nD1, view.rBases[slice], view.rStride),
                                                          (false, nC, x.cSlice, nD0, view.cBases[slice], view.cStride)] {
            for k in 0..<3 {
                for j in 0..<count {
                    let at = k * total + base + j * step
                    if !gather { isRow ? (vRow[at] = buffer[k * count + j]) : (vCol[at] = buffer[k * count + j]) }
                    else { buffer[k * count + j] = isRow ? vRow[at] : vCol[at] }
                }
            }
        }
    }

    /// Reserves the slice buffers `exchange`, `factors` and the MLP sweep's folding use.
    func reserveSliceBuffers(_ plan: MatrixPlan) {
        let (nD1, nD0) = plan.rowIndexed ? (plan.n0, plan.n1) : (plan.n1, plan.n0)
        x.fa.reserve(3 * plan.n0)
        x.fb.reserve(3 * plan.n1)
        x.rSlice.reserve(3 * nD1)
        x.cSlice.reserve(3 * nD0)
    }

    private func sweepMatrix(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ moments: inout ShiftedMoments?) {
        let plan = MatrixPlan(s)
        let (n0, n1, ld, n, blocks) = (plan.n0, plan.n1, plan.ld, p.count, plan.blocks)
        let (layout, s1, x) = (layout, layout.sweep1Count, x)
        x.rowG2.reserve(n0)
        x.colPartial.reserve(blocks * n1)
        x.sums.reserve(blocks * s1)
        x.momentSums.reserve(blocks * 8)
        reserveSliceBuffers(plan)
        let (bm, bv) = (decays.momentum, decays.rms)
        let shift = moments?.shift ?? []
        FastLOSweeps.withElements(&p, g, &s.momentum, &s.rms) { e in
            shift.withUnsafeBufferPointer { shiftBuffer in
                let shiftPointer = UncheckedBox(moments == nil ? nil : shiftBuffer.baseAddress)
                let momentPointer = UncheckedBox(moments == nil ? nil : x.momentSums.pointer)
                for (slice, base) in plan.view.bases.enumerated() {
                    // Sweep 1: accumulators, row/column sums of g², element sums of squares.
                    Parallel.forEachBlock(blocks) { b in
                        let (a0, a1) = plan.rows(b)
                        layout.sweep1Matrix(e.g + base, e.p + base, e.m + base, e.v + base, n1, ld, n, a0, a1, bm, bv,
                                            x.rowG2.pointer, x.colPartial.pointer + b * n1, x.sums.pointer + b * s1,
                                            shiftPointer.value, momentPointer.value.map { $0 + b * 8 })
                    }
                    for b in 0..<blocks { for (i, f) in layout.sweep1Features.enumerated() { x.featureSums[f] += x.sums[b * s1 + i] } }
                    if moments != nil { for b in 0..<blocks { for i in 0..<8 { moments!.sums[i] += x.momentSums[b * 8 + i] } } }
                    // Column sums of g² into block 0's buffer, in block order.
                    for b in 1..<max(blocks, 1) { for j in 0..<n1 { x.colPartial[j] += x.colPartial[b * n1 + j] } }

                    exchange(plan, &s.vRow, &s.vCol, slice: slice, gather: true)
                    vectorStep(n0: n0, n1: n1, rowIndexed: plan.rowIndexed)
                    exchange(plan, &s.vRow, &s.vCol, slice: slice, gather: false)

                    // Sweep 2: Σ facG² and Σ facMom², which need the factors just computed.
                    Parallel.forEachBlock(blocks) { b in
                        let (a0, a1) = plan.rows(b)
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
        /// Decay k's EMA of one side's entries toward the means; returns Σx² and Σ rsqrt(x + 1e-8)².
        func ema(_ buffer: ScratchBuffer<Float>, _ count: Int, _ k: Int, _ mean: (Int) -> Float) -> (Double, Double) {
            let b = decays.adafactor[k]
            var sq = 0.0, rsq = 0.0
            for j in 0..<count {
                let v = b * buffer[k * count + j] + (1 - b) * mean(j)
                buffer[k * count + j] = v
                sq += Double(v) * Double(v)
                let rv = 1 / (v + 1e-8).squareRoot()
                rsq += Double(rv) * Double(rv)
            }
            return (sq, rsq)
        }
        for k in 0..<3 {
            let (rowSq, rowRsq) = ema(x.rSlice, nD1, k, meanOverD0)
            let (colSq, colRsq) = ema(x.cSlice, nD0, k, meanOverD1)
            factors(k, n0: n0, n1: n1, rowIndexed: rowIndexed)
            x.featureSums[layout.rValue[k]] += rowSq * Double(nD0)
            x.featureSums[layout.cValue[k]] += colSq * Double(nD1)
            x.featureSums[layout.rRsqrt[k]] += rowRsq * Double(nD0)
            x.featureSums[layout.cRsqrt[k]] += colRsq * Double(nD1)
        }
    }

    /// Decay k's Adafactor factors of the slice in x.rSlice/x.cSlice: rowfac = rsqrt(R / mean(R)),
    /// colfac = rsqrt(C), as fa (by storage row) and fb (by column).
    func factors(_ k: Int, n0: Int, n1: Int, rowIndexed: Bool) {
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
}
