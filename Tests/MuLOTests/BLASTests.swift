import MuLO
import Testing

@Suite("BLAS")
struct BLASTests {
    /// The OpenBLAS path against the float64 triple loop, for every transpose, odd sizes and row
    /// strides wider than the matrices: whole (37×23×51), split by rows of C (300×45×200: 3 parts)
    /// and by columns (90×400×100: 4 parts) — and the same bits on 1 and 2 threads.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [(37, 23, 51), (300, 45, 200), (90, 400, 100)])
    func sgemmMatchesReference(transposes: (Bool, Bool), shape: (Int, Int, Int)) {
        let (transA, transB) = transposes, (m, n, k) = shape
        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 5
        var a = [Float](repeating: 0, count: (transA ? k : m) * lda), b = [Float](repeating: 0, count: (transB ? n : k) * ldb)
        RNGKey(seed: 7).fillNormal(&a)
        RNGKey(seed: 8).fillNormal(&b)
        var c0 = [Float](repeating: 0, count: m * ldc)
        RNGKey(seed: 9).fillNormal(&c0)
        func product(threads: Int?) -> [Float] {
            var c = c0
            let saved = BLAS.threads
            defer { BLAS.setThreads(saved) }
            if let threads { BLAS.setThreads(threads) }
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        if threads == nil {
                            BLAS.referenceSgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, ap.baseAddress!,
                                                lda: lda, bp.baseAddress!, ldb: ldb, beta: 0.3, cp.baseAddress!, ldc: ldc)
                        } else {
                            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, ap.baseAddress!, lda: lda,
                                       bp.baseAddress!, ldb: ldb, beta: 0.3, cp.baseAddress!, ldc: ldc)
                        }
                    }
                }
            }
            return c
        }
        let (one, two, ref) = (product(threads: 1), product(threads: 2), product(threads: nil))
        #expect(one == two)
        // Within 1e-4 relative (absolute below 1), as before the split; the padding untouched.
        for i in 0..<m {
            for j in 0..<ldc {
                let e = i * ldc + j
                #expect(j < n ? abs(one[e] - ref[e]) <= 1e-4 * max(1, abs(ref[e])) : one[e] == c0[e], "\(i),\(j)")
            }
        }
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
