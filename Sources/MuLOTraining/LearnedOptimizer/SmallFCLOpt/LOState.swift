/// The factored axes of a logical shape (METHOD §2.2): nil below rank 2; otherwise
/// (d1, d0) = the second-largest and largest axes by a stable ascending argsort, so a tie
/// makes D0 the later axis (fan_out of a square matrix).
public func factoredAxes(_ shape: [Int]) -> (d1: Int, d0: Int)? {
    guard shape.count >= 2 else { return nil }
    let order = shape.indices.sorted { shape[$0] < shape[$1] || (shape[$0] == shape[$1] && $0 < $1) }
    return (order[order.count - 2], order[order.count - 1])
}

/// One tensor's learned-optimizer accumulators, zero at start. Each accumulator family is
/// stored k-major (three contiguous arrays of the tensor's size), which keeps the kernels'
/// loads contiguous; a 0-d tensor is treated as shape [1].
public struct LOTensorState: Sendable, Equatable {
    public let shape: [Int]
    /// M_1..3, 3·n values.
    public var momentum: [Float]
    /// V, n values.
    public var rms: [Float]
    /// R_k (EMA of the mean of g² over D0), 3·n_D1 values — rank 2 only.
    public var vRow: [Float]
    /// C_k (EMA of the mean of g² over D1), 3·n_D0 values — rank 2 only.
    public var vCol: [Float]
    /// Vd_k, 3·n values — rank ≤ 1 only.
    public var vDiag: [Float]

    public init(shape: [Int]) {
        precondition(shape.count <= 2, "the learned optimizer supports tensors of rank 0–2, got \(shape)")
        let logical = shape.isEmpty ? [1] : shape
        let n = logical.reduce(1, *)
        self.shape = logical
        momentum = .init(repeating: 0, count: 3 * n)
        rms = .init(repeating: 0, count: n)
        if let (d1, d0) = factoredAxes(logical) {
            vRow = .init(repeating: 0, count: 3 * logical[d1])
            vCol = .init(repeating: 0, count: 3 * logical[d0])
            vDiag = []
        } else {
            vRow = []
            vCol = []
            vDiag = .init(repeating: 0, count: 3 * n)
        }
    }

    public var count: Int { rms.count }
    public var isFactored: Bool { !vRow.isEmpty }
}

/// The learned optimizer's whole state: per-tensor accumulators and the global step counter t.
public struct LOState: Sendable, Equatable {
    public var tensors: [LOTensorState]
    /// Number of updates applied so far (int32 in the reference).
    public var step: Int32
    /// Working memory of the fast path, reused across steps; not part of the state's value.
    var scratch = LOScratch()

    public init(shapes: [[Int]], step: Int32 = 0) {
        tensors = shapes.map(LOTensorState.init)
        self.step = step
    }

    public static func == (a: LOState, b: LOState) -> Bool { a.tensors == b.tensors && a.step == b.step }
}
