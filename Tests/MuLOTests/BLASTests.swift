import MuLO
import Testing

@Suite("BLAS")
struct BLASTests {
    /// The OpenBLAS path against the float64 triple loop, for every transpose and odd sizes.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sgemmMatchesReference(transA: Bool, transB: Bool) {
        let (m, n, k) = (37, 23, 51)
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        RNGKey(seed: 7).fillNormal(&a)
        RNGKey(seed: 8).fillNormal(&b)
        var c0 = [Float](repeating: 0, count: m * n)
        RNGKey(seed: 9).fillNormal(&c0)
        var fast = c0, ref = c0
        let lda = transA ? m : k, ldb = transB ? k : n
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                fast.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, ap.baseAddress!, lda: lda,
                               bp.baseAddress!, ldb: ldb, beta: 0.3, cp.baseAddress!, ldc: n)
                }
                ref.withUnsafeMutableBufferPointer { cp in
                    BLAS.referenceSgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, ap.baseAddress!,
                                        lda: lda, bp.baseAddress!, ldb: ldb, beta: 0.3, cp.baseAddress!, ldc: n)
                }
            }
        }
        for i in 0..<(m * n) { #expect(abs(fast[i] - ref[i]) <= 1e-4 * max(1, abs(ref[i]))) }
    }

    @Test func referenceSgemmClosedForm() {
        // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        BLAS.referenceSgemm(m: 2, n: 2, k: 2, a, lda: 2, b, ldb: 2, &c, ldc: 2)
        #expect(c == [19, 22, 43, 50])
    }

    @Test func threadCountIsControllable() {
        let before = BLAS.threads
        BLAS.setThreads(1)
        #expect(BLAS.threads == 1)
        BLAS.setThreads(before)
    }
}
