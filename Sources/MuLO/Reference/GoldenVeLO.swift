import Foundation

/// Checks VeLO and μVeLO against `shared/golden/velo.h5` (its README, VELO §7.1): each step is
/// run from the reference's state and parameters of the step before (re-synced, since the loss
/// features sit on discontinuities), then the parameters must agree within 1e-4 of that step's
/// largest move, the accumulators and the loss buffer within 1e-6 relative (VELO §7.1), and
/// the LSTM rows within 1e-5 relative: they take the loss features, which sit on discontinuities
/// where a one-ulp difference in a loss mean (float32 sums in another order) moves them by ~1e-6
/// (§9, float parity). NaN matches NaN: the reference's non-finite handling is switched on
/// here (`VeLOConfig.referenceNonFinite`); MuLO's default keeps parameters finite instead.
extension ReferenceChecker {
    public static let veloStepTolerance: Float = 1e-4
    public static let veloStateTolerance: Float = 1e-6
    public static let veloLSTMTolerance: Float = 1e-5

    public static func veloCaseNames(_ file: HDF5File) throws -> [String] {
        file.exists("cases") ? try file.children("cases").filter { file.exists("cases/\($0)/theta/rnn_params") } : []
    }

    public static func checkVeLOCase(_ file: HDF5File, name: String,
                                     implementation: LearnedOptimizer.Implementation) throws -> [ReferenceCheck] {
        let g = "cases/\(name)"
        let architecture = VeLO(VeLOConfig(
            parametrization: try parametrization(file, g), lstmHidden: try file.attributeInt("lstm_hidden_size", on: g),
            paramInits: try file.attributeInt("param_inits", on: g), interpMult: Float(try file.attributeDouble("interp_mult", on: g)),
            paramScaleMult: try file.attributeInt("param_scale_mult", on: g) != 0,
            stepMult: Float(try file.attributeDouble("step_mult", on: g)), expMult: Float(try file.attributeDouble("exp_mult", on: g)),
            buggedLossFeatures: try file.attributeInt("use_bugged_loss_features", on: g) != 0, referenceNonFinite: true))
        let theta = MetaParameters(try zip(architecture.thetaNames, architecture.thetaShapes).map { n, shape in
            try file.readTensor("\(g)/theta/\(n)", expectShape: shape)
        })
        var optimizer = architecture.makeOptimizer(theta: theta)
        optimizer.implementation = implementation
        let label = "\(g) [\(implementation.rawValue)]"
        let names = try file.attributeStrings("param_names", on: g)
        let scales = try names.map { try file.readScalar("\(g)/lr_scale/\($0)", as: Float.self) }
        let steps = try file.children("\(g)/steps").compactMap(Int.init).sorted()
        var checks: [ReferenceCheck] = []
        for t in steps {
            let before = t == steps[0] ? "\(g)/init" : "\(g)/steps/\(t - 1)/params"
            let beforeState = t == steps[0] ? "\(g)/init_state" : "\(g)/steps/\(t - 1)/state"
            var params = try names.map { try file.readTensor("\(before)/\($0)") }
            let start = params
            var state = try readVeLOState(file, group: beforeState, names: names, shapes: params.map(\.shape), optimizer: optimizer)
            let grads = try names.map { try file.readTensor("\(g)/steps/\(t)/grad/\($0)") }
            let loss = try file.readScalar("\(g)/steps/\(t)/loss", as: Float.self)
            optimizer.update(&params, grads: grads, scales: scales, state: &state,
                             context: StepContext(step: Int(state.iteration), totalSteps: Int(state.numSteps), loss: loss))
            let expected = try names.map { try file.readTensor("\(g)/steps/\(t)/params/\($0)").data }.flatMap { $0 }
            let largestMove = zip(expected, start.flatMap(\.data)).reduce(Float(0)) { m, pair in
                pair.0.isFinite && pair.1.isFinite ? max(m, abs(pair.0 - pair.1)) : m
            }
            checks.append(nanAware(name: "\(label) step \(t) params", ours: params.flatMap(\.data), reference: expected,
                                   tolerance: veloStepTolerance * largestMove + 1e-9, absolute: true))
            let ref = try readVeLOState(file, group: "\(g)/steps/\(t)/state", names: names, shapes: params.map(\.shape), optimizer: optimizer)
            checks.append(ReferenceCheck(name: "\(label) step \(t) counters", ours: state.counters.map { Float($0.value) },
                                         reference: ref.counters.map { Float($0.value) }, tolerance: 0, absolute: true))
            checks.append(nanAware(name: "\(label) step \(t) accumulators and loss buffer", ours: flatState(state, count: names.count, lstm: false),
                                   reference: flatState(ref, count: names.count, lstm: false), tolerance: veloStateTolerance, absolute: false))
            checks.append(nanAware(name: "\(label) step \(t) LSTM state", ours: flatState(state, count: names.count, lstm: true),
                                   reference: flatState(ref, count: names.count, lstm: true), tolerance: veloLSTMTolerance, absolute: false))
        }
        return checks
    }

