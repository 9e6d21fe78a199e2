import Foundation

/// Exports of a learned optimizer for reuse elsewhere (METHOD §7.2–7.3), and the PyLO import.
public enum LOExport {
    public enum Format: String, CaseIterable, Sendable { case pylo, npz, json, h5 }

    /// PyLO's MetaMLP tensor names ([out, in] layout, so θ's [in, out] matrices are transposed).
    static let pyloNames: [(pylo: String, theta: Int)] = [
        ("network.input.weight", 3), ("network.input.bias", 4), ("network.linear_0.weight", 5),
        ("network.linear_0.bias", 6), ("network.output.weight", 7), ("network.output.bias", 8),
    ]

    static func pyloShapes(hidden h: Int) -> [String: [Int]] {
        ["network.input.weight": [h, 39], "network.input.bias": [h], "network.linear_0.weight": [h, h],
         "network.linear_0.bias": [h], "network.output.weight": [2, h], "network.output.bias": [2]]
    }

    public static let sidecarName = "mulo_lo.json"
    /// The sidecar key of model.safetensors' CRC-32.
    static let crcKey = "model_safetensors_crc32"

    /// The decay offsets shipped with the public μLO weights (PyLO's defaults, METHOD §2.1).
    public static let shippedDecays: (momentum: [Float], rms: [Float], adafactor: [Float]) =
        ([0.15216392, 0.14245212, 0.06812963], [0.01079706], [0.18621896, -0.10864615, -0.06185547])

    static func transpose(_ t: Tensor) -> Tensor {
        let (r, c) = (t.shape[0], t.shape[1])
        return Tensor(shape: [c, r], data: (0..<(r * c)).map { t.data[($0 % r) * c + $0 / r] })
    }

    /// Writes `dir` in `format`; returns the files written.
    public static func write(_ theta: LOTheta, config: LOConfig, format: Format, to dir: String, source: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        let ts = theta.tensors
        switch format {
        case .pylo:
            var tensors: [String: Tensor] = [:]
            for (name, k) in pyloNames { tensors[name] = ts[k].rank == 2 ? transpose(ts[k]) : ts[k] }
            let model = SafeTensors.encode(tensors, metadata: ["format": "pt"])
            try AtomicFile.write(Data(model), to: path("model.safetensors"))
            try AtomicFile.write(Data(pyloConfig(theta, config).utf8), to: path("config.json"))
            try AtomicFile.write(Data(sidecar(theta, config, source: source, checksums: [ExportChecksum.field(crcKey, model)]).utf8),
                                 to: path(sidecarName))
            try AtomicFile.write(Data(readme(theta, config, source: source).utf8), to: path("README.md"))
            return ["config.json", "model.safetensors", sidecarName, "README.md"].map(path)
        case .npz:
            try AtomicFile.write(Data(NPZ.encode(Array(zip(LOTheta.names, ts)))), to: path("theta.npz"))
            try AtomicFile.write(Data(sidecar(theta, config, source: source).utf8), to: path(sidecarName))
            return [path("theta.npz"), path(sidecarName)]
        case .h5:
            try writeShippable(theta.parameters, of: SmallFCLOpt(config), source: source, to: path("theta.h5"))
            return [path("theta.h5")]
        case .json:
            var fields = metadataFields(config, source: source)
            let theta = zip(LOTheta.names, ts).map { "    \(SafeTensors.quote($0)): \(nested($1))" }.joined(separator: ",\n")
            fields.append("  \"theta\": {\n\(theta)\n  }")
            try AtomicFile.write(Data("{\n\(fields.joined(separator: ",\n"))\n}\n".utf8), to: path("theta.json"))
            return [path("theta.json")]
        }
    }

