import CKernels
import Foundation

public enum Timing {
    /// Seconds per call of `body`: a warm-up call, then repeats until `minSeconds` have passed
    /// (at least `minReps` calls), reporting the median of 5 batches to damp noise.
    public static func secondsPerCall(minSeconds: Double = 0.3, minReps: Int = 3, _ body: () -> Void) -> Double {
        body()
        var reps = 1
        while true {
            let t = measure(reps, body)
            if t >= minSeconds / 5 || reps >= 1 << 20 { break }
            reps *= 2
        }
        reps = max(reps, minReps)
        let samples = (0..<5).map { _ in measure(reps, body) / Double(reps) }.sorted()
        return samples[2]
    }

    private static func measure(_ reps: Int, _ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// cblas_sgemm throughput in GFLOP/s on square n×n matrices: the baseline of every ratio.
    public static func sgemmGFLOPs(n: Int = 2048) -> Double {
        var a = [Float](repeating: 0, count: n * n), b = a, c = a
        RNGKey(seed: 1).fillNormal(&a)
        RNGKey(seed: 2).fillNormal(&b)
        let s = secondsPerCall {
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.sgemm(m: n, n: n, k: n, ap.baseAddress!, lda: n, bp.baseAddress!, ldb: n,
                                   cp.baseAddress!, ldc: n)
                    }
                }
            }
        }
        return 2 * Double(n * n * n) / s / 1e9
    }

    /// Read+write bandwidth in GB/s of `mulo_stream_update` over two 128 MiB arrays, split over
    /// the elementwise workers: the memory bound of the optimizers' sweeps.
    public static func memoryGBs(elements n: Int = 1 << 25) -> Double {
        var m = [Float](repeating: 1, count: n), g = [Float](repeating: 0.5, count: n)
        let s = m.withUnsafeMutableBufferPointer { mp in
            g.withUnsafeBufferPointer { gp in
                let (mb, gb) = (SendablePointer(mp.baseAddress!), SendablePointer(UnsafeMutablePointer(mutating: gp.baseAddress!)))
                return secondsPerCall(minSeconds: 0.2) {
                    Parallel.forEachChunk(n) { r in mulo_stream_update(mb.base + r.lowerBound, gb.base + r.lowerBound, r.count, 0.9) }
                }
            }
        }
        return 12 * Double(n) / s / 1e9
    }
}
