import Foundation

/// VeLO's loss buffer (VELO §1.3): ten EMAs of the raw loss with half-lives 10 … T, their running
/// minima, and the nine loss-trend features they give.
public struct LossBuffer: Sendable, Equatable {
    public var means: [Float]
    public var runningMin: [Float]
    /// Stored, not recomputed: `logspace` and `exp` ulps differ between libraries (§5).
    public var decays: [Float]
    public var iteration: Int32

    /// For a run of `T` steps (T = 10 with the bugged buffer).
    public init(numSteps T: Int) {
        let top = log10(Float(max(T, 2)))
        decays = (0..<10).map { j in Foundation.exp(-1 / Foundation.pow(10, 1 + Float(j) * (top - 1) / 9)) }
        means = Array(repeating: 0, count: 10)
        runningMin = Array(repeating: Float(999_999_999_999 as Double), count: 10)  // the reference's 999999999999 in float32
        iteration = 0
    }

    /// Debiased means with exponent `it`, one float32 expression for the update and the features.
    private func debiased(_ it: Int32) -> [Float] { (0..<10).map { means[$0] / (1 - Foundation.pow(decays[$0], Float(it))) } }

    /// Takes the step's raw loss: upward spikes clipped at 2·|largest debiased mean|. Unless
    /// `propagateNonFinite`, a non-finite loss counts as that clip (0 on the first step).
    public mutating func update(loss raw: Float, propagateNonFinite: Bool = false) {
        let old = debiased(iteration + 1)
        let loss = raw.isFinite || propagateNonFinite ? raw : (iteration == 0 ? 0 : 2 * abs(old.max()!))
        let amax = iteration == 0 ? loss : old.max()!
        let clipped = min(2 * abs(amax), loss)
        for j in 0..<10 { means[j] = decays[j] * means[j] + (1 - decays[j]) * clipped }
        let now = debiased(iteration + 1)
        for j in 0..<10 { runningMin[j] = min(runningMin[j], now[j]) }
        iteration += 1
    }

    /// ℓ_j = clip((cm_j − rmin_j)/max(1e-8, cm_{j+1} − rmin_j) − 1, ±1); zero on the first two updates.
    public var features: [Float] {
        guard iteration > 2 else { return Array(repeating: 0, count: 9) }
        let cm = debiased(iteration)
        return (0..<9).map { j in min(max((cm[j] - runningMin[j]) / max(1e-8, cm[j + 1] - runningMin[j]) - 1, -1), 1) }
    }
}

/// VeLO's state over one run (§5): the accumulators of every tensor (the same layout as
/// small_fc_lopt's), the LSTM's row per tensor, the loss buffer and the counters.
public struct VeLOState: Sendable, Equatable {
    public var tensors: [LOTensorState]
    /// Updates applied in this run (episode); T is the run's length, 0 until the first update sets it.
    public var iteration: Int32
    public var numSteps: Int32
    public var lstmHidden: [[Float]], lstmCell: [[Float]]
    public var lossBuffer: LossBuffer
    /// Counters the reference increments but never reads (kept for format parity).
    public var momentumT: [Int32], rmsT: Int32
    /// Working memory of the fast path, reused across steps; not part of the state's value.
    var scratch = LOScratch()

    public init(shapes: [[Int]], hidden: [Float], cell: [Float]) {
        tensors = shapes.map(LOTensorState.init)
        (iteration, numSteps) = (0, 0)
        lstmHidden = Array(repeating: hidden, count: shapes.count)
        lstmCell = Array(repeating: cell, count: shapes.count)
        lossBuffer = LossBuffer(numSteps: 10)
        (momentumT, rmsT) = ([0, 0, 0], 0)
    }

    public static func == (a: VeLOState, b: VeLOState) -> Bool {
        (a.tensors, a.iteration, a.numSteps, a.lstmHidden, a.lstmCell) == (b.tensors, b.iteration, b.numSteps, b.lstmHidden, b.lstmCell)
            && (a.lossBuffer, a.momentumT, a.rmsT) == (b.lossBuffer, b.momentumT, b.rmsT)
    }
}

extension VeLOState: LearnedOptimizerState {
    public var counters: [(name: String, value: Int)] {
        [("iteration", Int(iteration)), ("num_steps", Int(numSteps)), ("loss_buffer_iteration", Int(lossBuffer.iteration)),
         ("momentum_t0", Int(momentumT[0])), ("momentum_t1", Int(momentumT[1])), ("momentum_t2", Int(momentumT[2])),
         ("rms_t", Int(rmsT))]
    }

    public mutating func setCounters(_ values: [Int]) throws {
        guard values.count == 7, values.allSatisfy({ Int32(exactly: $0) != nil && $0 >= 0 }) else {
            throw LOError("VeLO state counters \(values) are not seven int32 ≥ 0")
        }
        let v = values.map { Int32($0) }
        (iteration, numSteps, lossBuffer.iteration) = (v[0], v[1], v[2])
        (momentumT, rmsT) = (Array(v[3...5]), v[6])
    }

    public func arrays(tensor k: Int) -> [StateArray] {
        let h = lstmHidden[k].count
        return tensors[k].stateArrays + [StateArray(name: "lstm_hidden", shape: [h], values: lstmHidden[k]),
                                         StateArray(name: "lstm_cell", shape: [h], values: lstmCell[k])]
    }

    public mutating func setArrays(tensor k: Int, _ values: [[Float]]) throws {
        let expected = arrays(tensor: k)
        guard values.count == expected.count, zip(values, expected).allSatisfy({ $0.count == $1.values.count }) else {
            throw LOError("VeLO state of tensor \(k): arrays of sizes \(values.map(\.count)), expected \(expected.map(\.values.count))")
        }
        try tensors[k].setStateArrays(Array(values[0..<5]))
        (lstmHidden[k], lstmCell[k]) = (values[5], values[6])
    }

    public var globalArrays: [StateArray] {
        [StateArray(name: "loss_means", shape: [10], values: lossBuffer.means),
         StateArray(name: "loss_running_min", shape: [10], values: lossBuffer.runningMin),
         StateArray(name: "loss_decays", shape: [10], values: lossBuffer.decays)]
    }

    public mutating func setGlobalArrays(_ values: [[Float]]) throws {
        guard values.count == 3, values.allSatisfy({ $0.count == 10 }) else { throw LOError("VeLO loss buffer: expected three arrays of 10") }
        (lossBuffer.means, lossBuffer.runningMin, lossBuffer.decays) = (values[0], values[1], values[2])
    }
}
