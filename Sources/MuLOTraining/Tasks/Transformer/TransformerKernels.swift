import CKernels
import Foundation

/// The elementwise and per-row loops of the transformer tasks (TRANSFORMERS §2.1, §3.1), on
/// row-major [rows, cols] buffers. Sums run in a fixed order, so results do not depend on the
/// thread count; rows are spread over the workers where the work is large enough.
enum TransformerKernels {
    /// How LayerNorm computes the variance: Haiku's two-pass mean((x − mean)²) (the LM) or flax's
    /// E[x²] − E[x]² clamped at 0 (the ViT).
    enum Variance { case twoPass, moments }

    /// y = x̂·γ + β with x̂ = (x − mean)·rstd; keeps x̂ and rstd for the backward pass.
    static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>,
                          beta: UnsafePointer<Float>, eps: Float, variance: Variance,
                          xhat: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                          y: UnsafeMutablePointer<Float>) {
        let (xs, xh, rs, ys) = (SendablePointer(UnsafeMutablePointer(mutating: x)), SendablePointer(xhat), SendablePointer(rstd), SendablePointer(y))
        let (g, b) = (SendablePointer(UnsafeMutablePointer(mutating: gamma)), SendablePointer(UnsafeMutablePointer(mutating: beta)))
        Parallel.forEachChunk(rows, minChunk: max(1, 16_384 / cols)) { range in
            for r in range {
                let row = xs.base + r * cols
                var sum: Float = 0
                for j in 0..<cols { sum += row[j] }
                let mean = sum / Float(cols)
                var v: Float
                switch variance {
                case .twoPass:
                    v = 0
                    for j in 0..<cols { v += (row[j] - mean) * (row[j] - mean) }
                    v /= Float(cols)
                case .moments:
                    var sq: Float = 0
                    for j in 0..<cols { sq += row[j] * row[j] }
                    v = max(sq / Float(cols) - mean * mean, 0)
                }
                let s = 1 / (v + eps).squareRoot()
                rs.base[r] = s
                for j in 0..<cols {
                    let h = (row[j] - mean) * s
                    xh.base[r * cols + j] = h
                    ys.base[r * cols + j] = h * g.base[j] + b.base[j]
                }
            }
        }
    }

    /// dx += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ; dγ = Σ dy·x̂, dβ = Σ dy
    /// (overwritten, summed over rows in order).
    static func layerNormBackward(_ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                  gamma: UnsafePointer<Float>, rows: Int, cols: Int,
                                  dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
                                  dx: UnsafeMutablePointer<Float>) {
        dgamma.update(repeating: 0, count: cols)
        dbeta.update(repeating: 0, count: cols)
        for r in 0..<rows {
            for j in 0..<cols {
                dgamma[j] += dy[r * cols + j] * xhat[r * cols + j]
                dbeta[j] += dy[r * cols + j]
            }
        }
        let (dys, xh, rs, g, dxs) = (SendablePointer(UnsafeMutablePointer(mutating: dy)), SendablePointer(UnsafeMutablePointer(mutating: xhat)),
                                     SendablePointer(UnsafeMutablePointer(mutating: rstd)), SendablePointer(UnsafeMutablePointer(mutating: gamma)),
                                     SendablePointer(dx))
        Parallel.forEachChunk(rows, minChunk: max(1, 16_384 / cols)) { range in
            for r in range {
                var m1: Float = 0, m2: Float = 0
                for j in 0..<cols {
                    let d = dys.base[r * cols + j] * g.base[j]
                    m1 += d
                    m2 += d * xh.base[r * cols + j]
                }
                m1 /= Float(cols)
                m2 /= Float(cols)
                for j in 0..<cols {
                    let d = dys.base[r * cols + j] * g.base[j]
                    dxs.base[r * cols + j] += rs.base[r] * (d - m1 - xh.base[r * cols + j] * m2)
                }
            }
        }
    }

    static let geluC: Float = (2 / Float.pi).squareRoot()

    /// f = 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³))), the tanh approximation: the vectorised C
    /// kernel (its tanh from a polynomial exp), over the workers' chunks.
    static func gelu(_ u: UnsafePointer<Float>, _ f: UnsafeMutablePointer<Float>, count: Int) {
        let (us, fs) = (SendablePointer(UnsafeMutablePointer(mutating: u)), SendablePointer(f))
        Parallel.forEachChunk(count, minChunk: 1 << 15) { r in mulo_gelu(us.base + r.lowerBound, fs.base + r.lowerBound, r.count) }
    }

    /// d ← d·gelu′(u), in place.
    static func geluBackward(_ d: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>, count: Int) {
        let (ds, us) = (SendablePointer(d), SendablePointer(UnsafeMutablePointer(mutating: u)))
        Parallel.forEachChunk(count, minChunk: 1 << 15) { r in mulo_gelu_backward(ds.base + r.lowerBound, us.base + r.lowerBound, r.count) }
    }

    /// The plain GELU with libm's tanh: the reference the C kernels are tested against.
    static func referenceGelu(_ x: Float) -> Float { 0.5 * x * (1 + tanh(geluC * (x + 0.044715 * x * x * x))) }

    static func referenceGeluDerivative(_ x: Float) -> Float {
        let t = tanh(geluC * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluC * (1 + 3 * 0.044715 * x * x)
    }

    /// Inverted-dropout multipliers: 1/(1 − rate) where the key's uniform at i is ≥ rate, else 0.
    /// A function of the key and the index only, so masks do not depend on the thread count.
    static func dropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, rate: Float, key: RNGKey) {
        let m = SendablePointer(mask)
        let keep = 1 / (1 - rate)
        Parallel.forEachChunk(count, minChunk: 1 << 15) { r in
            mulo_dropout_mask(m.base + r.lowerBound, UInt64(r.lowerBound), r.count, key.k0, key.k1, RNGKey.uniformCounterTag,
                              rate, keep)
        }
    }

    /// The mask of `dropoutMask` from `RNGKey.uniform(at:)`, one element at a time (the reference).
    static func referenceDropoutMask(count: Int, rate: Float, key: RNGKey) -> [Float] {
        (0..<count).map { key.uniform(at: UInt64($0)) >= rate ? 1 / (1 - rate) : 0 }
    }

    /// x ← x ⊙ m.
    static func multiply(_ x: UnsafeMutablePointer<Float>, by m: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] *= m[i] }
    }

    /// y += x.
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }
}
