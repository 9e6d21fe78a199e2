import CBLAS

/// Thin layer over OpenBLAS: row-major SGEMM with the transposes backprop needs, and
/// explicit control of the BLAS thread pool.
public enum BLAS {
    /// Sets OpenBLAS's thread count. Parallel particles each run single-threaded BLAS.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel set ("core") OpenBLAS chose when it loaded, e.g. "Haswell" or "SkylakeX": it sets
    /// the sgemm rate every benchmark is measured against (OPENBLAS_CORETYPE can force an older one).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// C[m×n] = alpha·op(A)·op(B) + beta·C, all row-major; op(A) is m×k, op(B) is k×n.
    /// `lda`, `ldb`, `ldc` are the row strides of the stored (untransposed) matrices.
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             _ a: UnsafePointer<Float>, lda: Int,
                             _ b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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
