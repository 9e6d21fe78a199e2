import Foundation

/// VeLO and μVeLO θ in PyLO's layout (VELO §8): `VeLO_RNN/` (the per-tensor network, torch
/// [out, in] weights) and `VeLO_MLP/` (the bank as [P, out, in], plus the scratch buffers PyLO
/// overwrites before use), each with the `config.json` of its constructor arguments, and
/// `mulo_velo.json` with what PyLO's files do not hold (parametrization, interp_mult, RMS(p)).
/// NumPy and JSON exports hold θ's 33 leaves under their Haiku names. Import reverses the
/// PyLO layout bit-exactly.
public enum VeLOExport {
    public static let sidecarName = "mulo_velo.json"
    typealias Leaf = VeLOConfig.Leaf

    /// torch name → (θ leaf, transposed to [out, in]).
    static let rnnTensors: [(name: String, leaf: Int, transpose: Bool)] = [
        ("mix_layer1.weight", Leaf.deadw, true), ("mix_layer1.bias", Leaf.deadb, false),
        ("mix_layer2.weight", Leaf.mix1w, true), ("mix_layer2.bias", Leaf.mix1b, false),
        ("final_mix_layer.weight", Leaf.mix2w, true), ("final_mix_layer.bias", Leaf.mix2b, false),
        ("lstm.linear.weight", Leaf.lstmw, true), ("lstm.linear.bias", Leaf.lstmb, false),
        ("rnn_to_controls.weight", Leaf.controlsw, true), ("rnn_to_controls.bias", Leaf.controlsb, false),
        ("step_size.weight", Leaf.stepw, true), ("step_size.bias", Leaf.stepb, false),
        ("lstm_init_state.0", Leaf.initHidden, false), ("lstm_init_state.1", Leaf.initCell, false),
    ]

    /// [P, a, b] → [P, b, a], bank member by member.
    static func swapLastAxes(_ t: Tensor) -> Tensor {
        let (p, a, b) = (t.shape[0], t.shape[1], t.shape[2])
        var out = [Float](repeating: 0, count: t.count)
        for k in 0..<p { for i in 0..<a { for j in 0..<b { out[(k * b + j) * a + i] = t.data[(k * a + i) * b + j] } } }
        return Tensor(shape: [p, b, a], data: out)
    }

    static func transpose(_ t: Tensor) -> Tensor { swapLastAxes(t.reshaped([1] + t.shape)).reshaped([t.shape[1], t.shape[0]]) }

    /// The 14 first-layer groups stacked in numeric order: [P, 30, F].
    static func stackedW0(_ theta: MetaParameters, _ c: VeLOConfig) -> Tensor {
        let (P, F) = (c.paramInits, VeLOConfig.ffHidden)
        var out: [Float] = []
        for k in 0..<P {
            for g in 0..<14 {
                let t = theta.tensors[Leaf.w0(g)], rows = VeLOConfig.groupWidths[g]
                out += t.data[(k * rows * F)..<((k + 1) * rows * F)]
            }
        }
        return Tensor(shape: [P, VeLOConfig.features, F], data: out)
    }

    static func mlpTensors(_ theta: MetaParameters, _ c: VeLOConfig) -> [String: Tensor] {
        let F = VeLOConfig.ffHidden, t = theta.tensors
        return ["input_weights_": swapLastAxes(stackedW0(theta, c)), "input_bias_": t[Leaf.b0],
                "hidden_weights_.0": swapLastAxes(t[Leaf.w1]), "hidden_bias_.0": t[Leaf.b1],
                "output_weights_": swapLastAxes(t[Leaf.w2]), "output_bias_": t[Leaf.b2],
                // Scratch buffers PyLO overwrites before every use (VELO §8.2).
                "input_weights": Tensor(zeros: [F, VeLOConfig.features]), "input_bias": Tensor(zeros: [F]),
                "hidden_weights.0": Tensor(zeros: [F, F]), "hidden_bias.0": Tensor(zeros: [F]),
                "output_weights": Tensor(zeros: [3, F]), "output_bias": Tensor(zeros: [3])]
    }

