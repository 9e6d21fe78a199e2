import CKernels
import Foundation

/// The fast step on rank-0 and rank-1 tensors (METHOD §8): two sweeps, with the diagonal
/// accumulators' features per element.
extension FastLOStep {
    func updateVector(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ scale: Float) {
        let n = p.count
        let blocks = n < 2048 ? 1 : min(16, n / 1024)
        x.sums.reserve(blocks * 22)
        func range(_ b: Int) -> (Int, Int) { (n * b / blocks, n * (b + 1) / blocks) }
        let (bm, bv, ba, x) = (decays.momentum, decays.rms, decays.adafactor, x)
        withElements(&p, g, &s.momentum, &s.rms) { e in
            s.vDiag.withUnsafeMutableBufferPointer { db in
                let d = UncheckedBox(db.baseAddress!)
                Parallel.forEachBlock(blocks) { b in
                    let (e0, e1) = range(b)
                    mulo_lo_sweep1_vector(e.g, e.p, e.m, e.v, d.value, n, e0, e1, bm, bv, ba, x.sums.pointer + b * 22)
                }
                // Sums in sweep order → feature order 0–27 (Vd and rsqrt(Vd) appear twice, §2.4).
                for f in 0..<28 {
                    x.featureSums[f] = 0
                    for b in 0..<blocks { x.featureSums[f] += x.sums[b * 22 + Self.vectorSumOrder[f]] }
                }
                computeNorms(count: n)
                scaleRows(Self.vectorRows, into: x.w0p)
                let kernelMLP = mlp(scale: scale)
                timeBias.withUnsafeBufferPointer { base in
                    let base = UncheckedBox(base.baseAddress!)
                    Parallel.forEachBlock(blocks) { b in
                        let (e0, e1) = range(b)
                        var m = kernelMLP
                        mulo_lo_apply_vector(e.g, e.p, e.m, e.v, d.value, n, e0, e1, base.value, &m)
                    }
                }
            }
        }
    }
}