    /// θ of either architecture with its configuration and, when the source is a meta-training
    /// checkpoint, its metrics, experiment configuration, departures and budget: small enough to
    /// commit, and a valid θ file for training, evaluation and export.
    static func writeShippable<A: LearnedOptimizerArchitecture>(_ theta: MetaParameters, of architecture: A, source: String,
                                                                to path: String) throws {
        let src = try HDF5File.open(source)
        defer { try? src.close() }
        let f = try HDF5File.create(path)
        try LOCheckpoint.writeTheta(theta, of: architecture, to: f)
        try f.setAttribute("kind", LOCheckpoint.kind)
        try f.setAttribute("source", URL(fileURLWithPath: source).lastPathComponent)
        if (try? src.attributeString("kind")) == MetaCheckpoint.kind {
            try f.setAttribute("config", try src.attributeString("config"))
            try f.setAttribute("departures_from_paper", try src.attributeStrings("departures_from_paper"))
            let steps = try src.attributeInt("outer_step")
            try f.setAttribute("outer_steps_done", steps)
            let planned = MetaConfig.storedOuterSteps(try src.attributeString("config"))
            var budget = "\(steps) outer steps of meta-training" + (planned.map { " (configured: \($0))" } ?? "")
            if src.hasAttribute("init_theta", on: "metrics") {
                let initial = try src.attributeString("init_theta", on: "metrics")
                try f.setAttribute("init_theta", initial)
                if src.hasAttribute("init_outer_steps", on: "metrics") {
                    let earlier = try src.attributeInt("init_outer_steps", on: "metrics")
                    try f.setAttribute("init_outer_steps", earlier)
                    budget += ", continuing the θ of \(earlier) earlier outer steps (\(initial))"
                } else {
                    budget += ", starting from the θ of \(initial)"
                }
            }
            if src.hasAttribute("particle_restarts", on: "metrics") {
                let restarts = try src.attributeInts("particle_restarts", on: "metrics")
                budget += "; particles restarted at outer step\(restarts.count > 1 ? "s" : "") \(restarts.map(String.init).joined(separator: ", "))"
            }
            try f.setAttribute("budget", budget)
            if src.hasAttribute("cpu_models", on: "metrics") {
                try f.setAttribute("cpu_models", try src.attributeStrings("cpu_models", on: "metrics"))
            }
            for name in try src.children("metrics") where !src.isGroup("metrics/\(name)") {
                if name == "outer_step" {
                    let v = try src.read("metrics/\(name)", as: Int64.self).values
                    try f.write("metrics/\(name)", shape: [v.count], v)
                } else if name == "wall_time_s" {
                    let v = try src.read("metrics/\(name)", as: Double.self).values
                    try f.write("metrics/\(name)", shape: [v.count], v)
                } else {
                    let v = try src.read("metrics/\(name)", as: Float.self).values
                    try f.write("metrics/\(name)", shape: [v.count], v)
                }
            }
            // family_at_bound is absent from checkpoints written before it was recorded.
            for group in ["family_loss", "family_at_bound"] where src.exists("metrics/\(group)") {
                for name in try src.children("metrics/\(group)") {
                    let v = try src.read("metrics/\(group)/\(name)", as: Float.self).values
                    try f.write("metrics/\(group)/\(name)", shape: [v.count], v)
                }
            }
        }
        try f.commit()
    }

    static func metadataFields(_ c: LOConfig, source: String) -> [String] {
        ["  \"format\": \"mulo-lo-theta\"", "  \"source\": \(SafeTensors.quote(source))",
         "  \"parametrization\": \"\(c.parametrization.rawValue)\"", "  \"step_mult\": \(num(c.stepMult))",
         "  \"exp_mult\": \(num(c.expMult))", "  \"hidden_size\": \(c.hiddenSize)",
         "  \"base_momentum_decays\": \(list(c.baseMomentumDecays))", "  \"base_rms_decays\": \(list(c.baseRMSDecays))",
         "  \"base_adafactor_decays\": \(list(c.baseAdafactorDecays))"]
    }