    public static func write(_ theta: MetaParameters, of velo: VeLO, format: LOExport.Format, to dir: String,
                             source: String) throws -> [String] {
        let c = velo.config
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let named = Array(zip(c.thetaNames, theta.tensors))
        switch format {
        case .pylo:
            for sub in ["VeLO_RNN", "VeLO_MLP"] { try FileManager.default.createDirectory(atPath: path(sub), withIntermediateDirectories: true) }
            var rnn: [String: Tensor] = [:]
            for (name, leaf, flip) in rnnTensors { rnn[name] = flip ? transpose(theta.tensors[leaf]) : theta.tensors[leaf] }
            let (rnnBytes, mlpBytes) = (SafeTensors.encode(rnn, metadata: ["format": "pt"]), SafeTensors.encode(mlpTensors(theta, c), metadata: ["format": "pt"]))
            try AtomicFile.write(Data(rnnBytes), to: path("VeLO_RNN/model.safetensors"))
            try AtomicFile.write(Data("{\n  \"input_size\": 30,\n  \"lstm_hidden_size\": \(c.lstmHidden),\n  \"param_inits\": \(c.paramInits),\n  \"mix_layers\": true\n}".utf8),
                                 to: path("VeLO_RNN/config.json"))
            try AtomicFile.write(Data(mlpBytes), to: path("VeLO_MLP/model.safetensors"))
            try AtomicFile.write(Data("{\n  \"param_inits\": \(c.paramInits),\n  \"input_size\": 30,\n  \"hidden_size\": \(VeLOConfig.ffHidden),\n  \"hidden_layers\": 1,\n  \"output_size\": 3\n}".utf8),
                                 to: path("VeLO_MLP/config.json"))
            let checksums = [ExportChecksum.field(crcKeys.rnn, rnnBytes), ExportChecksum.field(crcKeys.mlp, mlpBytes)]
            try AtomicFile.write(Data(sidecar(c, source: source, checksums: checksums).utf8), to: path(sidecarName))
            return ["VeLO_RNN/config.json", "VeLO_RNN/model.safetensors", "VeLO_MLP/config.json", "VeLO_MLP/model.safetensors",
                    sidecarName].map(path)
        case .npz:
            try AtomicFile.write(Data(NPZ.encode(named)), to: path("theta.npz"))
            try AtomicFile.write(Data(sidecar(c, source: source).utf8), to: path(sidecarName))
            return [path("theta.npz"), path(sidecarName)]
        case .json:
            let leaves = named.map { "    \(SafeTensors.quote($0)): \(LOExport.nested($1))" }.joined(separator: ",\n")
            try AtomicFile.write(Data("{\n  \"settings\": \(sidecar(c, source: source).trimmingCharacters(in: .whitespacesAndNewlines)),\n  \"theta\": {\n\(leaves)\n  }\n}\n".utf8),
                                 to: path("theta.json"))
            return [path("theta.json")]
        case .h5:
            try LOExport.writeShippable(theta, of: velo, source: source, to: path("theta.h5"))
            return [path("theta.h5")]
        }
    }

    /// The sidecar keys of the two safetensors files' CRC-32.
    static let crcKeys = (rnn: "rnn_safetensors_crc32", mlp: "mlp_safetensors_crc32")

    static func sidecar(_ c: VeLOConfig, source: String, checksums: [String] = []) -> String {
        """
        {\(checksums.map { "\n\($0)," }.joined())
          "format": "mulo-velo-theta",
          "source": \(SafeTensors.quote(source)),
          "parametrization": "\(c.parametrization.rawValue)",
          "lstm_hidden_size": \(c.lstmHidden),
          "param_inits": \(c.paramInits),
          "interp_mult": \(LOExport.num(c.interpMult)),
          "param_scale_mult": \(c.paramScaleMult),
          "step_mult": \(LOExport.num(c.stepMult)),
          "exp_mult": \(LOExport.num(c.expMult)),
          "note": "PyLO runs VeLO with lr = 1.0; it hard-codes interp_mult 100 and RMS(p) and ignores s_W, so a μVeLO loads but does not run as μVeLO there"
        }

        """
    }