    /// The LSTM rows, or every other state array (per tensor, then run-wide), in one vector.
    static func flatState(_ s: VeLOState, count: Int, lstm: Bool) -> [Float] {
        let perTensor = (0..<count).flatMap { s.arrays(tensor: $0).filter { $0.name.hasPrefix("lstm") == lstm }.flatMap(\.values) }
        return lstm ? perTensor : perTensor + s.globalArrays.flatMap(\.values)
    }

    /// A check where positions that are NaN on both sides agree.
    static func nanAware(name: String, ours: [Float], reference: [Float], tolerance: Float, absolute: Bool) -> ReferenceCheck {
        let both = zip(ours, reference).map { $0.isNaN && $1.isNaN }
        return ReferenceCheck(name: name, ours: zip(ours, both).map { $1 ? 0 : $0 }, reference: zip(reference, both).map { $1 ? 0 : $0 },
                              tolerance: tolerance, absolute: absolute)
    }

    /// The reference's state layout (README: element-major accumulators with a trailing decay axis).
    static func readVeLOState(_ file: HDF5File, group g: String, names: [String], shapes: [[Int]],
                              optimizer: VeLOOptimizer) throws -> VeLOState {
        var s = optimizer.initialState(for: shapes.map { Tensor(zeros: $0) })
        func scalar(_ path: String) throws -> Int { Int(try file.readScalar(path, as: Int32.self)) }
        let momentumT = try file.read("\(g)/momentum_t", as: Int32.self).values.map(Int.init)
        let rmsT = try file.read("\(g)/rms_t", as: Int32.self).values.map(Int.init)
        try s.setCounters([try scalar("\(g)/iteration"), try scalar("\(g)/num_steps"), try scalar("\(g)/loss_buffer/iteration")]
                          + momentumT + rmsT)
        let hidden = try file.readTensor("\(g)/lstm_hidden"), cell = try file.readTensor("\(g)/lstm_cell")
        let H = optimizer.config.lstmHidden
        for (k, name) in names.enumerated() {
            let t = s.tensors[k]
            func deinterleaved(_ array: String) throws -> [Float] {
                let path = "\(g)/\(name)/\(array)"
                return file.exists(path) ? deinterleave(try file.readTensor(path).data, array == "rms" ? 1 : 3) : []
            }
            let arrays = [try deinterleaved("momentum"), try deinterleaved("rms"), t.isFactored ? try deinterleaved("v_row") : [],
                          t.isFactored ? try deinterleaved("v_col") : [], t.isFactored ? [] : try deinterleaved("v_diag"),
                          Array(hidden.data[(k * H)..<((k + 1) * H)]), Array(cell.data[(k * H)..<((k + 1) * H)])]
            try s.setArrays(tensor: k, arrays)
        }
        try s.setGlobalArrays(try ["means", "running_min", "decays"].map { try file.readTensor("\(g)/loss_buffer/\($0)").data })
        return s
    }

    /// Element-major [n][k] → k-major [k][n].
    static func deinterleave(_ x: [Float], _ k: Int) -> [Float] {
        let n = x.count / k
        return (0..<(n * k)).map { x[($0 % n) * k + $0 / n] }
    }
}