    /// config.json: `MetaMLP`'s three constructor arguments first, then every constant of the
    /// optimizer under the keyword names of PyLO's `AdafacLO_naive`/`MuLO_naive` constructors, so
    /// the directory describes itself. PyLO loads the file through huggingface_hub's
    /// `ModelHubMixin.from_pretrained`, which passes a model only the keys its `__init__` names
    /// (checked in huggingface_hub 2.4.0; `MetaMLP` takes no `**kwargs`), so the extra keys are inert.
    static func pyloConfig(_ t: LOTheta, _ c: LOConfig) -> String {
        let fields = ["  \"input_size\": 39", "  \"hidden_size\": \(t.hiddenSize)", "  \"hidden_layers\": 1",
                      "  \"step_mult\": \(num(c.stepMult))", "  \"exp_mult\": \(num(c.expMult))",
                      "  \"momentum_decays\": \(list(t.momentumDecays.data))", "  \"rms_decays\": \(list(t.rmsDecays.data))",
                      "  \"adafactor_decays\": \(list(t.adafactorDecays.data))",
                      "  \"initial_momentum_decays\": \(list(c.baseMomentumDecays))", "  \"initial_rms_decays\": \(list(c.baseRMSDecays))",
                      "  \"initial_adafactor_decays\": \(list(c.baseAdafactorDecays))",
                      "  \"parametrization\": \"\(c.parametrization.rawValue)\"", "  \"format\": \"mulo-small_fc_lopt\""]
        return "{\n\(fields.joined(separator: ",\n"))\n}\n"
    }

    /// The decay offsets and fixed settings, in MuLO's names, with the safetensors file's checksum.
    static func sidecar(_ t: LOTheta, _ c: LOConfig, source: String, checksums: [String] = []) -> String {
        var f = metadataFields(c, source: source) + checksums
        f.append("  \"momentum_decays\": \(list(t.momentumDecays.data))")
        f.append("  \"rms_decays\": \(list(t.rmsDecays.data))")
        f.append("  \"adafactor_decays\": \(list(t.adafactorDecays.data))")
        return "{\n\(f.joined(separator: ",\n"))\n}\n"
    }

    /// Float32 with 9 significant digits: reads back to the same bits.
    static func num(_ v: Float) -> String { v.isFinite ? String(format: "%.9g", v) : "null" }

    /// A JSON list of floats, each as `num` writes it.
    static func list<C: Collection>(_ v: C) -> String where C.Element == Float { "[" + v.map(num).joined(separator: ", ") + "]" }

    static func nested(_ t: Tensor) -> String {
        if t.rank <= 1 { return list(t.data) }
        let c = t.shape[1]
        return "[" + (0..<t.shape[0]).map { r in list(t.data[(r * c)..<((r + 1) * c)]) }.joined(separator: ", ") + "]"
    }

    /// The Python that applies this export with PyLO (Belilovsky-Lab/pylo), for `dir`: the
    /// README's snippet, also printed by `mulo export --format pylo`. The keyword names are those
    /// of PyLO's `AdafacLO_naive` constructor; `MuLO_naive` adds μP's per-group learning rates
    /// from mup's base shapes and needs an explicit `lr`.
    public static func pyloSnippet(_ c: LOConfig, dir: String) -> String {
        let mu = c.parametrization == .mup
        return """
            import json
            \(mu ? "import mup\nfrom pylo.optim import MuLO_naive" : "from pylo.optim import AdafacLO_naive")
            DIR = "\(dir.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"
            cfg = json.load(open(f"{DIR}/config.json"))
            constants = {k: cfg[k] for k in ("step_mult", "exp_mult", "momentum_decays", "rms_decays", "adafactor_decays",
                                             "initial_momentum_decays", "initial_rms_decays", "initial_adafactor_decays")}
            \(mu ? """
                # μP: s_W = 1/fan_in on hidden matrices, as MuLO trains. base_model is your model at width 1.
                mup.set_base_shapes(model, base_model)
                opt = MuLO_naive(model.parameters(), lr=1.0, hf_key=DIR, **constants)
                """ : "opt = AdafacLO_naive(model.parameters(), lr=1.0, hf_key=DIR, **constants)")
            """
    }

