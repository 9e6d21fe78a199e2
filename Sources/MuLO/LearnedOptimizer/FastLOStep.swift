import CKernels
import Foundation

/// The fast learned-optimizer step (METHOD §8): identical mathematics to `ReferenceLOStep`, with
/// normalisation and time folded into layer 0, row/column features precomputed once per row or
/// column, and the per-element work in three sweeps (C kernels) over fixed row blocks.
struct FastLOStep {
    let config: LOConfig
    let decays: LODecays
    let theta: LOTheta
    /// b0 + Σ_r τ_r·w0[28 + r]: the time features are constant over a step.
    let timeBias: [Float]

    static let hidden = 32

    /// n rounded up to whole 16-lane tiles.
    static func paddedTiles(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    init(theta: LOTheta, decays: LODecays, config: LOConfig, step: Int32) {
        precondition(theta.hiddenSize == Self.hidden, "the fast path is built for hidden size 32; use the reference path")
        self.theta = theta
        self.decays = decays
        self.config = config
        let tau = timeFeatures(step: step)
        timeBias = (0..<Self.hidden).map { h in
            var b = theta.b0.data[h]
            for r in 0..<11 { b += tau[r] * theta.w0.data[(28 + r) * Self.hidden + h] }
            return b
        }
    }

    func update(_ p: inout [Float], grad g: [Float], state s: inout LOTensorState, scale: Float, scratch: LOScratch) {
        if s.isFactored {
            updateMatrix(&p, g, &s, scale, scratch)
        } else {
            updateVector(&p, g, &s, scale, scratch)
        }
    }

    /// Normalisers n_f = rsqrt(1e-5 + mean(x_f²)) from the sums of squares in `x.featureSums`.
    private func computeNorms(_ x: LOScratch, count: Int) {
        for f in 0..<28 { x.norms[f] = Float(1 / (1e-5 + x.featureSums[f] / Double(count)).squareRoot()) }
    }

    /// out[r·32 + j] = Σ_{f in rows[r]} n_f·w0[f][j]: layer-0 rows scaled by their normalisers,
    /// summed where one per-element feature stands for several identical ones.
    private func scaleRows(_ rows: [[Int]], _ norms: [Float], into out: inout [Float]) {
        let h = Self.hidden
        for (r, features) in rows.enumerated() {
            for j in 0..<h {
                var acc: Float = 0
                for f in features { acc += norms[f] * theta.w0.data[f * h + j] }
                out[r * h + j] = acc
            }
        }
    }

    // Which w0 rows each per-element feature of the kernels uses.
    private static let matrixRows: [[Int]] = (Array(0...12) + [25, 26, 27]).map { [$0] }
    private static let vectorRows: [[Int]] = (0...12).map { [$0] } + (0..<3).map { [13 + $0, 16 + $0] }
        + (0..<3).map { [19 + $0, 22 + $0] } + (25...27).map { [$0] }
    /// The broadcast features by row: R_k (or C_k) and its rsqrt, for k = 0, 1, 2.
    private static func broadcastRows(_ first: Int) -> [[Int]] { (0..<3).flatMap { [[first + $0], [first + 6 + $0]] } }
    private static let rRows = broadcastRows(13), cRows = broadcastRows(16)
    /// For each feature 0–27 of a vector, its sum's index in `mulo_lo_sweep1_vector`'s output.
    private static let vectorSumOrder = Array(0..<13) + [13, 14, 15, 13, 14, 15, 16, 17, 18, 16, 17, 18, 19, 20, 21]

    private func mlp(_ w0p: UnsafePointer<Float>, scale: Float, _ body: (UnsafePointer<mulo_lo_mlp>) -> Void) {
        theta.w1.data.withUnsafeBufferPointer { w1 in
            theta.b1.data.withUnsafeBufferPointer { b1 in
                theta.w2.data.withUnsafeBufferPointer { w2 in
                    theta.b2.data.withUnsafeBufferPointer { b2 in
                        var m = mulo_lo_mlp(w0p: w0p, w1: w1.baseAddress, b1: b1.baseAddress, w2: w2.baseAddress,
                                            b2: b2.baseAddress, exp_mult: config.expMult, step_mult: config.stepMult,
                                            scale: scale)
                        body(&m)
                    }
                }
            }
        }
    }

    // MARK: Matrices

    private func updateMatrix(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ scale: Float, _ x: LOScratch) {
        let (n0, n1) = (s.shape[0], s.shape[1]), n = n0 * n1
        let (_, d0) = factoredAxes(s.shape)!
        // R is indexed by the storage row a when D0 is axis 1, by the column b otherwise.
        let rowIndexed = d0 == 1
        let blocks = n < 2048 ? 1 : min(n0, 16)
        LOScratch.grow(&x.rowG2, n0)
        LOScratch.grow(&x.colPartial, blocks * n1)
        LOScratch.grow(&x.sums, blocks * 10)
        LOScratch.grow(&x.fa, 3 * n0)
        LOScratch.grow(&x.fb, 3 * n1)
        LOScratch.grow(&x.termA, n0 * Self.hidden)
        LOScratch.grow(&x.termB, Self.paddedTiles(n1) * Self.hidden)
        func rows(_ b: Int) -> (Int, Int) { (n0 * b / blocks, n0 * (b + 1) / blocks) }
        let bm = decays.momentum, bv = decays.rms

        // Sweep 1: accumulators, row/column sums of g², element sums of squares.
        g.withUnsafeBufferPointer { gp in
            p.withUnsafeBufferPointer { pp in
                s.momentum.withUnsafeMutableBufferPointer { mp in
                    s.rms.withUnsafeMutableBufferPointer { vp in
                        x.rowG2.withUnsafeMutableBufferPointer { rp in
                            x.colPartial.withUnsafeMutableBufferPointer { cp in
                                x.sums.withUnsafeMutableBufferPointer { sp in
                                    let ptrs = UncheckedBox((gp.baseAddress!, pp.baseAddress!, mp.baseAddress!, vp.baseAddress!,
                                                             rp.baseAddress!, cp.baseAddress!, sp.baseAddress!))
                                    Parallel.forEachBlock(blocks) { b in
                                        let (g, p, m, v, r, c, sums) = ptrs.value
                                        let (a0, a1) = rows(b)
                                        mulo_lo_sweep1_matrix(g, p, m, v, n0, n1, a0, a1, bm, bv, r, c + b * n1, sums + b * 10)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for f in 0..<28 { x.featureSums[f] = 0 }
        for b in 0..<blocks { for f in 0..<10 { x.featureSums[f] += x.sums[b * 10 + f] } }
        // Column sums of g² into block 0's buffer, in block order.
        for b in 1..<max(blocks, 1) { for j in 0..<n1 { x.colPartial[j] += x.colPartial[b * n1 + j] } }

        // Vector step: R and C, the Adafactor factors and the broadcast features' sums.
        let (nD1, nD0) = rowIndexed ? (n0, n1) : (n1, n0)
        // Mean of g² over D0 for index j of D1, and over D1 for index i of D0.
        func meanOverD0(_ j: Int) -> Float { Float(rowIndexed ? x.rowG2[j] / Double(n1) : x.colPartial[j] / Double(n0)) }
        func meanOverD1(_ i: Int) -> Float { Float(rowIndexed ? x.colPartial[i] / Double(n0) : x.rowG2[i] / Double(n1)) }
        LOScratch.grow(&x.rowFac, 3 * nD1)
        LOScratch.grow(&x.colFac, 3 * nD0)
        for k in 0..<3 {
            let b = decays.adafactor[k]
            var rowSum = 0.0, rowSq = 0.0, rowRsq = 0.0, colSq = 0.0, colRsq = 0.0
            for j in 0..<nD1 {
                let r = b * s.vRow[k * nD1 + j] + (1 - b) * meanOverD0(j)
                s.vRow[k * nD1 + j] = r
                rowSum += Double(r)
                rowSq += Double(r) * Double(r)
                let rr = 1 / (r + 1e-8).squareRoot()
                rowRsq += Double(rr) * Double(rr)
            }
            for i in 0..<nD0 {
                let c = b * s.vCol[k * nD0 + i] + (1 - b) * meanOverD1(i)
                s.vCol[k * nD0 + i] = c
                colSq += Double(c) * Double(c)
                let rc = 1 / (c + 1e-8).squareRoot()
                colRsq += Double(rc) * Double(rc)
                x.colFac[k * nD0 + i] = 1 / max(c, 1e-9).squareRoot()
            }
            let rowMean = Float(rowSum / Double(nD1))
            for j in 0..<nD1 { x.rowFac[k * nD1 + j] = 1 / max(s.vRow[k * nD1 + j] / (rowMean + 1e-9), 1e-9).squareRoot() }
            (x.featureSums[13 + k], x.featureSums[16 + k]) = (rowSq * Double(nD0), colSq * Double(nD1))
            (x.featureSums[19 + k], x.featureSums[22 + k]) = (rowRsq * Double(nD0), colRsq * Double(nD1))
            // fa is indexed by the storage row, fb by the column.
            for a in 0..<n0 { x.fa[k * n0 + a] = rowIndexed ? x.rowFac[k * nD1 + a] : x.colFac[k * nD0 + a] }
            for j in 0..<n1 { x.fb[k * n1 + j] = rowIndexed ? x.colFac[k * nD0 + j] : x.rowFac[k * nD1 + j] }
        }

        // Sweep 2: Σ facG² and Σ facMom², which need the factors just computed.
        g.withUnsafeBufferPointer { gp in
            s.momentum.withUnsafeBufferPointer { mp in
                x.fa.withUnsafeBufferPointer { fa in
                    x.fb.withUnsafeBufferPointer { fb in
                        x.sums.withUnsafeMutableBufferPointer { sp in
                            let ptrs = UncheckedBox((gp.baseAddress!, mp.baseAddress!, fa.baseAddress!, fb.baseAddress!, sp.baseAddress!))
                            Parallel.forEachBlock(blocks) { b in
                                let (g, m, fa, fb, sums) = ptrs.value
                                let (a0, a1) = rows(b)
                                mulo_lo_sweep2_matrix(g, m, n0, n1, a0, a1, fa, fb, sums + b * 6)
                            }
                        }
                    }
                }
            }
        }
        for b in 0..<blocks {
            for k in 0..<3 {
                x.featureSums[10 + k] += x.sums[b * 6 + k]
                x.featureSums[25 + k] += x.sums[b * 6 + 3 + k]
            }
        }

        // Fold normalisation into layer 0; per-row (A) and per-column (B) feature terms.
        computeNorms(x, count: n)
        scaleRows(Self.matrixRows, x.norms, into: &x.w0p)
        scaleRows(rowIndexed ? Self.rRows : Self.cRows, x.norms, into: &x.aRows)
        scaleRows(rowIndexed ? Self.cRows : Self.rRows, x.norms, into: &x.bRows)
        let h = Self.hidden
        for a in 0..<n0 {
            for j in 0..<h { x.termA[a * h + j] = timeBias[j] }
            for k in 0..<3 {
                let v = rowIndexed ? s.vRow[k * nD1 + a] : s.vCol[k * nD0 + a]
                let rv = 1 / (v + 1e-8).squareRoot()
                for j in 0..<h { x.termA[a * h + j] += v * x.aRows[2 * k * h + j] + rv * x.aRows[(2 * k + 1) * h + j] }
            }
        }
        // Tile-major, as mulo_lo_apply_matrix reads it.
        for i in 0..<(Self.paddedTiles(n1) * h) { x.termB[i] = 0 }
        for b in 0..<n1 {
            let base = (b / 16) * h * 16 + b % 16
            for k in 0..<3 {
                let v = rowIndexed ? s.vCol[k * nD0 + b] : s.vRow[k * nD1 + b]
                let rv = 1 / (v + 1e-8).squareRoot()
                for j in 0..<h { x.termB[base + j * 16] += v * x.bRows[2 * k * h + j] + rv * x.bRows[(2 * k + 1) * h + j] }
            }
        }

        // Sweep 3: features, MLP, update.
        x.w0p.withUnsafeBufferPointer { w0 in
            mlp(w0.baseAddress!, scale: scale) { mlp in
                g.withUnsafeBufferPointer { gp in
                    p.withUnsafeMutableBufferPointer { pp in
                        s.momentum.withUnsafeBufferPointer { mp in
                            s.rms.withUnsafeBufferPointer { vp in
                                x.fa.withUnsafeBufferPointer { fa in
                                    x.fb.withUnsafeBufferPointer { fb in
                                        x.termA.withUnsafeBufferPointer { ta in
                                            x.termB.withUnsafeBufferPointer { tb in
                                                let ptrs = UncheckedBox((gp.baseAddress!, pp.baseAddress!, mp.baseAddress!, vp.baseAddress!,
                                                                         fa.baseAddress!, fb.baseAddress!, ta.baseAddress!, tb.baseAddress!, mlp))
                                                Parallel.forEachBlock(blocks) { b in
                                                    let (g, p, m, v, fa, fb, ta, tb, mlp) = ptrs.value
                                                    let (a0, a1) = rows(b)
                                                    mulo_lo_apply_matrix(g, p, m, v, n0, n1, a0, a1, fa, fb, ta, tb, mlp)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Vectors and scalars

    private func updateVector(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ scale: Float, _ x: LOScratch) {
        let n = p.count
        let blocks = n < 2048 ? 1 : min(16, n / 1024)
        LOScratch.grow(&x.sums, blocks * 22)
        func range(_ b: Int) -> (Int, Int) { (n * b / blocks, n * (b + 1) / blocks) }
        let (bm, bv, ba) = (decays.momentum, decays.rms, decays.adafactor)
        g.withUnsafeBufferPointer { gp in
            p.withUnsafeBufferPointer { pp in
                s.momentum.withUnsafeMutableBufferPointer { mp in
                    s.rms.withUnsafeMutableBufferPointer { vp in
                        s.vDiag.withUnsafeMutableBufferPointer { dp in
                            x.sums.withUnsafeMutableBufferPointer { sp in
                                let ptrs = UncheckedBox((gp.baseAddress!, pp.baseAddress!, mp.baseAddress!, vp.baseAddress!,
                                                         dp.baseAddress!, sp.baseAddress!))
                                Parallel.forEachBlock(blocks) { b in
                                    let (g, p, m, v, d, sums) = ptrs.value
                                    let (e0, e1) = range(b)
                                    mulo_lo_sweep1_vector(g, p, m, v, d, n, e0, e1, bm, bv, ba, sums + b * 22)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Sums in sweep order → feature order 0–27 (Vd and rsqrt(Vd) appear twice, §2.4).
        for f in 0..<28 {
            x.featureSums[f] = 0
            for b in 0..<blocks { x.featureSums[f] += x.sums[b * 22 + Self.vectorSumOrder[f]] }
        }
        computeNorms(x, count: n)
        scaleRows(Self.vectorRows, x.norms, into: &x.w0p)
        x.w0p.withUnsafeBufferPointer { w0 in
            mlp(w0.baseAddress!, scale: scale) { mlp in
                g.withUnsafeBufferPointer { gp in
                    p.withUnsafeMutableBufferPointer { pp in
                        s.momentum.withUnsafeBufferPointer { mp in
                            s.rms.withUnsafeBufferPointer { vp in
                                s.vDiag.withUnsafeBufferPointer { dp in
                                    timeBias.withUnsafeBufferPointer { base in
                                        let ptrs = UncheckedBox((gp.baseAddress!, pp.baseAddress!, mp.baseAddress!, vp.baseAddress!,
                                                                 dp.baseAddress!, base.baseAddress!, mlp))
                                        Parallel.forEachBlock(blocks) { b in
                                            let (g, p, m, v, d, base, mlp) = ptrs.value
                                            let (e0, e1) = range(b)
                                            mulo_lo_apply_vector(g, p, m, v, d, n, e0, e1, base, mlp)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
