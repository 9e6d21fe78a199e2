import Foundation

/// VeLO's per-parameter part without per-element allocations (VELO §3.4, in Swift): the clip is
/// applied where ĝ is read, the 30 columns are computed twice — once for their sums of squares,
/// once to run the MLP with the normalisers folded into its first layer — and R, C and their
/// factors are read per row and column. Same mathematics as `VeLOOptimizer.updateTensor`;
/// the tests hold the two within 1e-5 of the step.
enum FastVeLOStep {
    /// ĝ = clip(g, ±1000); with `sanitize` (MuLO's default) NaN → 0 first, as `GradientGuard` does.
    @inline(__always) static func clip(_ g: Float, sanitize: Bool) -> Float {
        let x = sanitize ? GradientGuard.sanitize(g) : g
        return x.isNaN ? x : min(max(x, -1000), 1000)
    }

    static func update(_ p: inout [Float], grad: [Float], state t: inout LOTensorState, mlp: VeLOOptimizer.MLP,
                       alpha: Float, scale: Float, config: VeLOConfig) {
        let n = p.count, sanitize = !config.referenceNonFinite
        func clip(_ g: Float) -> Float { Self.clip(g, sanitize: sanitize) }
        let (bm, bv) = (VeLOOptimizer.momentumDecays, VeLOOptimizer.rmsDecay)
        grad.withUnsafeBufferPointer { g in
            t.momentum.withUnsafeMutableBufferPointer { m in
                t.rms.withUnsafeMutableBufferPointer { v in
                    for e in 0..<n {
                        let gc = clip(g[e])
                        for k in 0..<3 { m[k * n + e] = bm[k] * m[k * n + e] + (1 - bm[k]) * gc }
                        v[e] = bv * v[e] + (1 - bv) * gc * gc
                    }
                }
            }
        }
        // Per R and C entry (or per element for Vd): the value, rsqrt(· + 1e-8), and the factor.
        let factored = factoredAxes(t.shape) != nil
        let g2 = { (e: Int) -> Float in let c = clip(grad[e]); return c * c + 1e-30 }
        var rowOf: (Int) -> Int = { $0 }, colOf: (Int) -> Int = { $0 }
        var row: [Float], col: [Float], rowRs: [Float], colRs: [Float], rowFac: [Float], colFac: [Float]
        let (nR, nC): (Int, Int)
        if factored {
            let f = AdafactorAccumulators.updateFactored(&t, g2: g2, decays: VeLOOptimizer.adafactorDecays)
            (rowOf, colOf, nR, nC) = (f.rIndex, f.cIndex, f.nR, f.nC)
            (row, col) = (t.vRow, t.vCol)
            (rowFac, colFac) = (f.rowFac.flatMap { $0 }, f.colFac.flatMap { $0 })
        } else {
            AdafactorAccumulators.updateDiagonal(&t, g2: g2, decays: VeLOOptimizer.adafactorDecays)
            (nR, nC) = (n, n)
            (row, col) = (t.vDiag, t.vDiag)
            // facG uses safe_rsqrt(Vd + 1e-9), facMom Vd^(−1/2) with no ε (VELO §9 item 5).
            rowFac = t.vDiag.map { AdafactorAccumulators.safeRsqrt($0 + 1e-9) }
            colFac = t.vDiag.map { 1 / $0.squareRoot() }
        }
        rowRs = row.map { 1 / ($0 + 1e-8).squareRoot() }
        colRs = col.map { 1 / ($0 + 1e-8).squareRoot() }
        let F = VeLOConfig.ffHidden, nf = VeLOConfig.features
        var sums = [Double](repeating: 0, count: nf)
        var pSquares = 0.0
        var x = [Float](repeating: 0, count: nf)
        var w0 = mlp.w0.data
        let (m, v) = (t.momentum, t.rms)
        /// The 30 columns of element e (VELO §1.5) into x.
        func columns(_ e: Int, _ pe: Float) {
            let gc = clip(grad[e]), rs = 1 / (v[e] + 1e-6).squareRoot()
            let (j, i) = (rowOf(e), colOf(e))
            x[0] = gc; x[1] = min(max(gc, -0.1), 0.1); x[2] = pe; x[6] = v[e]; x[10] = rs; x[14] = gc * rs
            for k in 0..<3 {
                let mk = m[k * n + e]
                x[3 + k] = mk
                x[7 + k] = mk * rs
                x[15 + k] = row[k * nR + j]
                x[18 + k] = col[k * nC + i]
                x[21 + k] = rowRs[k * nR + j]
                x[24 + k] = colRs[k * nC + i]
                if factored {
                    let fm = rowFac[k * nR + j] * colFac[k * nC + i]
                    x[11 + k] = gc * fm
                    x[27 + k] = mk * fm
                } else {
                    x[11 + k] = gc * rowFac[k * n + e]
                    x[27 + k] = mk * colFac[k * n + e]
                }
            }
        }
        for e in 0..<n {
            columns(e, p[e])
            for f in 0..<nf { sums[f] += Double(x[f]) * Double(x[f]) }
            pSquares += Double(p[e]) * Double(p[e])
        }
        for f in 0..<nf {
            let norm = 1 / (1e-5 + Float(sums[f] / Double(n))).squareRoot()
            for h in 0..<F { w0[f * F + h] *= norm }
        }
        let paramScale = config.paramScaleMult ? (Float(pSquares / Double(n)) + 1e-9).squareRoot() : 1
        let (b0, w1, b1, w2, b2) = (mlp.b0.data, mlp.w1.data, mlp.b1.data, mlp.w2.data, mlp.b2.data)
        var z1 = [Float](repeating: 0, count: F), z2 = z1
        for e in 0..<n {
            columns(e, p[e])
            for h in 0..<F {
                var a = b0[h]
                for f in 0..<nf { a += x[f] * w0[f * F + h] }
                z1[h] = max(a, 0)
            }
            for h in 0..<F {
                var a = b1[h]
                for i in 0..<F { a += z1[i] * w1[i * F + h] }
                z2[h] = max(a, 0)
            }
            var d = b2[0], mag = b2[1]
            for i in 0..<F {
                d += z2[i] * w2[i * 3]
                mag += z2[i] * w2[i * 3 + 1]
            }
            p[e] -= d * (paramScale * exp(config.expMult * mag)) * config.stepMult * alpha * scale
        }
    }
}