    static let μPParagraph = """
        **μP.** MuLO's μP tasks scale each hidden weight matrix's step by s_W = 1/fan_in. `MuLO_naive` takes the same
        factor from mup: with `mup.set_base_shapes(model, base_model)` and a base model of width 1, a matrix whose two
        dimensions both grow with width gets `lr / width_mult` = 1/fan_in; input and output layers and biases get 1.
        Your model should be μP itself (mup's `MuReadout` and initialisation) as the meta-training tasks were.


        """

    static func readme(_ t: LOTheta, _ c: LOConfig, source: String) -> String {
        """
        # Learned optimizer exported by MuLO

        Source: `\(source)` — small_fc_lopt, \(c.parametrization == .mup ? "μP (μLO)" : "standard parametrization (SP LO)"), \
        step_mult \(c.stepMult), exp_mult \(c.expMult).

        - `model.safetensors`: PyLO's `MetaMLP` weights in PyTorch's [out, in] layout.
        - `config.json`: `MetaMLP`'s arguments (`input_size` 39, `hidden_size` \(t.hiddenSize), `hidden_layers` 1), then every
          constant of the optimizer under the keyword names of PyLO's optimizer constructors: `step_mult`, `exp_mult`, the
          seven meta-learned decay offsets (`momentum_decays`, `rms_decays`, `adafactor_decays`) and their bases
          (`initial_…`). PyLO's loader ignores the extra keys; its optimizer does **not** read them — pass them, or it
          silently uses its own defaults.
        - `\(sidecarName)`: the same constants in MuLO's names, with the checksum of `model.safetensors` (`mulo import`).

        ## With PyTorch and PyLO

        ```python
        \(pyloSnippet(c, dir: "path/to/this/directory"))
        ```

        \(c.parametrization == .mup ? μPParagraph : "")**Square matrices.** The factored (Adafactor) accumulators are taken over the two largest axes, ties going to the
        later axis. MuLO and the JAX reference apply the rule to the logical [fan_in, fan_out] shape; PyLO applies it to
        PyTorch's [out, in] weight, so on square matrices the two swap rows and columns (identical for every other
        shape). Measured with `mulo_lo.py` (`axis_rule="pylo"` vs `"mulo"`) on a 64×64 hidden matrix: the displacement
        after 6 steps differs by 6% of its norm.

        ## Without PyLO

        `notebooks-export/mulo_lo.py` in MuLO's repository applies this directory with NumPy alone, exactly as MuLO does
        (tested against `mulo` to 1e-6 on tensors of rank 0–4):

        ```python
        from mulo_lo import LearnedOptimizer
        opt = LearnedOptimizer("path/to/this/directory")
        state = opt.init([p.shape for p in params])    # params: float32 arrays, matrices as [fan_in, fan_out]
        opt.update(params, grads, state, scales)      # in place; scales: s_W per tensor (1/fan_in on μP hidden matrices)
        ```

        Decays are stored as offsets θ_d: β = 1 − (1 − β0)·exp(10·θ_d) with β0 = \(c.baseMomentumDecays) (momentum),
        \(c.baseRMSDecays) (rms), \(c.baseAdafactorDecays) (Adafactor). `mulo import` reads this directory back.
        """
    }

