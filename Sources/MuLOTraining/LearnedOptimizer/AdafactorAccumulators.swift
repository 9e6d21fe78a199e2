/// The second-moment accumulators both learned-optimizer architectures keep (METHOD §2.2–2.4,
/// TRANSFORMERS §5.1, VELO §1.2), as their reference paths compute them: Adafactor's factored R
/// and C for rank ≥ 2 (with the row normaliser per index of the other axes) and the diagonal Vd
/// for rank ≤ 1, each at three decays.
enum AdafactorAccumulators {
    /// What an element of a factored tensor reads after `updateFactored`.
    struct Factors {
        /// R and C entries of element e.
        let rIndex: (Int) -> Int, cIndex: (Int) -> Int
        /// rowfac_k = safe_rsqrt(R_k / (mean over D1 of R_k + 1e-9)), colfac_k = safe_rsqrt(C_k), per decay.
        let rowFac: [[Float]], colFac: [[Float]]
        let nR: Int, nC: Int
    }

    static func safeRsqrt(_ x: Float) -> Float { 1 / max(x, 1e-9).squareRoot() }

    /// R_k ← β_k·R_k + (1 − β_k)·mean_D0(g2), C_k likewise over D1; then the factors.
    static func updateFactored(_ s: inout LOTensorState, g2: [Float], decays: [Float]) -> Factors {
        updateFactored(&s, g2: { g2[$0] }, decays: decays)
    }

    /// The same with g² + 1e-30 of element e from `g2(e)`, so callers need not store it.
    static func updateFactored(_ s: inout LOTensorState, g2: (Int) -> Float, decays: [Float]) -> Factors {
        let shape = s.shape, n = s.count
        let (d1, d0) = factoredAxes(shape)!
        let strides = rowMajorStrides(shape)
        let rIndex = { (e: Int) in removingAxis(e, d0, strides: strides, shape: shape) }
        let cIndex = { (e: Int) in removingAxis(e, d1, strides: strides, shape: shape) }
        let nD0 = shape[d0], nD1 = shape[d1], nR = n / nD0, nC = n / nD1
        var meanOverD0 = [Double](repeating: 0, count: nR), meanOverD1 = [Double](repeating: 0, count: nC)
        for e in 0..<n {
            let v = Double(g2(e))
            meanOverD0[rIndex(e)] += v / Double(nD0)
            meanOverD1[cIndex(e)] += v / Double(nD1)
        }
        // The row normaliser averages R over its D1 axis only, once per index of the other axes.
        let rShape = shape.enumerated().filter { $0.offset != d0 }.map(\.element)
        let d1InR = d1 < d0 ? d1 : d1 - 1
        let rStrides = rowMajorStrides(rShape)
        func group(_ r: Int) -> Int { removingAxis(r, d1InR, strides: rStrides, shape: rShape) }
        var rowFac: [[Float]] = [], colFac: [[Float]] = []
        for k in 0..<3 {
            let b = decays[k]
            for j in 0..<nR { s.vRow[k * nR + j] = b * s.vRow[k * nR + j] + (1 - b) * Float(meanOverD0[j]) }
            for i in 0..<nC { s.vCol[k * nC + i] = b * s.vCol[k * nC + i] + (1 - b) * Float(meanOverD1[i]) }
            var groupSum = [Double](repeating: 0, count: nR / nD1)
            for j in 0..<nR { groupSum[group(j)] += Double(s.vRow[k * nR + j]) }
            rowFac.append((0..<nR).map { j in safeRsqrt(s.vRow[k * nR + j] / (Float(groupSum[group(j)] / Double(nD1)) + 1e-9)) })
            colFac.append((0..<nC).map { safeRsqrt(s.vCol[k * nC + $0]) })
        }
        return Factors(rIndex: rIndex, cIndex: cIndex, rowFac: rowFac, colFac: colFac, nR: nR, nC: nC)
    }

    /// Vd_k ← β_k·Vd_k + (1 − β_k)·g2 (rank ≤ 1).
    static func updateDiagonal(_ s: inout LOTensorState, g2: [Float], decays: [Float]) {
        updateDiagonal(&s, g2: { g2[$0] }, decays: decays)
    }

    static func updateDiagonal(_ s: inout LOTensorState, g2: (Int) -> Float, decays: [Float]) {
        let n = s.count
        for e in 0..<n {
            let v = g2(e)
            for k in 0..<3 { s.vDiag[k * n + e] = decays[k] * s.vDiag[k * n + e] + (1 - decays[k]) * v }
        }
    }
}
