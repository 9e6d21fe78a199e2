import Foundation

/// Checks the transformer tasks against `shared/golden/transformer_tasks.h5` (its README):
/// logits and loss within 1e-5 absolute, each gradient within 1e-4·max|g_ref| + 1e-7 absolute
/// (the README's suggestion: some gradients are exactly 0 in exact arithmetic and stored as
/// rounding noise), and the μP step scales exactly.
extension ReferenceChecker {
    public static let languageModelGroups = ["lm_sp", "lm_mu", "lm_sp_attn"]

    /// One golden language model: the config from the group's attributes, parameters, batch, and every expected output.
    public static func checkLanguageModel(_ file: HDF5File, group g: String) throws -> [ReferenceCheck] {
        let p = try file.attributeString("parametrization", on: g)
        guard let parametrization = Parametrization(rawValue: p) else {
            throw HDF5Error(file: file.path, object: g, message: "parametrization '\(p)' is neither mu nor sp")
        }
        let config = TransformerLMConfig(width: try file.attributeInt("width", on: g), depth: try file.attributeInt("depth", on: g),
                                         heads: try file.attributeInt("heads", on: g), vocab: try file.attributeInt("vocab", on: g),
                                         seqLen: try file.attributeInt("seq_len", on: g), parametrization: parametrization,
                                         dropout: Float(try file.attributeDouble("dropout_rate", on: g)))
        let specs = config.parameterSpecs
        let names = try file.attributeStrings("param_names", on: g)
        guard names == specs.map(\.name) else {
            throw HDF5Error(file: file.path, object: g, message: "parameters \(names) are not MuLO's \(specs.map(\.name))")
        }
        let params = try specs.map { try file.readTensor("\(g)/params/\($0.name)", expectShape: $0.shape) }
        let (shape, ids) = try file.read("\(g)/inputs", as: Int32.self)
        let targets = try file.read("\(g)/labels", as: Int32.self, expectShape: shape).values
        guard shape.count == 2, shape[1] == config.seqLen else {
            throw HDF5Error(file: file.path, object: "\(g)/inputs", message: "shape \(shape), expected [B, \(config.seqLen)]")
        }
        let model = TransformerLMModel(config: config)
        let batch = Batch(tokens: ids, targets: targets, sequenceLength: config.seqLen)
        let ws = model.makeWorkspace(batchSize: batch.size)
        var grads = specs.map { Tensor(zeros: $0.shape) }
        let loss = model.lossAndGradient(params, batch: batch, grads: &grads, workspace: ws)
        let tol = taskTolerance
        var checks = [
            ReferenceCheck(name: "\(g)/logits", ours: model.logits(ws, batchSize: batch.size),
                           reference: try file.readTensor("\(g)/expected/logits", expectShape: shape + [config.vocab]).data,
                           tolerance: tol, absolute: true),
            ReferenceCheck(name: "\(g)/loss", ours: [loss], reference: [try file.readScalar("\(g)/expected/loss", as: Float.self)],
                           tolerance: tol, absolute: true),
        ]
        for (spec, grad) in zip(specs, grads) {
            let ref = try file.readTensor("\(g)/expected/grads/\(spec.name)", expectShape: spec.shape).data
            let scale = ref.reduce(0) { max($0, abs($1)) }
            checks.append(ReferenceCheck(name: "\(g)/grads/\(spec.name)", ours: grad.data, reference: ref,
                                         tolerance: 1e-4 * scale + 1e-7, absolute: true))
        }
        for spec in specs {
            checks.append(ReferenceCheck(name: "\(g)/lr_scale/\(spec.name)", ours: [spec.updateScale],
                                         reference: [try file.readScalar("\(g)/lr_scale/\(spec.name)", as: Float.self)],
                                         tolerance: 0, absolute: true))
        }
        return checks
    }
}
