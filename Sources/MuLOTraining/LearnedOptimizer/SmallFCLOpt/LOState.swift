/// One tensor's learned-optimizer accumulators, zero at start. Each accumulator family is
/// stored k-major (three contiguous arrays of the tensor's size), which keeps the kernels'
/// loads contiguous; a 0-d tensor is treated as shape [1].
public struct LOTensorState: Sendable, Equatable {
    public let shape: [Int]
    /// M_1..3, 3·n values.
    public var momentum: [Float]
    /// V, n values.
    public var rms: [Float]
    /// R_k (EMA of the mean of g² over D0; the shape without D0, row-major), 3·n/n_D0 values — rank ≥ 2.
    public var vRow: [Float]
    /// C_k (EMA of the mean of g² over D1; the shape without D1), 3·n/n_D1 values — rank ≥ 2.
    public var vCol: [Float]
    /// Vd_k, 3·n values — rank ≤ 1 only.
    public var vDiag: [Float]

    /// `shape` is the reference's stored shape (TRANSFORMERS §5.1: the factored axes follow it).
    public init(shape: [Int]) {
        let logical = shape.isEmpty ? [1] : shape
        let n = logical.reduce(1, *)
        self.shape = logical
        momentum = .init(repeating: 0, count: 3 * n)
        rms = .init(repeating: 0, count: n)
        if let (d1, d0) = factoredAxes(logical) {
            vRow = .init(repeating: 0, count: 3 * n / logical[d0])
            vCol = .init(repeating: 0, count: 3 * n / logical[d1])
            vDiag = []
        } else {
            vRow = []
            vCol = []
            vDiag = .init(repeating: 0, count: 3 * n)
        }
    }

    public var count: Int { rms.count }
    public var isFactored: Bool { !vRow.isEmpty }

    /// M_k [3, n], V [n], R_k [3, n/n_D0], C_k [3, n/n_D1], Vd_k [3, n] (empty where the rank has none):
    /// the layout checkpoints and MPI messages store.
    public var stateArrays: [StateArray] {
        [StateArray(name: "momentum", shape: [3, count], values: momentum),
         StateArray(name: "rms", shape: [count], values: rms),
         StateArray(name: "v_row", shape: [3, vRow.count / 3], values: vRow),
         StateArray(name: "v_col", shape: [3, vCol.count / 3], values: vCol),
         StateArray(name: "v_diag", shape: [3, vDiag.count / 3], values: vDiag)]
    }

    public mutating func setStateArrays(_ values: [[Float]]) throws {
        let expected = stateArrays
        guard values.count == expected.count, zip(values, expected).allSatisfy({ $0.count == $1.values.count }) else {
            throw LOError("learned-optimizer state of a \(shape) tensor: arrays of sizes \(values.map(\.count)), expected \(expected.map(\.values.count))")
        }
        (momentum, rms, vRow, vCol, vDiag) = (values[0], values[1], values[2], values[3], values[4])
    }
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
