/// Checks of the learned optimizer against the `cases/<case>` groups of a golden file
/// (format: shared/golden/README.md).
extension ReferenceChecker {
    public static let caseTolerance: Float = 1e-6

    public static func caseNames(_ file: HDF5File) throws -> [String] {
        file.exists("cases") ? try file.children("cases") : []
    }

    /// θ from a group holding either the golden's flat names (`w0`, …) or the reference names (`nn/~/w0`, …).
    public static func readTheta(_ file: HDF5File, group: String) throws -> LOTheta {
        try LOTheta(tensors: LOTheta.names.map { name in
            let flat = String(name.split(separator: "/").last!)
            let path = file.exists("\(group)/\(name)") ? "\(group)/\(name)" : "\(group)/\(flat)"
            return try file.readTensor(path)
        })
    }

    /// Runs one golden case with `implementation` and compares every step's parameters and the
    /// final accumulators (absolute tolerance 1e-6).
    public static func checkCase(_ file: HDF5File, name: String,
                                 implementation: LearnedOptimizer.Implementation) throws -> [ReferenceCheck] {
        let g = "cases/\(name)"
        let names = try file.attributeStrings("param_names", on: g)
        let parametrization: Parametrization = try file.attributeString("parametrization", on: g) == "mu" ? .mup : .standard
        let config = LOConfig(parametrization: parametrization, stepMult: Float(try file.attributeDouble("step_mult", on: g)),
                              expMult: Float(try file.attributeDouble("exp_mult", on: g)))
        let theta = try readTheta(file, group: "\(g)/theta")
        let lo = LearnedOptimizer(theta: theta, config: config, implementation: implementation)
        var params = try names.map { try file.readTensor("\(g)/init/\($0)") }
        let scales = try names.map { try file.readScalar("\(g)/lr_scale/\($0)", as: Float.self) }
        var state = lo.initialState(for: params)
        state.step = Int32(try file.attributeInt("start_iteration", on: g))
        let label = "\(g) [\(implementation.rawValue)]"
        var checks: [ReferenceCheck] = []
        for t in try file.children("\(g)/steps").sorted(by: { Int($0)! < Int($1)! }) {
            let grads = try names.map { try file.readTensor("\(g)/steps/\(t)/grad/\($0)") }
            lo.update(&params, grads: grads, scales: scales, state: &state)
            let expected = try names.map { try file.readTensor("\(g)/steps/\(t)/params/\($0)").data }
            checks.append(ReferenceCheck(name: "\(label) step \(t) params", ours: params.flatMap(\.data),
                                         reference: expected.flatMap { $0 }, tolerance: caseTolerance, absolute: true))
        }
        let iterations = try file.attributeInt("iterations", on: g)
        checks.append(ReferenceCheck(name: "\(label) iterations", ours: [Float(state.step)],
                                     reference: [Float(iterations)], tolerance: 0, absolute: true))
        var ours: [Float] = [], ref: [Float] = []
        for (name, s) in zip(names, state.tensors) {
            let base = "\(g)/final_state/\(name)"
            ours += interleave(s.momentum, 3) + s.rms
            ref += try file.readTensor("\(base)/momentum").data + file.readTensor("\(base)/rms").data
            if s.isFactored {
                ours += interleave(s.vRow, 3) + interleave(s.vCol, 3)
                ref += try file.readTensor("\(base)/v_row").data + file.readTensor("\(base)/v_col").data
            } else {
                ours += interleave(s.vDiag, 3)
                ref += try file.readTensor("\(base)/v_diag").data
            }
        }
        checks.append(ReferenceCheck(name: "\(label) final_state", ours: ours, reference: ref,
                                     tolerance: caseTolerance, absolute: true))
        return checks
    }

    /// The factored axes MuLO picks for each tensor of the first case against `factoring/<name>`
    /// ([d1, d0], or [-1, -1] for tensors with diagonal accumulators).
    public static func checkFactoring(_ file: HDF5File) throws -> [ReferenceCheck] {
        guard let first = try caseNames(file).first else { return [] }
        return try file.attributeStrings("param_names", on: "cases/\(first)").map { name in
            let shape = try file.shape("cases/\(first)/init/\(name)")
            let axes = factoredAxes(shape.isEmpty ? [1] : shape)
            let ours: [Float] = axes.map { [Float($0.d1), Float($0.d0)] } ?? [-1, -1]
            let ref = try file.read("factoring/\(name)", as: Int32.self).values.map(Float.init)
            return ReferenceCheck(name: "factoring/\(name)", ours: ours, reference: ref, tolerance: 0, absolute: true)
        }
    }

    /// k-major [k][n] → element-major [n][k], the golden file's layout.
    static func interleave(_ x: [Float], _ k: Int) -> [Float] {
        let n = x.count / k
        return (0..<(n * k)).map { x[($0 % k) * n + $0 / k] }
    }
}