    /// θ and its configuration from a PyLO-layout directory written by `write(format: .pylo)`
    /// (or PyLO's own files with this sidecar beside them).
    public static func importPyLO(_ dir: String) throws -> (theta: MetaParameters, velo: VeLO) {
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        guard let side = FileManager.default.contents(atPath: path(sidecarName)) else {
            throw LOError("\(dir): no \(sidecarName) (it names the parametrization and sizes PyLO's files do not hold)")
        }
        let s = try StrictJSON(side, source: "\(dir)/\(sidecarName)")
        let name = try s.required("parametrization", s.string)
        guard let p = Parametrization(rawValue: name) else { throw LOError("\(dir)/\(sidecarName): parametrization '\(name)' is neither mu nor sp") }
        let c = VeLOConfig(parametrization: p, lstmHidden: try s.required("lstm_hidden_size", s.int), paramInits: try s.required("param_inits", s.int),
                           interpMult: try s.required("interp_mult", s.float), paramScaleMult: try s.required("param_scale_mult", s.bool),
                           stepMult: try s.required("step_mult", s.float), expMult: try s.required("exp_mult", s.float))
        try c.validate()
        let shapes = c.thetaShapes
        func read(_ file: String, crcKey: String, expect: [String: [Int]]) throws -> [String: Tensor] {
            guard let bytes = FileManager.default.contents(atPath: path(file)) else { throw LOError("\(dir): no \(file)") }
            try ExportChecksum.verify([UInt8](bytes), key: crcKey, in: s, file: path(file))
            return try SafeTensors.decode([UInt8](bytes), expect: expect).tensors
        }
        let rnn = try read("VeLO_RNN/model.safetensors", crcKey: crcKeys.rnn, expect: Dictionary(uniqueKeysWithValues: rnnTensors.map { name, leaf, flip in
            (name, flip ? [shapes[leaf][1], shapes[leaf][0]] : shapes[leaf])
        }))
        let mlpExpect = mlpTensors(c.initialTheta(key: RNGKey(seed: 0)), c).mapValues(\.shape)
        let mlp = try read("VeLO_MLP/model.safetensors", crcKey: crcKeys.mlp, expect: mlpExpect)
        var tensors = shapes.map { Tensor(zeros: $0) }
        for (name, leaf, flip) in rnnTensors { tensors[leaf] = flip ? transpose(rnn[name]!) : rnn[name]! }
        let (P, F) = (c.paramInits, VeLOConfig.ffHidden)
        let w0 = swapLastAxes(mlp["input_weights_"]!)  // [P, 30, F]
        var row = 0
        for g in 0..<14 {
            let rows = VeLOConfig.groupWidths[g]
            var data: [Float] = []
            for k in 0..<P { data += w0.data[((k * VeLOConfig.features + row) * F)..<((k * VeLOConfig.features + row + rows) * F)] }
            tensors[Leaf.w0(g)] = Tensor(shape: [P, rows, F], data: data)
            row += rows
        }
        (tensors[Leaf.b0], tensors[Leaf.b1], tensors[Leaf.b2]) = (mlp["input_bias_"]!, mlp["hidden_bias_.0"]!, mlp["output_bias_"]!)
        (tensors[Leaf.w1], tensors[Leaf.w2]) = (swapLastAxes(mlp["hidden_weights_.0"]!), swapLastAxes(mlp["output_weights_"]!))
        let theta = MetaParameters(tensors)
        do { try LOCheckpoint.check(theta, of: VeLO(c)) } catch let e as LOError { throw LOError("\(dir): \(e.message)") }
        return (theta, VeLO(c))
    }
}
