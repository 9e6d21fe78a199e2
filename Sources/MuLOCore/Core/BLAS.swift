import CBLAS
import Foundation

/// Thin layer over OpenBLAS: row-major SGEMM with the transposes backprop needs, on a thread
/// count of MuLO's choosing whose results never depend on it.
public enum BLAS {
    /// Threads for `sgemm`. OpenBLAS itself always runs on one: its own split of a product over
    /// threads changed the rounding with the thread count (its Haswell kernels, which some machines
    /// force through OPENBLAS_CORETYPE: a transformer's gradients differed between 1 and 2
    /// threads). `sgemm` splits by shape instead.
    public static func setThreads(_ n: Int) { count = max(1, n) }

    public static var threads: Int { count }

    nonisolated(unsafe) private static var count = ProcessInfo.processInfo.activeProcessorCount
    /// Set before `sgemm`'s first call, the one place MuLO calls into OpenBLAS's threaded code.
    private static let openBLASOnOneThread: Void = openblas_set_num_threads(1)

    /// The kernel set ("core") OpenBLAS chose when it loaded, e.g. "Haswell" or "SkylakeX": it sets
    /// the sgemm rate every benchmark is measured against (OPENBLAS_CORETYPE can force an older one).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// C[m×n] = alpha·op(A)·op(B) + beta·C, all row-major; op(A) is m×k, op(B) is k×n.
    /// `lda`, `ldb`, `ldc` are the row strides of the stored (untransposed) matrices. A large
    /// product runs as the parts `parts` chooses from its shape alone, side by side on `threads`.
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             _ a: UnsafePointer<Float>, lda: Int,
                             _ b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = openBLASOnOneThread
        func call(m: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
        guard let split = parts(m: m, n: n, k: k) else {
            call(m: m, n: n, a: a, b: b, c: c)
            return
        }
        let (ap, bp, cp) = (UncheckedBox(a), UncheckedBox(b), SendablePointer(c))
        Parallel.forEachBlock(split.count, lanes: count) { part in
            let lo = part * split.size, len = min(split.size, (split.rows ? m : n) - lo)
            if split.rows {   // rows lo..<lo+len of op(A) and C
                call(m: len, n: n, a: ap.value + (transA ? lo : lo * lda), b: bp.value, c: cp.base + lo * ldc)
            } else {          // columns lo..<lo+len of op(B) and C
                call(m: m, n: len, a: ap.value, b: bp.value + (transB ? lo * ldb : lo), c: cp.base + lo)
            }
        }
    }

    /// How `sgemm` splits a product: C's rows or columns, whichever are more, in at most 4 parts
    /// of a multiple of 64, or nil below ~2M multiply-adds, where a dispatch costs more than it
    /// saves. A function of the shape alone, split on one thread too: OpenBLAS's rounding of a part
    /// differs from that of the same rows in the whole product (its Haswell kernels), so only the
    /// same parts give the same bits on any number of threads.
    static func parts(m: Int, n: Int, k: Int) -> (rows: Bool, size: Int, count: Int)? {
        guard m * n * k >= 1 << 21 else { return nil }
        let rows = m >= n   // each part packs the other operand again: the smaller one
        let extent = rows ? m : n
        guard extent >= 128 else { return nil }
        let size = ((extent + 3) / 4 + 63) / 64 * 64
        return (rows, size, (extent + size - 1) / size)
    }

    /// The plain triple loop of `sgemm`, accumulated in float64: the reference the fast path is tested against.
    public static func referenceSgemm(transA: Bool = false, transB: Bool = false,
                                      m: Int, n: Int, k: Int, alpha: Float = 1,
                                      _ a: UnsafePointer<Float>, lda: Int,
                                      _ b: UnsafePointer<Float>, ldb: Int,
                                      beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * acc + prior)
            }
        }
    }
}