    /// Reads a PyLO-layout directory: strict safetensors validation, transposition back to [in, out],
    /// decays from the sidecar when present, else the shipped defaults (METHOD §7.3).
    public static func importPyLO(_ dir: String) throws -> (theta: LOTheta, config: LOConfig, decaysFrom: String?) {
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        guard let configData = FileManager.default.contents(atPath: path("config.json")) else {
            throw LOError("\(dir): no config.json")
        }
        let cfg = try StrictJSON(configData, source: "\(dir)/config.json")
        let (inSize, hidden, layers) = (try cfg.required("input_size", cfg.int), try cfg.required("hidden_size", cfg.int),
                                        try cfg.required("hidden_layers", cfg.int))
        guard inSize == 39, layers == 1, (1...4096).contains(hidden) else {
            throw LOError("\(dir)/config.json: input_size \(inSize), hidden_layers \(layers), hidden_size \(hidden) — small_fc_lopt needs 39, 1 and 1…4096")
        }
        guard let bytes = FileManager.default.contents(atPath: path("model.safetensors")) else {
            throw LOError("\(dir): no model.safetensors")
        }
        let sideData = FileManager.default.contents(atPath: path(sidecarName))
        let side = try sideData.map { try StrictJSON($0, source: "\(dir)/\(sidecarName)") }
        if let side { try ExportChecksum.verify([UInt8](bytes), key: crcKey, in: side, file: "\(dir)/model.safetensors") }
        let tensors: [String: Tensor]
        do { tensors = try SafeTensors.decode([UInt8](bytes), expect: pyloShapes(hidden: hidden)).tensors } catch {
            throw LOError("\(dir)/model.safetensors: \(error)")
        }
        var ts = LOTheta.shapes(hidden: hidden).map { Tensor(zeros: $0) }
        for (name, k) in pyloNames { ts[k] = tensors[name]!.rank == 2 ? transpose(tensors[name]!) : tensors[name]! }
        var config = LOConfig.mu
        config.hiddenSize = hidden
        // The constants: from the sidecar, else from config.json (exports since it carries them),
        // else PyLO's defaults, which are the shipped decays (METHOD §7.3).
        var decaysFrom: String?
        let configCarries = try cfg.string("parametrization") != nil
        if let (s, file, base) = side.map({ ($0, sidecarName, "base_") }) ?? (configCarries ? (cfg, "config.json", "initial_") : nil) {
            (ts[0].data, ts[1].data, ts[2].data) = (try s.required("momentum_decays") { try s.floats($0, count: 3) },
                                                    try s.required("rms_decays") { try s.floats($0, count: 1) },
                                                    try s.required("adafactor_decays") { try s.floats($0, count: 3) })
            if let p = try s.string("parametrization") {
                guard let v = Parametrization(rawValue: p) else { throw LOError("\(dir)/\(file): parametrization '\(p)' is neither mu nor sp") }
                config = LOConfig(parametrization: v, hiddenSize: hidden)
            }
            if let v = try s.float("step_mult") { config.stepMult = v }
            if let v = try s.float("exp_mult") { config.expMult = v }
            if let h = try s.int("hidden_size"), h != hidden {
                throw LOError("\(dir)/\(file): hidden_size \(h) differs from config.json's \(hidden)")
            }
            if let v = try s.floats("\(base)momentum_decays", count: 3) { config.baseMomentumDecays = v }
            if let v = try s.floats("\(base)rms_decays", count: 1) { config.baseRMSDecays = v }
            if let v = try s.floats("\(base)adafactor_decays", count: 3) { config.baseAdafactorDecays = v }
            decaysFrom = file
        } else {
            (ts[0].data, ts[1].data, ts[2].data) = shippedDecays
        }
        // What a θ file must satisfy, an import must too.
        do {
            try config.validate()
            try LOCheckpoint.check(MetaParameters(ts), of: SmallFCLOpt(config))
        } catch let e as LOError { throw LOError("\(dir): \(e.message)") }
        return (try LOTheta(tensors: ts), config, decaysFrom)
    }
}

extension LOExport {
    /// The probe's tensor shapes: every rank, a square matrix (where the factored-axis rule decides),
    /// a non-square one in both orientations, with μP-like scales on the matrices.
    static let probeShapes: [[Int]] = [[], [7], [6, 4], [4, 6], [5, 5], [2, 3, 5], [2, 3, 4, 4]]
    static let probeSteps = 4

