/// small_fc_lopt (METHOD §2) as a learned-optimizer architecture; `LOConfig` is its fixed
/// configuration, `LearnedOptimizer` its inner optimizer and `LOState` that optimizer's state.
public struct SmallFCLOpt: LearnedOptimizerArchitecture {
    public static let name = "small_fc_lopt"
    public var config: LOConfig

    public init(_ config: LOConfig) { self.config = config }

    public var parametrization: Parametrization { config.parametrization }
    public var thetaNames: [String] { LOTheta.names }
    public var thetaShapes: [[Int]] { LOTheta.shapes(hidden: config.hiddenSize) }

    public func initialTheta(key: RNGKey) -> MetaParameters { LOTheta.initial(key: key, hidden: config.hiddenSize).parameters }

    public func makeOptimizer(theta: MetaParameters) -> LearnedOptimizer {
        // Callers check θ against `thetaShapes` when they read or make it.
        LearnedOptimizer(theta: try! LOTheta(theta), config: config)
    }

    public func writeConfig(to file: HDF5File, on group: String) throws {
        try LOCheckpoint.writeConfig(config, to: file, on: group)
    }
}

extension LOState: LearnedOptimizerState {
    public var counters: [(name: String, value: Int)] { [("lo_step", Int(step))] }

    public mutating func setCounters(_ values: [Int]) throws {
        guard values.count == 1, let t = Int32(exactly: values[0]), t >= 0 else {
            throw LOError("learned-optimizer step counter \(values) is not one int32 ≥ 0")
        }
        step = t
    }

    /// M_k [3, n], V [n], R_k [3, n_D1], C_k [3, n_D0], Vd_k [3, n] (empty where the rank has none).
    public func arrays(tensor k: Int) -> [StateArray] {
        let t = tensors[k]
        return [StateArray(name: "momentum", shape: [3, t.count], values: t.momentum),
                StateArray(name: "rms", shape: [t.count], values: t.rms),
                StateArray(name: "v_row", shape: [3, t.vRow.count / 3], values: t.vRow),
                StateArray(name: "v_col", shape: [3, t.vCol.count / 3], values: t.vCol),
                StateArray(name: "v_diag", shape: [3, t.vDiag.count / 3], values: t.vDiag)]
    }

    public mutating func setArrays(tensor k: Int, _ values: [[Float]]) throws {
        let expected = arrays(tensor: k)
        guard values.count == expected.count, zip(values, expected).allSatisfy({ $0.count == $1.values.count }) else {
            throw LOError("learned-optimizer state of tensor \(k): arrays of sizes \(values.map(\.count)), expected \(expected.map(\.values.count))")
        }
        (tensors[k].momentum, tensors[k].rms) = (values[0], values[1])
        (tensors[k].vRow, tensors[k].vCol, tensors[k].vDiag) = (values[2], values[3], values[4])
    }
}
