/// The factored axes of a logical shape (METHOD §2.2, TRANSFORMERS §5.1): nil below rank 2;
/// otherwise (d1, d0) = the second-largest and largest axes by a stable ascending argsort, so a
/// tie makes D0 the later axis (fan_out of a square matrix).
public func factoredAxes(_ shape: [Int]) -> (d1: Int, d0: Int)? {
    guard shape.count >= 2 else { return nil }
    let order = shape.indices.sorted { shape[$0] < shape[$1] || (shape[$0] == shape[$1] && $0 < $1) }
    return (order[order.count - 2], order[order.count - 1])
}

/// Row-major strides of `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    for a in stride(from: shape.count - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * shape[a + 1] }
    return strides
}

/// The row-major index of element `e` of `shape` with axis `a` removed.
func removingAxis(_ e: Int, _ a: Int, strides: [Int], shape: [Int]) -> Int {
    (e / (strides[a] * shape[a])) * strides[a] + e % strides[a]
}

/// A factored tensor of any rank as matrix slices for the fast kernels. With the other axes O
/// (all but D0 and D1) fixed, the elements form an [n_rows, n_cols] matrix whose R entries vary
/// along D1 and C entries along D0 — the rank-2 rule on each slice, with the row normaliser per
/// slice (§5.1). The kernels need unit stride along the columns, so the last axis must be D0 or
/// D1 (true of every tensor the tasks make); `init` is nil otherwise.
struct FactoredSlices {
    /// Rows, columns and row stride of each slice.
    let n0: Int, n1: Int, ld: Int
    /// Whether R is indexed by the slice's row (D0 is the column axis).
    let rowIndexed: Bool
    /// Each slice's first element, and where its R and C entries start.
    let bases: [Int], rBases: [Int], cBases: [Int]
    /// The step between consecutive R entries (along D1) and C entries (along D0) of a slice.
    let rStride: Int, cStride: Int

    init?(shape: [Int]) {
        guard let (d1, d0) = factoredAxes(shape) else { return nil }
        let last = shape.count - 1
        guard last == d0 || last == d1 else { return nil }
        let rowAxis = last == d0 ? d1 : d0
        let strides = rowMajorStrides(shape)
        (n0, n1, ld, rowIndexed) = (shape[rowAxis], shape[last], strides[rowAxis], last == d0)
        // R has the shape without D0, C without D1; an axis a sits at a or a − 1 in them.
        let rStrides = rowMajorStrides(shape.enumerated().filter { $0.offset != d0 }.map(\.element))
        let cStrides = rowMajorStrides(shape.enumerated().filter { $0.offset != d1 }.map(\.element))
        func inR(_ a: Int) -> Int { a < d0 ? a : a - 1 }
        func inC(_ a: Int) -> Int { a < d1 ? a : a - 1 }
        (rStride, cStride) = (rStrides[inR(d1)], cStrides[inC(d0)])
        var bases = [0], rBases = [0], cBases = [0]
        for a in shape.indices where a != d0 && a != d1 {
            // Every slice so far, repeated for each index of axis a (row-major over O).
            (bases, rBases, cBases) = (
                bases.flatMap { b in (0..<shape[a]).map { b + $0 * strides[a] } },
                rBases.flatMap { b in (0..<shape[a]).map { b + $0 * rStrides[inR(a)] } },
                cBases.flatMap { b in (0..<shape[a]).map { b + $0 * cStrides[inC(a)] } })
        }
        (self.bases, self.rBases, self.cBases) = (bases, rBases, cBases)
    }
}