    /// Whole optimizer steps of the reference path on random tensors, for implementations of the
    /// complete update (notebooks-export/mulo_lo.py is tested against them).
    static func writeProbeSteps(_ theta: LOTheta, config: LOConfig, to f: HDF5File, seed: UInt64) throws {
        let key = RNGKey(seed: seed).split(2)
        func random(_ shape: [Int], _ k: RNGKey, std: Float) -> Tensor {
            var t = Tensor(zeros: shape)
            k.fillNormal(&t.data, std: std)
            return t
        }
        var params = probeShapes.enumerated().map { random($1, key.split(UInt64($0)), std: 0.5) }
        let scales: [Float] = probeShapes.map { $0.count == 2 ? 1 / Float($0[0]) : 1 }
        try f.write("steps/scales", shape: [scales.count], scales)
        for (i, t) in params.enumerated() { try f.write("steps/params/init/\(i)", t) }
        let optimizer = LearnedOptimizer(theta: theta, config: config, implementation: .reference)
        var state = optimizer.initialState(for: params)
        for step in 0..<probeSteps {
            let grads = probeShapes.enumerated().map { random($1, key.split(100 + UInt64(step)).split(UInt64($0)), std: 0.1) }
            optimizer.update(&params, grads: grads, scales: scales, state: &state, context: StepContext(step: step, totalSteps: probeSteps, loss: 0))
            for i in params.indices {
                try f.write("steps/grads/\(step)/\(i)", grads[i])
                try f.write("steps/params/\(step)/\(i)", params[i])
            }
        }
    }

    /// probe.h5: `features` [n, 39] (normalised-feature-like values and time features) and
    /// MuLO's MLP `outputs` [n, 2] = (d, m) for them, with θ under `theta/`, so another
    /// implementation of the MLP can be checked against MuLO's.
    public static func writeProbe(_ theta: LOTheta, config: LOConfig, to path: String, count n: Int = 256, seed: UInt64 = 0) throws {
        var x = [Float](repeating: 0, count: n * 39)
        RNGKey(seed: seed).fillNormal(&x)
        for r in 0..<n {
            let t = timeFeatures(step: Int32(RNGKey(seed: seed).split(1).integer(below: 20_000, at: UInt64(r))))
            for k in 0..<11 { x[r * 39 + 28 + k] = t[k] }
        }
        var out = [Float](repeating: 0, count: n * 2)
        for r in 0..<n {
            let row = Array(x[(r * 39)..<((r + 1) * 39)])
            let z1 = ReferenceLOStep.dense(row, theta.w0, theta.b0, relu: true)
            let z2 = ReferenceLOStep.dense(z1, theta.w1, theta.b1, relu: true)
            let o = ReferenceLOStep.dense(z2, theta.w2, theta.b2, relu: false)
            (out[2 * r], out[2 * r + 1]) = (o[0], o[1])
        }
        let f = try HDF5File.create(path)
        try f.write("features", shape: [n, 39], x)
        try f.write("outputs", shape: [n, 2], out)
        try writeProbeSteps(theta, config: config, to: f, seed: seed)
        try LOCheckpoint.writeTheta(theta.parameters, of: SmallFCLOpt(config), to: f)
        try f.setAttribute("kind", "mulo-lo-probe")
        try f.setAttribute("steps_description", "steps/: whole optimizer steps of MuLO's reference path on tensors of rank 0–4 (a square matrix among them): params/init/<i>, then per step t grads/<t>/<i> and params/<t>/<i> after it; scales are the per-tensor s_W")
        try f.setAttribute("description", "outputs[i] = (d, m) = MLP(features[i]) with z1 = relu(x·w0 + b0), z2 = relu(z1·w1 + b1), (d, m) = z2·w2 + b2")
        try f.commit()
    }
}
