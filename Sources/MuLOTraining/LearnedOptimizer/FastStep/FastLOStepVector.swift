import CKernels
import Foundation

/// The fast step on rank-0 and rank-1 tensors (METHOD §8): two sweeps, with the diagonal
/// accumulators' features per element.
extension FastLOStep {
    func updateVector(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ scale: Float, _ byParamRMS: Bool) {
        let n = p.count
        let blocks = n < 2048 ? 1 : min(16, n / 1024)
        let (layout, count) = (layout, layout.vectorSumCount)
        x.sums.reserve(blocks * count)
        func range(_ b: Int) -> (Int, Int) { (n * b / blocks, n * (b + 1) / blocks) }
        let (bm, bv, ba, x) = (decays.momentum, decays.rms, decays.adafactor, x)
        withElements(&p, g, &s.momentum, &s.rms) { e in
            s.vDiag.withUnsafeMutableBufferPointer { db in
                let d = UncheckedBox(db.baseAddress!)
                Parallel.forEachBlock(blocks) { b in
                    let (e0, e1) = range(b)
                    layout.sweep1Vector(e.g, e.p, e.m, e.v, d.value, n, e0, e1, bm, bv, ba, x.sums.pointer + b * count)
                }
                // Sums in sweep order → feature order (Vd and rsqrt(Vd) appear twice, METHOD §2.4).
                for f in 0..<layout.featureCount {
                    x.featureSums[f] = 0
                    for b in 0..<blocks { x.featureSums[f] += x.sums[b * count + layout.vectorSumOrder[f]] }
                }
                let kernelMLP = mlp(scale: computeNorms(count: n, scale: scale, byParamRMS: byParamRMS))
                scaleRows(layout.vectorRows, into: x.w0p)
                bias0.withUnsafeBufferPointer { base in
                    let base = UncheckedBox(base.baseAddress!)
                    Parallel.forEachBlock(blocks) { b in
                        let (e0, e1) = range(b)
                        var m = kernelMLP
                        layout.applyVector(e.g, e.p, e.m, e.v, d.value, n, e0, e1, base.value, &m)
                    }
                }
            }
        }
    }
}
