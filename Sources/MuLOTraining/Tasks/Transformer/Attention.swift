import Foundation

/// Multi-head dot-product attention over [batch·T, A] projections with head h in columns
/// h·d..<(h+1)·d (head-major, TRANSFORMERS §2.1): logits = scale·q·k, masked logits replaced by
/// −1e30 before a float32 softmax over keys, outputs concatenated by head. The LM masks keys
/// after the query and pad keys (token 0); the ViT masks nothing.
struct Attention {
    let batch: Int, tokens: Int, heads: Int, headSize: Int
    let scale: Float
    let causal: Bool

    var width: Int { heads * headSize }
    var probabilityCount: Int { batch * heads * tokens * tokens }

    /// Whether key s is hidden from query t of example b.
    @inline(__always)
    func masked(_ b: Int, _ t: Int, _ s: Int, _ ids: UnsafePointer<Int32>?) -> Bool {
        guard causal else { return false }
        return s > t || ids![b * tokens + s] == 0
    }

    /// out = softmax(mask(scale·q·kᵀ))·v per example and head; keeps the probabilities.
    func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ids: UnsafePointer<Int32>?,
                 probs: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let (T, d, A) = (tokens, headSize, width)
        for b in 0..<batch {
            for h in 0..<heads {
                let off = b * T * A + h * d
                let p = probs + (b * heads + h) * T * T
                BLAS.sgemm(transB: true, m: T, n: T, k: d, alpha: scale, q + off, lda: A, k + off, ldb: A, beta: 0, p, ldc: T)
                for t in 0..<T {
                    let row = p + t * T
                    var mx = -Float.infinity
                    for s in 0..<T {
                        if masked(b, t, s, ids) { row[s] = -1e30 }
                        mx = max(mx, row[s])
                    }
                    var sum: Float = 0
                    for s in 0..<T {
                        // expf is +0 below ln(smallest subnormal / 2) ≈ −103.97; a masked logit
                        // (−1e30) would take libm's slow underflow path for that same +0.
                        let z = row[s] - mx
                        row[s] = z < -104 ? 0 : exp(z)
                        sum += row[s]
                    }
                    let inv = 1 / sum
                    for s in 0..<T { row[s] *= inv }
                }
                BLAS.sgemm(m: T, n: d, k: T, p, lda: T, v + off, ldb: A, beta: 0, out + off, ldc: A)
            }
        }
    }

    /// dq, dk, dv (overwritten) from dout; `scratch` holds tokens² floats.
    func backward(dout: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                  ids: UnsafePointer<Int32>?, probs: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                  dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>) {
        let (T, d, A) = (tokens, headSize, width)
        for b in 0..<batch {
            for h in 0..<heads {
                let off = b * T * A + h * d
                let p = probs + (b * heads + h) * T * T
                let dl = scratch
                // dP = dout·vᵀ, then dlogit = P ⊙ (dP − Σ_s P·dP); replaced logits are constants.
                BLAS.sgemm(transB: true, m: T, n: T, k: d, dout + off, lda: A, v + off, ldb: A, beta: 0, dl, ldc: T)
                for t in 0..<T {
                    let pr = p + t * T, dr = dl + t * T
                    var dot: Float = 0
                    for s in 0..<T { dot += pr[s] * dr[s] }
                    for s in 0..<T { dr[s] = masked(b, t, s, ids) ? 0 : pr[s] * (dr[s] - dot) }
                }
                BLAS.sgemm(transA: true, m: T, n: d, k: T, p, lda: T, dout + off, ldb: A, beta: 0, dv + off, ldc: A)
                BLAS.sgemm(m: T, n: d, k: T, alpha: scale, dl, lda: T, k + off, ldb: A, beta: 0, dq + off, ldc: A)
                BLAS.sgemm(transA: true, m: T, n: d, k: T, alpha: scale, dl, lda: T, q + off, ldb: A, beta: 0, dk + off, ldc: A)
            }
        }
    }
}
