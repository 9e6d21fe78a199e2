import Foundation

/// small_fc_lopt exactly as METHOD §2 states it, one element at a time: build the 39 features,
/// normalise each over the tensor, run the MLP, apply the step. Plain and slow on purpose: it is
/// the reference the fast path is tested against.
public enum ReferenceLOStep {
    /// Updates one tensor. `g` must already be sanitised; `state` is updated in place.
    public static func update(_ p: inout [Float], grad g: [Float], state s: inout LOTensorState, scale: Float,
                              step t: Int32, theta: LOTheta, decays: LODecays, config: LOConfig) {
        let n = p.count
        let shape = s.shape
        // 3. Accumulators first, with the current gradient.
        for k in 0..<3 {
            let b = decays.momentum[k]
            for e in 0..<n { s.momentum[k * n + e] = b * s.momentum[k * n + e] + (1 - b) * g[e] }
        }
        for e in 0..<n { s.rms[e] = decays.rms * s.rms[e] + (1 - decays.rms) * (g[e] * g[e]) }
        let g2 = g.map { $0 * $0 + 1e-30 }

        // Per-element Adafactor quantities (features 10–27 except the momentum products).
        var rowFeature = [[Float]](repeating: [Float](repeating: 0, count: n), count: 3)  // 13–15
        var colFeature = rowFeature                                                       // 16–18
        var facG = rowFeature                                                             // 10–12
        var facScale = rowFeature     // what M_k is multiplied by for 25–27
        if factoredAxes(shape) != nil {
            let f = AdafactorAccumulators.updateFactored(&s, g2: g2, decays: decays.adafactor)
            for k in 0..<3 {
                for e in 0..<n {
                    let (i, j) = (f.cIndex(e), f.rIndex(e))
                    rowFeature[k][e] = s.vRow[k * f.nR + j]
                    colFeature[k][e] = s.vCol[k * f.nC + i]
                    facG[k][e] = g[e] * f.rowFac[k][j] * f.colFac[k][i]
                    facScale[k][e] = f.rowFac[k][j] * f.colFac[k][i]
                }
            }
        } else {
            AdafactorAccumulators.updateDiagonal(&s, g2: g2, decays: decays.adafactor)
            for k in 0..<3 {
                for e in 0..<n {
                    let vd = s.vDiag[k * n + e]
                    rowFeature[k][e] = vd
                    colFeature[k][e] = vd
                    facG[k][e] = g[e] * AdafactorAccumulators.safeRsqrt(vd + 1e-9)
                    facScale[k][e] = 1 / (vd + 1e-6).squareRoot()
                }
            }
        }

        // 5. The 28 normalised features, in w0 row order.
        var features = [[Float]](repeating: [Float](repeating: 0, count: n), count: 28)
        for e in 0..<n {
            let rsqrtV = 1 / (s.rms[e] + 1e-6).squareRoot()
            var x: [Float] = [g[e], p[e]]
            x += (0..<3).map { s.momentum[$0 * n + e] }
            x.append(s.rms[e])
            x += (0..<3).map { s.momentum[$0 * n + e] * rsqrtV }
            x.append(rsqrtV)
            x += (0..<3).map { facG[$0][e] }
            x += (0..<3).map { rowFeature[$0][e] }
            x += (0..<3).map { colFeature[$0][e] }
            x += (0..<3).map { 1 / (rowFeature[$0][e] + 1e-8).squareRoot() }
            x += (0..<3).map { 1 / (colFeature[$0][e] + 1e-8).squareRoot() }
            x += (0..<3).map { s.momentum[$0 * n + e] * facScale[$0][e] }
            for f in 0..<28 { features[f][e] = x[f] }
        }
        for f in 0..<28 {
            let meanSquare = features[f].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
            let norm = Float(1 / (1e-5 + meanSquare).squareRoot())
            for e in 0..<n { features[f][e] *= norm }
        }
        let time = timeFeatures(step: t)

        // 6–7. The MLP on every element, then p ← p − s_W·d·exp(exp_mult·m)·step_mult.
        let h = theta.hiddenSize
        for e in 0..<n {
            let x = (0..<28).map { features[$0][e] } + time
            let z1 = dense(x, theta.w0, theta.b0, relu: true)
            let z2 = dense(z1, theta.w1, theta.b1, relu: true)
            let out = dense(z2, theta.w2, theta.b2, relu: false)
            precondition(z1.count == h)
            let step = out[0] * Foundation.exp(out[1] * config.expMult) * config.stepMult
            p[e] = p[e] - step * scale
        }
    }

    /// y = x·W + b for W [in, out], optionally followed by ReLU.
    public static func dense(_ x: [Float], _ w: Tensor, _ b: Tensor, relu: Bool) -> [Float] {
        let (nIn, nOut) = (w.shape[0], w.shape[1])
        return (0..<nOut).map { o in
            var acc: Float = 0
            for i in 0..<nIn { acc += x[i] * w.data[i * nOut + o] }
            let y = acc + b.data[o]
            return relu ? max(y, 0) : y
        }
    }
}
