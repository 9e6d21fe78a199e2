import CKernels
import Foundation

/// The fast step on rank-0 and rank-1 tensors (METHOD §8): two sweeps, with the diagonal
/// accumulators' features per element.
extension FastLOSweeps {
    /// The fixed element blocks of a vector's sweeps.
    static func vectorBlocks(_ n: Int) -> Int { n < 2048 ? 1 : min(16, n / 1024) }

    /// Sweep 1: accumulators and every feature's sum of squares into x.featureSums.
    func sweepVector(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState) {
        let n = p.count
        let blocks = Self.vectorBlocks(n)
        let (layout, count) = (layout, layout.vectorSumCount)
        x.sums.reserve(blocks * count)
        let (bm, bv, ba, x) = (decays.momentum, decays.rms, decays.adafactor, x)
        Self.withElements(&p, g, &s.momentum, &s.rms) { e in
            s.vDiag.withUnsafeMutableBufferPointer { db in
                let d = UncheckedBox(db.baseAddress!)
                Parallel.forEachBlock(blocks) { b in
                    layout.sweep1Vector(e.g, e.p, e.m, e.v, d.value, n, n * b / blocks, n * (b + 1) / blocks, bm, bv, ba,
                                        x.sums.pointer + b * count)
                }
            }
        }
        // Sums in sweep order → feature order (Vd and rsqrt(Vd) appear twice, METHOD §2.4).
        for f in 0..<layout.featureCount {
            x.featureSums[f] = 0
            for b in 0..<blocks { x.featureSums[f] += x.sums[b * count + layout.vectorSumOrder[f]] }
        }
    }
}

extension FastLOStep {
    /// Sweep 2: features, MLP, update.
    func applyVector(_ p: inout [Float], _ g: [Float], _ s: inout LOTensorState, _ kernelMLP: mulo_lo_mlp) {
        let n = p.count
        let blocks = FastLOSweeps.vectorBlocks(n)
        let (layout, x) = (layout, x)
        scaleRows(layout.vectorRows, into: x.w0p)
        FastLOSweeps.withElements(&p, g, &s.momentum, &s.rms) { e in
            s.vDiag.withUnsafeMutableBufferPointer { db in
                let d = UncheckedBox(db.baseAddress!)
                bias0.withUnsafeBufferPointer { base in
                    let base = UncheckedBox(base.baseAddress!)
                    Parallel.forEachBlock(blocks) { b in
                        var m = kernelMLP
                        layout.applyVector(e.g, e.p, e.m, e.v, d.value, n, n * b / blocks, n * (b + 1) / blocks, base.value, &m)
                    }
                }
            }
        }
    }
}
